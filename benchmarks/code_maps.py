"""Two-dimensional maps of the MNIST test digits: a dense autoencoder with a two-unit code beside
the first two principal components of the pixels.

    python -m benchmarks.code_maps --data-dir ../shared/datasets --dataset mnist --epochs 5

Trains ``dense_autoencoder`` (its default hidden layers, ``--set code_size=2``) with its own
procedure (``fit_procedure``, the model's Adam rate) on the training split, encodes the test
split, and draws its codes beside the test images projected on the first two principal
components of their own pixels (:func:`keras_ae.visualize.pca_2d`), both coloured by digit.
How well each map keeps the digits apart is measured by leave-one-out 5-nearest-neighbour
accuracy on its 2-D points. Writes ``benchmarks/results/<out-name>.png`` and ``.json`` / ``.md``
(command, machine, date, wall time, figures).
"""

import argparse
import os
import time

import numpy as np

from benchmarks._common import RESULTS, command_line, machine, timestamp, write_results


def knn_accuracy(points, labels, k=5, chunk=1000):
    """Leave-one-out ``k``-nearest-neighbour accuracy (Euclidean, majority vote, ties to the
    smallest label) of 2-D ``points``."""
    points, labels = np.asarray(points, np.float64), np.asarray(labels)
    classes = int(labels.max()) + 1
    hits = 0
    for start in range(0, len(points), chunk):
        block = points[start: start + chunk]
        dist = ((block[:, None, :] - points[None, :, :]) ** 2).sum(-1)
        dist[np.arange(len(block)), start + np.arange(len(block))] = np.inf  # not itself
        nearest = np.argpartition(dist, k, axis=1)[:, :k]
        votes = np.zeros((len(block), classes), int)
        np.add.at(votes, (np.arange(len(block))[:, None], labels[nearest]), 1)
        hits += int((votes.argmax(1) == labels[start: start + chunk]).sum())
    return hits / len(points)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--limit", type=int, default=None, help="training images (default all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-name", default="code_maps")
    args = parser.parse_args(argv)
    where, started = machine(), time.time()

    import keras

    from keras_ae import models, visualize
    from keras_ae.data import load_arrays, make_dataset, to_float_images

    x_train, y_train = load_arrays(args.dataset, "train", data_dir=args.data_dir)
    x_test, y_test = load_arrays(args.dataset, "test", data_dir=args.data_dir)
    x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_train, x_test = to_float_images(x_train), to_float_images(x_test)
    keras.utils.set_random_seed(args.seed)
    model = models.build("dense_autoencoder", input_shape=list(x_train.shape[1:]), code_size=2)
    train = make_dataset(x_train, y_train, batch_size=args.batch_size, seed=args.seed)
    fit_start = time.time()
    history = model.fit_procedure(train, args.epochs, verbose=2)
    train_seconds = time.time() - fit_start

    codes = model.encode(x_test)
    pca, share = visualize.pca_2d(x_test)
    mse = float(np.mean((model.reconstruct(x_test) - x_test) ** 2))
    figures = {"autoencoder": {"knn5_accuracy": knn_accuracy(codes, y_test),
                               "test_reconstruction_mse": mse},
               "pca": {"knn5_accuracy": knn_accuracy(pca, y_test), "variance_share": share}}
    png = os.path.join(RESULTS, f"{args.out_name}.png")
    visualize.save_code_maps(
        [(f"dense_autoencoder codes\n(code size 2, {args.epochs} epochs)", codes),
         (f"PCA of the pixels, 2 components\n({100 * share:.0f} % of the variance)", pca)],
        y_test, png, title=f"{len(x_test):,} {args.dataset} test images, coloured by label")
    record = {"benchmark": "2-D code maps", "command": command_line(), "machine": where,
              "date": timestamp(), "backend": keras.backend.backend(), "dataset": args.dataset,
              "model": "dense_autoencoder", "config": model.get_config(), "epochs": args.epochs,
              "train_examples": int(len(x_train)), "test_examples": int(len(x_test)),
              "train_seconds": round(train_seconds, 1),
              "wall_seconds": round(time.time() - started, 1),
              "final_train_loss": history["loss"][-1], "figures": figures,
              "picture": os.path.relpath(png, os.path.dirname(os.path.dirname(RESULTS)))}
    ae, pc = figures["autoencoder"], figures["pca"]
    markdown = "\n".join([
        f"{len(x_test):,} {args.dataset} test images on two axes, coloured by digit: a "
        f"`dense_autoencoder` with code size 2 ({args.epochs} epochs on {len(x_train):,} "
        f"training images, {record['backend']}) beside the first two principal components of "
        f"the test pixels. Leave-one-out 5-nearest-neighbour accuracy on each map says how "
        f"well it keeps the digits apart.", "",
        "| map | 5-NN accuracy | note |", "| --- | ---: | --- |",
        f"| autoencoder codes | {100 * ae['knn5_accuracy']:.1f} % | test reconstruction MSE "
        f"{ae['test_reconstruction_mse']:.4f} |",
        f"| PCA, 2 components | {100 * pc['knn5_accuracy']:.1f} % | {100 * share:.1f} % of the "
        f"pixel variance |", "",
        f"Command: `{record['command']}` ({where}, {record['date']}; "
        f"{record['wall_seconds']:.0f} s wall, {record['train_seconds']:.0f} s training).", "",
        f"![code maps]({record['picture']})", ""])
    write_results(args.out_name, record, markdown)


if __name__ == "__main__":
    main()
