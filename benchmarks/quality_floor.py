"""Quality floor: does every registered model learn something with its defaults?

    python -m benchmarks.quality_floor [--epochs 3] [--models NAME ...] [--limit N]
        [--model-limit NAME=N ...] [--data-dir DIR] [--dataset NAME] [--out-name quality_floor]
        [--update] [--render]

Each model is trained through ``keras-ae train``'s own code path
(``keras_ae.cli.main(["train", NAME, "--epochs", N, "--out", DIR, "--no-export", ...])``) with
its default configuration and procedure, then measured:

* ``test recon MSE``: the CLI's test ``reconstruction_mse`` (``model.reconstruct`` against
  ``model.reconstruction_target``; the WTA models reconstruct through their training sparsity);
* ``PCA MSE``: NumPy PCA (SVD of the centred training targets) keeping as many components as
  the encoder's flattened feature size, capped at the image size (an overcomplete code makes
  PCA exact), evaluated on the test targets: the linear floor of that code size;
* ``mean-image MSE``: the error of answering the mean training target for every image, what a
  model that learnt nothing reaches at best;
* ``probe accuracy``: a linear probe of the encoder's features fitted on 1,000 labels
  (:func:`keras_ae.evaluation.probe_report`, ``budgets=["1000"]``; the labels are drawn,
  balanced per class, from the first ``--probe-pool`` training images) and tested on the
  test split;
* ``classifier error``: the CLI's test ``error_percent``, for the models with a classifier.

Writes ``benchmarks/results/quality_floor.json`` and ``.md`` after every model (a partial
table while it runs). With ``--update`` only the named models' rows of the existing file are
replaced (the others stay as they were); each replaced row records the command, date and
machine of its own run, which the table's notes list. ``--render`` only rewrites the ``.md``
from the ``.json`` (after a change to the table's layout).
"""

import argparse
import json
import math
import os
import tempfile
import time

import numpy as np

from benchmarks._common import RESULTS, command_line, machine, timestamp, write_report

#: the label budget of the probe column
PROBE_LABELS = "1000"


def parse_model_limits(pairs, flag="--model-limit"):
    """``["conv_wta=20000", ...]`` → ``{"conv_wta": 20000}`` (``flag``: the option named in
    the error)."""
    limits = {}
    for pair in pairs or []:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value.isdigit() or int(value) < 1:
            raise ValueError(f"{flag} expects NAME=N with N >= 1, got {pair!r}.")
        limits[name] = int(value)
    return limits


def pca_mse(train, test, components):
    """Mean squared error of reconstructing ``test`` from its projection on the first
    ``components`` principal axes of ``train`` (rows are examples; both flattened inside)."""
    train = np.asarray(train, np.float64).reshape(len(train), -1)
    test = np.asarray(test, np.float64).reshape(len(test), -1)
    if isinstance(components, bool) or not isinstance(components, (int, np.integer)) \
            or not 0 <= components <= train.shape[1]:
        raise ValueError(f"components must be an int in [0, {train.shape[1]}], "
                         f"got {components!r}.")
    mean, axes = principal_axes(train, components)
    centred = test - mean
    return float(np.mean((centred - centred @ axes.T @ axes) ** 2))


def mean_image_mse(train, test):
    """Mean squared error of answering the mean of ``train`` for every row of ``test``."""
    train = np.asarray(train, np.float64)
    return float(np.mean((np.asarray(test, np.float64) - train.mean(axis=0)) ** 2))


def code_size(model, images):
    """The encoder's flattened feature size (no pooling) for ``images``' shape."""
    from keras_ae import evaluation

    return int(evaluation.extract_features(model, images[:2], pool_size=None).shape[1])


def _load_split(data_dir, dataset, split, limit):
    """The split as the CLI loads it (``keras_ae.cli._load_split``'s rules)."""
    from keras_ae.data import load_arrays, to_float_images

    images, labels = load_arrays(dataset, split, data_dir=data_dir)
    if limit:
        images, labels = images[:limit], labels[:limit]
    return to_float_images(images), labels


