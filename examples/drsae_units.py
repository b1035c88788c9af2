"""DrSAE: train in two phases, classify, and draw its categorical and part units.

    python examples/drsae_units.py runs/drsae --epochs 4

Phase one learns a sparse code (reconstruction + L1), phase two adds the classifier's
cross-entropy, in one fit. Units that switch on late in the unrolled recurrence and respond to
one class are "categorical" (class prototypes); units driven by the input from the first step
are "part" units. Writes OUT/model.keras, OUT/prototypes.png, OUT/part_units.png and
OUT/activity.png, and prints the test error.
"""

import argparse
import os

import numpy as np

import keras_ae


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder")
    parser.add_argument("--epochs", type=int, default=4, help="half unsupervised, half with labels")
    args = parser.parse_args(argv)

    x_train, y_train = keras_ae.data.load_arrays(None, "train")
    x_test, y_test = keras_ae.data.load_arrays(None, "test")
    model = keras_ae.models.build("drsae", input_shape=list(x_train.shape[1:]))
    print(model.procedure(args.epochs)["description"])
    model.fit_procedure(keras_ae.data.make_dataset(x_train, y_train, batch_size=128), args.epochs)

    x = keras_ae.data.to_float_images(x_test)
    print(f"test error: {100 * np.mean(model.classify(x) != y_test):.2f} %")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.keras"))
    pictures = model.save_analysis(x[:2000], y_test[:2000], args.out)
    print("wrote", sorted(pictures["files"]), "skipped", pictures["skipped"])


if __name__ == "__main__":
    main()
