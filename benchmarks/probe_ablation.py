"""Linear-probe settings compared on the features of one saved model.

Encodes MNIST once with a saved ``.keras`` zoo model (sparsity off, conv maps max-pooled as in
``examples/wta_mnist.py``; with ``--pool-sizes``, once per pooling window), then trains the probe
of ``keras_ae.evaluation`` with each learning-rate schedule and rate, for each labelled-set size,
and reports the test errors side by side, with the held-out error that chose the weight decay
(on a held-out sixth of the labels, or pooled over ``--folds`` cross-validation folds): the
number to choose settings by. The autoencoder is the same in
every row, so the differences are the probe's alone.

``--svm-c`` adds the paper's probe, a linear SVM (scikit-learn's ``LinearSVC``, one-vs-rest squared
hinge; scikit-learn is needed for these rows only), on the features divided by one number (their
standard deviation over all training features), its C chosen from the given values on the same
held-out labels as the softmax probe's weight decay.

    KERAS_BACKEND=tensorflow python benchmarks/probe_ablation.py \\
        --model-file benchmarks/results/wta_fc_40ep.keras --data-dir ../shared/datasets --tag fc_40ep

Writes ``results/probe_ablation_<tag>.json`` and ``.md``.
"""

import argparse
import itertools
import math
import os
import time

import keras
import numpy as np

from _common import command_line, machine, timestamp, write_results
from keras_ae import evaluation
from keras_ae.data import load_arrays, to_float_images


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-file", required=True, help="a saved .keras zoo model")
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ IDX files")
    p.add_argument("--labels", nargs="+", type=evaluation.label_argument,
                   default=["all", "1000", "100"])
    p.add_argument("--schedules", nargs="+", choices=evaluation.SCHEDULES,
                   default=list(evaluation.SCHEDULES))
    p.add_argument("--learning-rates", type=float, nargs="+", default=[1e-3])
    p.add_argument("--l2", type=evaluation.l2_argument, default="auto",
                   help="probe weight decay: a number, or 'auto' to choose it on held-out labels")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--folds", type=evaluation.folds_argument, default=1,
                   help="choose the weight decay / C on one held-out sixth of the labels (1) or "
                        "by k-fold cross-validation (k >= 2: k fits per candidate)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--svm-c", type=float, nargs="+", default=None, metavar="C",
                   help="also probe with a linear SVM, its C chosen from these on held-out labels "
                        "(needs scikit-learn)")
    p.add_argument("--pool-sizes", type=evaluation.pool_argument, nargs="+", default=["auto"],
                   help="conv models: max-pooling windows of the feature maps to compare "
                        "('auto' = about 4x4 regions, 'none' = full maps, or an int); compare "
                        "them by the held-out labels' error, not the test error")
    p.add_argument("--tag", required=True, help="output name: probe_ablation_<tag>.*")
    args = p.parse_args(argv)
    if not os.path.isfile(args.model_file):
        p.error(f"--model-file: no such file {args.model_file!r}")
    if args.svm_c is not None:
        if not all(math.isfinite(c) and c > 0 for c in args.svm_c):
            p.error(f"--svm-c: every C must be a finite number > 0, got {args.svm_c}")
        try:
            import sklearn.svm  # noqa: F401
        except ImportError:
            p.error("--svm-c needs scikit-learn: pip install scikit-learn")
    return args


def _validation_error(row):
    """The held-out labels' error of the chosen weight decay / C (None when nothing was chosen)."""
    selection = row.get("l2_selection") or row.get("svm_selection")
    return min(selection["validation_error"]) if selection else None


def svm_probe(train_features, train_labels, test_features, test_labels, num_labels, c_grid,
              seed, folds=1):
    """Linear-SVM probe: C chosen on a stratified held-out sixth of the labelled examples, or by
    k-fold cross-validation with ``folds=k`` (ties go to the smaller C, the stronger
    regularisation), then refitted on all of them."""
    from sklearn.svm import LinearSVC

    mask = evaluation.label_budget_mask(train_labels, num_labels, seed=seed)
    scale = float(train_features.std()) or 1.0  # all training features, labelled or not
    x, y = train_features[mask] / scale, train_labels[mask]
    x_test = test_features / scale

    def fit(index, c):
        return LinearSVC(C=c, dual="auto", max_iter=5000).fit(x[index], y[index])

    def error(clf, features, labels):
        return float(np.mean(clf.predict(features) != labels))

    selection = evaluation.choose_on_held_out(
        y, list(c_grid), lambda c, fit_index, val_index: error(fit(fit_index, c), x[val_index],
                                                               y[val_index]),
        folds=folds, seed=seed, tie_break=min)
    clf = fit(np.arange(len(y)), selection["chosen"])
    return {"test_error": error(clf, x_test, test_labels), "train_error": error(clf, x, y),
            "num_labels": int(mask.sum()), "svm_selection": selection}