def train_argv(name, epochs, data_dir=None, dataset=None, limit=None, overrides=(), cli_args=()):
    """The ``keras-ae`` arguments that train ``name`` as :func:`train_with_cli` does, before
    its output flags (``benchmarks.presets`` records them as the preset's command)."""
    return ["train", name, "--epochs", str(epochs),
            *(["--data-dir", data_dir] if data_dir else []),
            *(["--dataset", dataset] if dataset else []),
            *(["--limit", str(limit)] if limit else []),
            *[arg for pair in overrides for arg in ("--set", pair)], *cli_args]


def principal_axes(train, components):
    """``(mean, axes)``: the mean of ``train``'s rows (flattened) and its first ``components``
    principal axes, ``(components, features)`` (NumPy SVD of the centred rows, float64)."""
    train = np.asarray(train, np.float64).reshape(len(train), -1)
    mean = train.mean(axis=0)
    return mean, np.linalg.svd(train - mean, full_matrices=False)[2][:components]


def train_with_cli(name, epochs, out_dir, data_dir=None, dataset=None, limit=None,
                   overrides=(), cli_args=()):
    """Trains ``name`` by ``keras_ae.cli.main(["train", NAME, ...])`` into ``out_dir`` (no
    export); returns ``(metrics, model, wall_seconds)``: the run's metrics.json, the trained
    model loaded back from its model.keras, and the command's wall time."""
    import keras

    from keras_ae import cli

    argv = [*train_argv(name, epochs, data_dir, dataset, limit, overrides, cli_args),
            "--out", out_dir, "--no-export"]
    start = time.time()
    status = cli.main(argv)
    wall = time.time() - start
    if status != 0:
        raise RuntimeError(f"keras-ae {' '.join(argv)} exited with status {status}.")
    with open(os.path.join(out_dir, "metrics.json")) as f:
        metrics = json.load(f)
    return metrics, keras.saving.load_model(os.path.join(out_dir, "model.keras")), wall


def train_and_measure(name, epochs, out_dir, data_dir=None, dataset=None, limit=None,
                      overrides=(), probe=True, probe_pool=5000, cli_args=(), on_model=None):
    """Trains ``name`` through ``keras_ae.cli.main`` into ``out_dir`` and measures it.

    Args:
        overrides: ``KEY=VALUE`` config overrides (``--set``).
        probe: fit the 1,000-label probe (skipped: ``probe_accuracy_percent`` is ``None``).
        probe_pool: the probe draws its labels from the first ``probe_pool`` training images.
        cli_args: further ``train`` flags.
        on_model: called as ``on_model(model, row)`` with the trained model and its row before
            the Keras session is cleared (``benchmarks.presets`` saves it there).

    Returns:
        a JSON-ready dict: the table's row.
    """
    import keras

    from keras_ae import evaluation

    metrics, model, wall = train_with_cli(name, epochs, out_dir, data_dir=data_dir,
                                          dataset=dataset, limit=limit, overrides=overrides,
                                          cli_args=cli_args)
    x_train, y_train = _load_split(data_dir, dataset, "train", limit)
    x_test, y_test = _load_split(data_dir, dataset, "test", limit)
    row = {"model": name, "epochs": epochs, "overrides": list(overrides),
           "train_examples": metrics["train_examples"], "test_examples": len(x_test),
           "train_seconds": metrics["train_seconds"], "cli_seconds": round(wall, 1),
           "procedure": metrics["procedure"]["description"],
           "code_size": code_size(model, x_train),
           "reconstruction_mse": metrics["test"].get("reconstruction_mse"),
           "error_percent": metrics["test"].get("error_percent")}
    if model.reconstructs:
        train_targets = model.reconstruction_target(x_train)
        test_targets = model.reconstruction_target(x_test)
        pixels = math.prod(x_train.shape[1:])
        row["pca_components"] = min(row["code_size"], pixels)
        row["pca_mse"] = pca_mse(train_targets, test_targets, row["pca_components"])
        row["mean_image_mse"] = mean_image_mse(train_targets, test_targets)
    row["probe_accuracy_percent"] = None
    if probe:
        start = time.time()
        report = evaluation.probe_report(model, x_train[:probe_pool], y_train[:probe_pool],
                                         x_test, y_test, budgets=[PROBE_LABELS])
        result = report["probes"][PROBE_LABELS]
        row["probe_accuracy_percent"] = 100.0 - result["test_error_percent"]
        row["probe_feature_dim"] = report["feature_dim"]
        row["probe_seconds"] = round(time.time() - start, 1)
    if on_model is not None:
        on_model(model, row)
    keras.backend.clear_session()
    return row


