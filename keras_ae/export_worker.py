"""The TensorFlow-backend subprocess that exports a ``.keras`` file as a SavedModel (Keras
cannot export from PyTorch): ``python -m keras_ae.export_worker FILE PATH``. A program of its
own, above the models it loads."""

import argparse
import os

os.environ["KERAS_BACKEND"] = "tensorflow"

import keras  # noqa: E402

import keras_ae.models  # noqa: E402,F401  (registers the zoo's classes before loading)
from keras_ae.export import _write  # noqa: E402


def main(argv=None):
    """Subprocess entry: export a ``.keras`` file (used from the PyTorch backend)."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("keras_file")
    parser.add_argument("path")
    parser.add_argument("--input-name", default="images")
    parser.add_argument("--output-name", default="code")
    args = parser.parse_args(argv)
    model = keras.saving.load_model(args.keras_file, compile=False)
    _write(model, args.path, args.input_name, args.output_name)


if __name__ == "__main__":
    main()
