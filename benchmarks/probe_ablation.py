"""Linear-probe settings compared on the features of one saved model.

Encodes MNIST once with a saved ``.keras`` zoo model (sparsity off, conv maps max-pooled as in
``examples/wta_mnist.py``), then trains the probe of ``keras_ae.evaluation`` with each learning-rate
schedule and rate, for each labelled-set size, and reports the test errors side by side. The
autoencoder is the same in every row, so the differences are the probe's alone.

    KERAS_BACKEND=tensorflow python benchmarks/probe_ablation.py \\
        --model-file benchmarks/results/wta_fc_40ep.keras --data-dir ../shared/datasets --tag fc_40ep

Writes ``results/probe_ablation_<tag>.json`` and ``.md``.
"""

import argparse
import itertools
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
    p.add_argument("--labels", nargs="+", default=["all", "1000", "100"])
    p.add_argument("--schedules", nargs="+", choices=evaluation.SCHEDULES,
                   default=list(evaluation.SCHEDULES))
    p.add_argument("--learning-rates", type=float, nargs="+", default=[1e-3])
    p.add_argument("--l2", type=evaluation.l2_argument, default="auto",
                   help="probe weight decay: a number, or 'auto' to choose it on held-out labels")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--tag", required=True, help="output name: probe_ablation_<tag>.*")
    args = p.parse_args(argv)
    if not os.path.isfile(args.model_file):
        p.error(f"--model-file: no such file {args.model_file!r}")
    return args


def main(argv=None):
    args = parse_args(argv)
    where, start = machine(), time.perf_counter()
    x_train, y_train = load_arrays("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = load_arrays("mnist", "test", data_dir=args.data_dir)
    model = keras.saving.load_model(args.model_file)
    train_features = evaluation.extract_features(model, to_float_images(x_train))
    test_features = evaluation.extract_features(model, to_float_images(x_test))
    rows = []
    for schedule, rate, spec in itertools.product(args.schedules, args.learning_rates,
                                                  args.labels):
        result = evaluation.probe_features(
            train_features, y_train, test_features, y_test,
            num_labels=None if spec == "all" else int(spec), epochs=args.epochs,
            learning_rate=rate, l2=args.l2, schedule=schedule, label_seed=args.seed,
            seed=args.seed)
        rows.append({"schedule": schedule, "learning_rate": rate, "labels": spec, **result})
        print(f"{schedule} lr {rate:g} labels {spec}: test {100 * result['test_error']:.2f} % "
              f"train {100 * result['train_error']:.2f} % l2 {result['probe']['l2']:g}",
              flush=True)
    record = {"command": command_line(backend=keras.backend.backend()), "machine": where,
              "date": timestamp(), "model_file": os.path.basename(args.model_file),
              "feature_dim": int(train_features.shape[1]), "args": vars(args), "rows": rows,
              "wall_seconds": round(time.perf_counter() - start, 1)}
    table = ["| schedule | learning rate | labels | test error % | train error % | chosen l2 |",
             "| --- | --- | --- | --- | --- | --- |"]
    table += [f"| {r['schedule']} | {r['learning_rate']:g} | {r['labels']} | "
              f"{100 * r['test_error']:.2f} | {100 * r['train_error']:.2f} | "
              f"{r['probe']['l2']:g} |" for r in rows]
    markdown = (f"# Probe settings on the features of `{record['model_file']}`\n\n"
                f"`{record['command']}`\n\n" + "\n".join(table) + "\n\n"
                f"Same {record['feature_dim']}-dimensional features in every row; Adam, "
                f"{args.epochs} epochs, weight decay "
                + ("chosen on a held-out sixth of the labels" if args.l2 == "auto"
                   else f"{args.l2:g}")
                + f". {where}; {record['wall_seconds']:.0f} s, {record['date']}.\n")
    write_results(f"probe_ablation_{args.tag}", record, markdown)


if __name__ == "__main__":
    main()