def _fmt(value, pattern):
    return "—" if value is None else format(value, pattern)


def markdown(record):
    lines = [f"# Quality floor: every model, default settings, {record['epochs']} epoch(s)", "",
             f"Command: `{record['command']}`  ",
             f"Backend: {record['backend']}, machine: {record['machine']}  ",
             f"Date: {record['date']}, wall time {record['wall_seconds'] / 60:.1f} min  ",
             f"Data: {record['data']}", "",
             "Each model trained by `keras-ae train NAME --epochs N` (its defaults, its "
             "procedure). Recon MSE: the CLI's test reconstruction MSE (WTA models through their "
             "training sparsity; DrSAE on unit-norm images). PCA MSE: NumPy PCA with as many "
             "components as the encoder's flattened code (capped at the image size: an "
             "overcomplete code makes PCA exact). Mean-image MSE: answering the mean training "
             "image. Probe: linear probe on 1,000 labels drawn from the first "
             f"{record['probe_pool']} training images, tested on the test split. "
             "Classifier error: the model's own classifier on the test split.", "",
             "| model | train / test images | epochs | train time (s) | test recon MSE "
             "| PCA MSE (components) | mean-image MSE | probe accuracy %, 1,000 labels "
             "| classifier test error % |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in record["rows"]:
        if "failed" in row:
            lines.append(f"| `{row['model']}` | failed: {row['failed']} | | | | | | | |")
            continue
        pca = ("—" if row.get("pca_mse") is None
               else f"{'0 (exact)' if row['pca_mse'] < 1e-12 else format(row['pca_mse'], '.3g')} "
                    f"({row['pca_components']})")
        images = (f"{row['train_examples']} / {row['test_examples']}"
                  + (" (limited)" if row.get("limited") else ""))
        lines.append(
            f"| `{row['model']}` | {images} | {row['epochs']} | {row['train_seconds']:.0f} | "
            f"{_fmt(row['reconstruction_mse'], '.3g')} | {pca} | "
            f"{_fmt(row.get('mean_image_mse'), '.3g')} | "
            f"{_fmt(row['probe_accuracy_percent'], '.1f')} | {_fmt(row['error_percent'], '.2f')} |")
    notes = ("Notes: a code with at least as many numbers as an image (the WTA and "
             "convolutional models) makes PCA of its size exact, so that PCA column is no bar. "
             "The stacks train N epochs per stage greedily, then N end to end (each row's "
             "procedure is listed below); `stacked_conv_wta` reconstructs through every stage's "
             "sparsity (`reconstruct(sparsity=\"stages\")`). `mae` reconstructs each image from a random "
             "quarter of its patches (visible patches kept, masked ones predicted), a harder task "
             "than PCA's, whose code sees the whole image. Times are wall-clock on a CPU shared "
             "with other jobs.")
    procedures = [f"`{row['model']}`: {row['procedure']}" for row in record["rows"]
                  if row.get("procedure") not in (None, f"{row['epochs']} epoch(s)")]
    if procedures:
        notes += f" Procedures other than one `fit`: {'; '.join(procedures)}."
    reruns = {}
    for row in record["rows"]:
        if "command" in row:
            reruns.setdefault((row["command"], row["date"], row["machine"]), []).append(
                f"`{row['model']}`")
    for (command, date, where), rerun in reruns.items():
        notes += f" Rerun later ({date}; {where}): {', '.join(rerun)}, by `{command}`."
    lines += ["", notes]
    limited = [row["model"] for row in record["rows"] if row.get("limited")]
    if limited:
        lines += ["", f"(limited): {', '.join(limited)} used only the first images of each "
                      f"split (`--model-limit`), for time."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--models", nargs="+", default=None, help="default: every registered model")
    parser.add_argument("--limit", type=int, default=None, help="images per split (default all)")
    parser.add_argument("--model-limit", action="append", metavar="NAME=N",
                        help="a --limit for one model (repeatable), e.g. conv_wta=20000")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--probe-pool", type=int, default=5000,
                        help="the probe's 1,000 labels are drawn from the first N training images")
    parser.add_argument("--out-name", default="quality_floor",
                        help="results/NAME.json and .md")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite results/NAME.md from results/NAME.json (no training)")
    parser.add_argument("--update", action="store_true",
                        help="replace only these models' rows of the existing results/NAME.json "
                             "(same --epochs); each records its own command")
    args = parser.parse_args(argv)

    stem = os.path.join(RESULTS, args.out_name)
    if args.render:
        try:
            record = read_record(stem + ".json")
        except (OSError, ValueError) as e:
            parser.error(f"--render: {e}")
        write_report(stem, record, markdown(record), indent=2, echo=False)
        return 0

    from keras_ae import catalog

    import keras

    names = args.models or catalog.names()
    unknown = sorted(set(names) - set(catalog.names()))
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}")
    limits = parse_model_limits(args.model_limit)
    test_limit = args.limit
    run = {"command": command_line(argv, keras.backend.backend()),
           "backend": keras.backend.backend(), "machine": machine(), "date": timestamp()}
    data = (f"{args.dataset or 'default'} (data dir {args.data_dir or 'default'}), "
            f"limit {args.limit or 'none'}")
    if args.update:
        try:
            record = read_record(stem + ".json")
        except (OSError, ValueError) as e:
            parser.error(f"--update: {e}")
        for key, value in (("epochs", args.epochs), ("data", data),
                           ("probe_pool", args.probe_pool)):
            if record[key] != value:
                parser.error(f"--update: {stem}.json was made with {key} {record[key]!r}, "
                             f"this run would use {value!r}")
    else:
        record = {"epochs": args.epochs, **run, "data": data, "probe_pool": args.probe_pool,
                  "rows": []}
    start = time.time()
    for name in names:
        limit = limits.get(name, args.limit)
        with tempfile.TemporaryDirectory() as out:
            print(f"=== {name} ({args.epochs} epoch(s), limit {limit or 'none'})", flush=True)
            try:
                row = train_and_measure(name, args.epochs, out, data_dir=args.data_dir,
                                        dataset=args.dataset, limit=limit,
                                        probe_pool=args.probe_pool)
            except Exception as e:  # one model's failure is a row, not the end of the table
                row = {"model": name, "failed": f"{type(e).__name__}: {str(e).splitlines()[0]}"}
        row["limited"] = limit != test_limit
        if args.update:
            row.update(run)
            record = replace_row(read_record(stem + ".json"), row)  # as it is now
        else:
            record["rows"].append(row)
            record["wall_seconds"] = round(time.time() - start, 1)
        # after every model (a partial table while it runs); printed once, at the end
        write_report(stem, record, markdown(record), indent=2, echo=name == names[-1])
    return 0


def read_record(path):
    """A results file this script wrote (``ValueError`` if it is not one)."""
    with open(path) as f:
        record = json.load(f)
    if not isinstance(record, dict) or not isinstance(record.get("rows"), list):
        raise ValueError(f"{path} holds no quality-floor record (no list of rows).")
    return record


def replace_row(record, row):
    """``record`` with its row of ``row["model"]`` replaced by ``row`` (appended if it has
    none); the other rows and the record's own fields stay as they were."""
    rows = [r for r in record["rows"]]
    names = [r.get("model") for r in rows]
    if row["model"] in names:
        rows[names.index(row["model"])] = row
    else:
        rows.append(row)
    return {**record, "rows": rows}


if __name__ == "__main__":
    raise SystemExit(main())