def _probe_name(row):
    return row["schedule"] if row["schedule"] == "linear SVM" else f"softmax, {row['schedule']} lr"


def main(argv=None):
    args = parse_args(argv)
    where, start = machine(), time.perf_counter()
    x_train, y_train = load_arrays("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = load_arrays("mnist", "test", data_dir=args.data_dir)
    model = keras.saving.load_model(args.model_file)
    x_train, x_test = to_float_images(x_train), to_float_images(x_test)  # once, not per window
    rows, feature_dims = [], {}
    for pool in args.pool_sizes:
        pool_size = None if pool == "none" else pool
        train_features = evaluation.extract_features(model, x_train, pool_size=pool_size)
        test_features = evaluation.extract_features(model, x_test, pool_size=pool_size)
        feature_dims[str(pool)] = int(train_features.shape[1])

        def row(schedule, rate, spec, result):
            return {"pool_size": pool, "feature_dim": feature_dims[str(pool)],
                    "schedule": schedule, "learning_rate": rate, "labels": spec, **result}
        for schedule, rate, spec in itertools.product(args.schedules, args.learning_rates,
                                                      args.labels):
            result = evaluation.probe_features(
                train_features, y_train, test_features, y_test,
                num_labels=evaluation.label_budget(spec), epochs=args.epochs,
                learning_rate=rate, l2=args.l2, schedule=schedule, label_seed=args.seed,
                seed=args.seed, folds=args.folds)
            rows.append(row(schedule, rate, spec, result))
            print(f"pool {pool} {schedule} lr {rate:g} labels {spec}: test "
                  f"{100 * result['test_error']:.2f} % train {100 * result['train_error']:.2f} % "
                  f"l2 {result['probe']['l2']:g}", flush=True)
        for spec in args.labels if args.svm_c else ():
            result = svm_probe(train_features, y_train, test_features, y_test,
                               evaluation.label_budget(spec), args.svm_c, args.seed,
                               folds=args.folds)
            rows.append(row("linear SVM", None, spec, result))
            print(f"pool {pool} linear SVM labels {spec}: test {100 * result['test_error']:.2f} % "
                  f"train {100 * result['train_error']:.2f} % "
                  f"C {result['svm_selection']['chosen']:g}", flush=True)
    record = {"command": command_line(backend=keras.backend.backend()), "machine": where,
              "date": timestamp(), "model_file": os.path.basename(args.model_file),
              "feature_dims": feature_dims, "args": vars(args), "rows": rows,
              "wall_seconds": round(time.perf_counter() - start, 1)}
    several = len(args.pool_sizes) > 1
    table = [("| pool | features " if several else "")
             + "| probe | learning rate | labels | test error % | train error % | "
             "held-out error % | chosen l2 / C |",
             ("| --- | --- " if several else "") + "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        held_out = _validation_error(r)
        table.append(
            (f"| {r['pool_size']} | {r['feature_dim']} " if several else "")
            + f"| {_probe_name(r)} | "
            + ("—" if r["learning_rate"] is None else f"{r['learning_rate']:g}")
            + f" | {r['labels']} | {100 * r['test_error']:.2f} | {100 * r['train_error']:.2f} | "
            + ("—" if held_out is None else f"{100 * held_out:.2f}") + " | "
            + (f"C = {r['svm_selection']['chosen']:g}" if "svm_selection" in r
               else f"{r['probe']['l2']:g}") + " |")
    dims = sorted(set(feature_dims.values()))
    held_out, held_out_error = (
        ("a held-out sixth of the labels", "that sixth's") if args.folds == 1 else
        (f"{args.folds}-fold cross-validation over the labels",
         "over all the folds, every labelled example held out once"))
    markdown = (f"# Probe settings on the features of `{record['model_file']}`\n\n"
                f"`{record['command']}`\n\n" + "\n".join(table) + "\n\n"
                + (f"Same {dims[0]}-dimensional features in every row. " if len(dims) == 1 else
                   "Feature maps max-pooled with each row's window (pool); the held-out error "
                   "is the one to compare them by. ")
                + f"Softmax probe: Adam, {args.epochs} epochs, weight decay "
                + (f"chosen on {held_out} (held-out error: {held_out_error}, for the chosen "
                   "value, before refitting on all labels)" if args.l2 == "auto"
                   else f"{args.l2:g}")
                + (". Linear SVM: scikit-learn LinearSVC on the features over their overall "
                   "standard deviation, C chosen from "
                   + ", ".join(f"{c:g}" for c in args.svm_c) + " on the same held-out labels"
                   if args.svm_c else "")
                + f". {where}; {record['wall_seconds']:.0f} s, {record['date']}.\n")
    write_results(f"probe_ablation_{args.tag}", record, markdown)


if __name__ == "__main__":
    main()
