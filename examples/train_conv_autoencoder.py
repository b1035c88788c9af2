"""Train the convolutional autoencoder with model.fit on a tf.data pipeline, then export its encoder.

    python examples/train_conv_autoencoder.py --epochs 5 --out runs/conv_ae
    KERAS_BACKEND=jax python examples/train_conv_autoencoder.py --data-dir ../shared/datasets

What a user script looks like: data from ``keras_ae.data.load`` (the shipped sample, a TFDS name,
or a folder of IDX files), a model from the registry, ``fit``, pictures, and a SavedModel of the
encoder for TF Serving.
"""

import argparse
import os

import keras
import numpy as np

import keras_ae
from keras_ae import visualize
from keras_ae.export import export_saved_model


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None, help="IDX folder (default: $KERAS_AE_DATA_DIR or the sample)")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", default="runs/conv_ae")
    args = parser.parse_args()

    def load(split):
        return keras_ae.data.load(None, split, batch_size=args.batch_size, target="image",
                                  data_dir=args.data_dir)

    # Per-epoch validation on held-out training images; the test split is read once, at the end.
    train, val, test = load("train[:90%]"), load("train[90%:]"), load("test")

    model = keras_ae.models.build("conv_autoencoder", filters=[32, 64], decoder="transpose")
    model.compile()  # Adam(1e-3), binary cross-entropy for the sigmoid output, MSE as a metric
    model.fit(train, validation_data=val, epochs=args.epochs, shuffle=False)  # train shuffles
    print("test:", model.evaluate(test, return_dict=True, verbose=0))

    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "conv_autoencoder.keras"))
    x = np.concatenate([b[0] for b in test.take(1).as_numpy_iterator()])[:16]
    visualize.save_reconstructions(x, model.reconstruct(x), os.path.join(args.out, "reconstructions.png"))
    visualize.save_filters(keras.ops.convert_to_numpy(model.encoder.get_layer("conv_0").kernel),
                           os.path.join(args.out, "filters.png"), title="first-layer filters")
    export_saved_model(model.encoder, os.path.join(args.out, "encoder_savedmodel"), overwrite=True)
    print("wrote", sorted(os.listdir(args.out)))


if __name__ == "__main__":
    main()
