"""Rebuilds the MNIST sample shipped inside the package.

    python -m keras_ae.data.make_sample /path/to/mnist-idx-folder [OUT_FOLDER]

Takes a class-balanced, seeded subset of the real MNIST files (500 training and 100 test
images per class) and writes it as gzipped IDX files into ``keras_ae/data/sample/``, so the
shipped sample is read by the same loader as any user folder (or into ``OUT_FOLDER``: the
same files elsewhere, e.g. to check that the shipped ones are what this script makes).
"""

import os
import sys

import numpy as np

from keras_ae.data.idx import read_image_label_pair, write_idx

TRAIN_PER_CLASS = 500
TEST_PER_CLASS = 100
SEED = 0


def balanced_indices(labels, per_class, seed):
    rng = np.random.default_rng(seed)
    picked = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False)
              for c in np.unique(labels)]
    return rng.permutation(np.concatenate(picked))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) not in (1, 2):
        sys.exit("usage: python -m keras_ae.data.make_sample MNIST_IDX_FOLDER [OUT_FOLDER]")
    src = argv[0]
    out = argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(__file__), "sample")
    os.makedirs(out, exist_ok=True)
    for prefix, per_class in (("train", TRAIN_PER_CLASS), ("t10k", TEST_PER_CLASS)):
        images, labels = read_image_label_pair(
            os.path.join(src, f"{prefix}-images-idx3-ubyte.gz"),
            os.path.join(src, f"{prefix}-labels-idx1-ubyte.gz"),
        )
        idx = balanced_indices(labels, per_class, SEED)
        write_idx(os.path.join(out, f"{prefix}-images-idx3-ubyte.gz"), images[idx])
        write_idx(os.path.join(out, f"{prefix}-labels-idx1-ubyte.gz"), labels[idx])
        print(f"{prefix}: {len(idx)} images, {per_class} per class")


if __name__ == "__main__":
    main()
