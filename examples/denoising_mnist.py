"""Denoising autoencoder: masking corruption in training, clean reconstructions at inference.

    python examples/denoising_mnist.py --noise masking --noise-level 0.5 --epochs 10
"""

import argparse
import os

import keras
import numpy as np

import keras_ae
from keras_ae import visualize
from keras_ae.layers import MaskingNoise


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--noise", choices=["masking", "gaussian"], default="masking")
    parser.add_argument("--noise-level", type=float, default=0.5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--out", default="runs/denoising")
    args = parser.parse_args()

    x_train, _ = keras_ae.data.load_arrays(None, "train", data_dir=args.data_dir)
    x_test, _ = keras_ae.data.load_arrays(None, "test", data_dir=args.data_dir)
    x_train, x_test = keras_ae.data.to_float_images(x_train), keras_ae.data.to_float_images(x_test)

    model = keras_ae.models.build("denoising_autoencoder", hidden_units=[512, 256], code_size=64,
                                  noise=args.noise, noise_level=args.noise_level)
    model.compile()
    model.fit(x_train, x_train, validation_data=(x_test, x_test), epochs=args.epochs, batch_size=128)

    corrupt = (MaskingNoise(args.noise_level, seed=0) if args.noise == "masking"
               else keras.layers.GaussianNoise(args.noise_level, seed=0))
    noisy = np.clip(keras.ops.convert_to_numpy(corrupt(x_test[:16], training=True)), 0, 1)
    os.makedirs(args.out, exist_ok=True)
    print("wrote", visualize.save_reconstructions(
        x_test[:16], [noisy, model.reconstruct(noisy)], os.path.join(args.out, "denoised.png"),
        row_titles=["clean", "corrupted", "denoised"]))


if __name__ == "__main__":
    main()
