"""Trains the shipped presets (``keras_ae/models/presets/<name>/``) and writes them whole.

    KERAS_BACKEND=tensorflow python -m benchmarks.presets --data-dir ../shared/datasets \\
        --dataset mnist [--presets NAME ...] [--out-dir DIR]

Each preset is one ``keras-ae train`` run through the CLI's own code path (the quality floor's
``train_and_measure``: same data loading, same test MSE, the same 1,000-label linear probe),
then :func:`keras_ae.models.save_preset` with the run's command, data, procedure, machine, time
and test figures. The configurations are short (a few epochs on the 2-core CPU these were made
on), not the paper-protocol runs of the models table: each card says what was run.
"""

import argparse
import os
import shlex
import sys
import tempfile

from benchmarks._common import machine, timestamp
from benchmarks.quality_floor import train_and_measure, train_argv

#: name -> (registered model, epochs, training-image limit or None, `--set` overrides, more
#: `keras-ae train` flags, one line for the card)
PRESETS = {
    "conv_autoencoder_mnist": ("conv_autoencoder", 3, None, (), (),
                               "Convolutional autoencoder (filters 32-64, max pooling, transposed "
                               "convolutions) trained on MNIST."),
    "fc_wta_mnist": ("fc_wta", 10, None, ("tied_weights=true",), (),
                     "Fully-connected winner-take-all autoencoder (2,000 units, 5 % lifetime "
                     "sparsity, tied weights) trained on MNIST."),
    "conv_wta_mnist": ("conv_wta", 2, 20000, (), (),
                       "Convolutional winner-take-all autoencoder (128-128 maps, spatial and "
                       "5 % lifetime sparsity) trained on 20,000 MNIST images."),
    "swwae_mnist": ("swwae", 3, None, (), ("--labels", "1000"),
                    "Stacked what-where autoencoder trained semi-supervised on MNIST: all 60,000 "
                    "images reconstructed, 1,000 of them labelled for its classifier."),
    "drsae_mnist": ("drsae", 10, None, (), (),
                    "Discriminative recurrent sparse autoencoder (400 units, 11 unrolled steps) "
                    "trained on MNIST: unsupervised, then with the classifier."),
    "mae_mnist": ("mae", 3, None, (), (),
                  "Masked autoencoder (ViT encoder on 4x4 patches, 75 % masked) trained on "
                  "MNIST; its encoder gives the mean token of all patches."),
}

#: the figures of a quality-floor row that a card shows, and their labels
METRICS = {"reconstruction_mse": "test reconstruction MSE",
           "probe_accuracy_percent": "linear-probe test accuracy %, 1,000 labels",
           "error_percent": "classifier test error %",
           "code_size": "code size (flattened features)"}


def train_command(model, epochs, limit, overrides, flags, data_dir, dataset):
    return shlex.join(["keras-ae", *train_argv(model, epochs, data_dir, dataset, limit,
                                                overrides, flags)])


def build(name, data_dir, dataset, out_dir):
    import keras

    from keras_ae import models

    model_name, epochs, limit, overrides, flags, description = PRESETS[name]
    where = machine()
    command = train_command(model_name, epochs, limit, overrides, flags, data_dir, dataset)
    saved = {}

    def save(model, row):
        metrics = {label: row[key] for key, label in METRICS.items() if row.get(key) is not None}
        training = {"command": f"KERAS_BACKEND={keras.backend.backend()} {command}",
                    "data": f"{dataset or 'shipped sample'}: {row['train_examples']} training, "
                            f"{row['test_examples']} test images",
                    "procedure": row["procedure"], "machine": where,
                    "train_seconds": row["train_seconds"],
                    "built_by": "python -m benchmarks.presets"}
        saved["metadata"] = models.save_preset(model, os.path.join(out_dir, name),
                                               description=description, training=training,
                                               metrics=metrics, overwrite=True)

    with tempfile.TemporaryDirectory() as tmp:
        train_and_measure(model_name, epochs, tmp, data_dir=data_dir, dataset=dataset,
                          limit=limit, overrides=overrides, cli_args=flags, on_model=save)
    return saved["metadata"]


def main(argv=None):
    from keras_ae.models.presets import BUILTIN_DIR

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", nargs="+", choices=sorted(PRESETS), default=sorted(PRESETS))
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--out-dir", default=BUILTIN_DIR,
                        help="where the preset folders go (default: the package's presets)")
    args = parser.parse_args(argv)
    print(f"{timestamp()}: building {', '.join(args.presets)} into {args.out_dir}")
    for name in args.presets:
        metadata = build(name, args.data_dir, args.dataset, args.out_dir)
        print(f"{timestamp()}: {name}: {metadata['metrics']}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
