"""A dense autoencoder with a 2-D code, and the picture of its codes coloured by digit.

    python examples/dense_codes_2d.py --epochs 10 --out runs/codes_2d
"""

import argparse
import os

import keras_ae
from keras_ae import visualize


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="runs/codes_2d")
    args = parser.parse_args()

    x_train, _ = keras_ae.data.load_arrays(None, "train", data_dir=args.data_dir)
    x_test, y_test = keras_ae.data.load_arrays(None, "test", data_dir=args.data_dir)
    x_train, x_test = keras_ae.data.to_float_images(x_train), keras_ae.data.to_float_images(x_test)

    model = keras_ae.models.build("dense_autoencoder", hidden_units=[512, 128], code_size=2)
    model.compile()
    model.fit(x_train, x_train, validation_data=(x_test, x_test), epochs=args.epochs, batch_size=128)
    codes = model.encode(x_test)
    os.makedirs(args.out, exist_ok=True)
    print("wrote", visualize.save_codes_2d(codes, y_test, os.path.join(args.out, "codes_2d.png"),
                                           title="2-D codes of test digits"))
    print("wrote", visualize.save_reconstructions(x_test[:16], model.reconstruct(x_test[:16]),
                                                  os.path.join(args.out, "reconstructions.png")))


if __name__ == "__main__":
    main()
