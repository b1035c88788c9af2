"""Train an autoencoder with model.fit on a tf.data pipeline, then export its encoder.

    python examples/train_and_export.py runs/conv --epochs 3
    KERAS_BACKEND=jax python examples/train_and_export.py runs/dense --model dense_autoencoder

Data: the MNIST sample shipped in the package, or $KERAS_AE_DATA_DIR (a folder of IDX files).
Writes OUT/model.keras, OUT/reconstructions.png and OUT/encoder_savedmodel/ (TF Serving).
"""

import argparse
import os

import numpy as np

import keras_ae


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder")
    parser.add_argument("--model", default="conv_autoencoder", help="a registry name")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)

    def load(split):  # (image, image) pairs, shuffled for training splits
        return keras_ae.data.load(None, split, batch_size=128, target="image")

    # per-epoch validation on held-out training images; the test split is read once, at the end
    train, val, test = load("train[:90%]"), load("train[90%:]"), load("test")
    model = keras_ae.models.build(args.model)
    model.compile()  # the model's defaults: Adam and its loss
    model.fit(train, validation_data=val, epochs=args.epochs, shuffle=False)  # train shuffles
    print("test:", model.evaluate(test, return_dict=True, verbose=0))

    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.keras"))
    images = np.concatenate([x for x, _ in test.take(1).as_numpy_iterator()])[:16]
    keras_ae.visualize.save_reconstructions(images, model.reconstruct(images),
                                            os.path.join(args.out, "reconstructions.png"))
    keras_ae.export.export_saved_model(model.encoder, os.path.join(args.out, "encoder_savedmodel"),
                                       overwrite=True)
    print("wrote", sorted(os.listdir(args.out)))


if __name__ == "__main__":
    main()
