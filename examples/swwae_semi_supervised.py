"""Semi-supervised SWWAE: a few labelled digits and many unlabelled ones, one model.fit.

    python examples/swwae_semi_supervised.py runs/swwae --labels 100 --epochs 3

Unlabelled examples carry the label -1: they add only the reconstruction terms, the labelled
ones also the classifier's cross-entropy. Half of each batch is labelled (the few labelled images
repeat), so 100 labels reach the classifier at every step. Writes OUT/model.keras and
OUT/reconstructions.png, and prints the test error.
"""

import argparse
import os

import numpy as np

import keras_ae


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder")
    parser.add_argument("--labels", type=int, default=100, help="labelled training images")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)

    images, labels = keras_ae.data.load_arrays(None, "train")
    test_images, test_labels = keras_ae.data.load_arrays(None, "test")
    train = keras_ae.data.semi_supervised_dataset(images, labels, args.labels, batch_size=128,
                                                  labelled_fraction=0.5)
    model = keras_ae.models.build("swwae", input_shape=list(images.shape[1:]),
                                  filters=[32, 64, 128], lambda_rec=50.0, lambda_m=10.0)
    model.compile()
    model.fit(train, epochs=args.epochs, steps_per_epoch=len(images) // 128,
              shuffle=False)  # the pipeline shuffles

    x = keras_ae.data.to_float_images(test_images)
    error = 100 * np.mean(model.predict_classes(x) != test_labels)
    print(f"test error with {args.labels} labels: {error:.2f} %")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.keras"))
    keras_ae.visualize.save_reconstructions(x[:16], model.reconstruct(x[:16]),
                                            os.path.join(args.out, "reconstructions.png"))


if __name__ == "__main__":
    main()
