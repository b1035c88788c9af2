"""One leaderboard: every family of the zoo measured under one protocol.

    python -m benchmarks.leaderboard [--data-dir DIR] [--dataset NAME_OR_IDX_FOLDER]
        [--limit N] [--epochs N] [--seeds 0 1 2] [--model-seeds NAME=N ...]
        [--models NAME ...] [--pca-components 64] [--timing-backends tensorflow jax torch]
        [--timing-images 512] [--out-name leaderboard]

Every model on the board is trained with its default configuration through ``keras-ae
train``'s own code path (:func:`benchmarks.quality_floor.train_with_cli`), on the same images
(the first ``--limit`` of each split, as the CLI's ``--limit``) for the same ``--epochs`` (the
greedy stacks: ``--epochs`` per stage, then ``--epochs`` end to end, their default procedure;
the table gives each row's passes over the data). Without labels: ``swwae`` and ``drsae`` train
with ``--labels 0`` (their classifier never sees a label), ``drsae`` only its unsupervised
phase (``--unsupervised-epochs`` = ``--epochs``). Two reference encoders need no training: the
raw pixels and PCA with ``--pca-components`` components (fitted on the same training images).

Each encoder's features are computed once (:func:`keras_ae.evaluation.encode_for_probe`: feature
maps max-pooled to about a 4×4 grid, as every probe of the package pools them) and measured:

* linear-probe test accuracy with 100, 1,000 and all training labels
  (:func:`keras_ae.evaluation.probe_report`, weight decay chosen on held-out training labels,
  ``l2="auto"``; the labels drawn per class with the run's seed);
* k-NN test accuracy: majority vote of the ``--k`` (10) nearest training images by cosine
  similarity of the features (:class:`keras_ae.search.CodeIndex`,
  :func:`keras_ae.search.majority_vote`);
* precision@k of code search: the share of those neighbours with the query's label
  (:func:`keras_ae.search.precision_at_k`);
* the CLI's test reconstruction MSE (where the model reconstructs), the code size (the
  encoder's flattened output), the parameter count (whole model and encoder) and the training
  wall time of the run.

Training time per epoch on each backend is measured apart (before the board, or on its own
with ``--timing-only`` into ``<out-name>.timing.json``, which the board's files take in): in one subprocess
per backend (``KERAS_BACKEND`` set), each model is trained by its own ``fit_procedure`` as the
CLI trains it, for 2 epochs of ``--timing-images`` images; the second epoch (of every stage, for
the greedy stacks), without the first's tracing/compilation, is scaled to the board's
training-set size (an extrapolation, said in the table).

Writes ``benchmarks/results/<out-name>.json`` (after every model and seed: a partial board
survives an interruption), ``.md`` (mean ± standard deviation over seeds, the seeds listed)
and ``.png`` (probe accuracy against the number of labels, log x axis).
"""

import argparse
import json
import os
import tempfile
import time

import numpy as np

from benchmarks._common import (BACKENDS, RESULTS, command_line, machine, run_in_backend,
                                timestamp, write_report)
from keras_ae.reporting import write_whole
from benchmarks.quality_floor import (_load_split, code_size, parse_model_limits,
                                      principal_axes, train_with_cli)

#: the board's families, in table order, with the ``keras-ae train`` flags that keep them
#: unsupervised ("{epochs}" becomes ``--epochs``)
BOARD = {
    "linear_autoencoder": (),
    "dense_autoencoder": (),
    "denoising_autoencoder": (),
    "conv_autoencoder": (),
    "stacked_autoencoder": (),
    "swwae": ("--labels", "0"),
    "fc_wta": (),
    "conv_wta": (),
    "stacked_conv_wta": (),
    "drsae": ("--labels", "0", "--unsupervised-epochs", "{epochs}"),
    "mae": (),
}
#: registered models that are not families of their own, and why they are off the board
NOT_ON_BOARD = {
    "swwae_soft": "an ablation of swwae (soft what-where pooling), not a family of its own; "
                  "add it with --models",
    "swwae_what_only": "an ablation of swwae (no 'where': upsampling decoder), not a family of "
                       "its own; add it with --models",
    "text_autoencoder": "encodes bag-of-words vectors of documents, not images "
                        "(docs/text.md measures its retrieval)",
}
#: reference encoders that need no training
BASELINES = ("pixels", "pca")
#: the probe's label budgets
BUDGETS = ("100", "1000", "all")
UNSUPERVISED_FLAGS = {**BOARD, "swwae_soft": ("--labels", "0"),
                      "swwae_what_only": ("--labels", "0")}


def cli_flags(name, epochs):
    """The ``keras-ae train`` flags beyond the shared ones that ``name`` trains with."""
    return [flag.format(epochs=epochs) for flag in UNSUPERVISED_FLAGS.get(name, ())]


def pixel_encoder(image_shape):
    """The raw pixels as a Keras encoder (flattened images)."""
    import keras

    return keras.Sequential([keras.Input(tuple(image_shape)), keras.layers.Flatten()],
                            name="pixels")


def pca_encoder(train_images, components):
    """PCA as a Keras encoder: the projection of the centred, flattened image on the first
    ``components`` principal axes of ``train_images`` (NumPy SVD)."""
    import keras

    flat = np.asarray(train_images, np.float64).reshape(len(train_images), -1)
    if not 1 <= components <= min(flat.shape):
        raise ValueError(f"--pca-components must be in [1, {min(flat.shape)}], got {components}.")
    mean, axes = principal_axes(flat, components)
    dense = keras.layers.Dense(components, name="projection")
    encoder = keras.Sequential([keras.Input(tuple(train_images.shape[1:])),
                                keras.layers.Flatten(), dense], name="pca")
    dense.set_weights([axes.T.astype(np.float32), (-mean @ axes.T).astype(np.float32)])
    return encoder


def budgets_for(train_images):
    """The label budgets that fit ``train_images`` training images (``"all"`` always)."""
    return [b for b in BUDGETS if b == "all" or int(b) < train_images]


def measure(model, x_train, y_train, x_test, y_test, seed, k=10):
    """The board's measures of ``model``'s features (a zoo model or an encoder), encoded once:
    probe accuracy per label budget, k-NN accuracy and precision@k (cosine). JSON-ready."""
    from keras_ae import evaluation
    from keras_ae.search import CodeIndex, majority_vote, precision_at_k

    encoded = evaluation.encode_for_probe(model, x_train, x_test)
    report = evaluation.probe_report(model, x_train, y_train, x_test, y_test, budgets=budgets_for(len(x_train)),
                                     l2="auto", seed=seed, encoded=encoded)
    start = time.time()
    index = CodeIndex(None, metric="cosine").add_codes(encoded["train"], y_train)
    indices, _ = index.search_codes(encoded["test"], k)
    found = np.asarray(y_train)[indices]
    return {
        "feature_dim": report["feature_dim"], "encode_seconds": encoded["seconds"],
        "probe": {budget: {"accuracy_percent": 100.0 - result["test_error_percent"],
                           "num_labels": result["num_labels"], "l2": result["l2"]}
                  for budget, result in report["probes"].items()},
        "knn_accuracy_percent": 100.0 * float(np.mean(majority_vote(found) == y_test)),
        "precision_at_k_percent": 100.0 * precision_at_k(y_test, found),
        "search_seconds": round(time.time() - start, 1),
    }


def passes(procedure, epochs):
    """Passes over the training data a run made (greedy stacks: every stage's epochs and the
    end-to-end ones; DrSAE: both phases)."""
    if procedure.get("kind") == "greedy":
        return procedure["epochs_per_stage"] * procedure["stages"] + procedure["fine_tune_epochs"]
    return epochs


def board_row(name, seed, args, out_dir, splits):
    """Trains (a zoo model) or builds (a baseline) ``name`` and measures it."""
    import keras

    x_train, y_train, x_test, y_test = splits
    start = time.time()
    row = {"model": name, "seed": seed}
    if name in BASELINES:
        model = (pixel_encoder(x_train.shape[1:]) if name == "pixels"
                 else pca_encoder(x_train, args.pca_components))
        row.update({"procedure": "no training" if name == "pixels" else
                    f"NumPy PCA, {args.pca_components} components", "passes": 0,
                    "train_seconds": 0.0, "reconstruction_mse": None,
                    "parameters": int(model.count_params()),
                    "encoder_parameters": int(model.count_params())})
    else:
        metrics, model, _ = train_with_cli(
            name, args.epochs, out_dir, data_dir=args.data_dir, dataset=args.dataset,
            limit=args.limit, cli_args=["--seed", str(seed), *cli_flags(name, args.epochs)])
        procedure = dict(metrics["procedure"])
        if procedure.get("kind") == "greedy":
            procedure["stages"] = model.num_stages
        from keras_ae.models.base import encoder_of

        row.update({"procedure": procedure["description"],
                    "passes": passes(procedure, args.epochs),
                    "train_seconds": metrics["train_seconds"],
                    "reconstruction_mse": metrics["test"].get("reconstruction_mse"),
                    "parameters": int(model.count_params()),
                    "encoder_parameters": int(encoder_of(model).count_params())})
    row["code_size"] = code_size(model, x_train)
    row.update(measure(model, x_train, y_train, x_test, y_test, seed, k=args.k))
    row["row_seconds"] = round(time.time() - start, 1)
    keras.backend.clear_session()
    return row


# ------------------------------------------------------------------------ timing per backend

def epoch_timer():
    """A Keras callback whose ``segments`` holds, per ``fit`` call (a greedy stack makes one
    per stage and one end to end), the wall seconds of each of its epochs."""
    import keras

    class Timer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.segments = []

        def on_train_begin(self, logs=None):
            self.segments.append([])

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.segments[-1].append(time.perf_counter() - self._start)

    return Timer()


def time_epochs(names, images, data_dir, dataset, epochs=2):
    """Seconds of one training epoch on ``images`` training images of each model under this
    process's backend: the model built and trained as ``keras-ae train`` builds and trains it
    (``models.build`` with the CLI's config, ``make_dataset``, ``fit_procedure`` with the
    board's unsupervised flags) for ``epochs`` epochs, timed per epoch by a callback; one
    epoch is the last epoch of every ``fit`` (so without the first epoch's tracing), summed
    over a greedy stack's fits."""
    import keras

    from keras_ae import models
    from keras_ae.data import keep_labels, make_dataset

    x, y = _load_split(data_dir, dataset, "train", images)
    out = {}
    for name in names:
        cls = models.get(name)
        config = {"input_shape": list(x.shape[1:])}
        if "num_classes" in models.config_fields(cls):
            config["num_classes"] = int(y.max() + 1)
        keras.utils.set_random_seed(0)
        model = models.build(name, **config)
        options = {"unsupervised_epochs": epochs} if name == "drsae" else {}
        labels = keep_labels(y, 0) if cls.accepts_unlabelled else y
        timer = epoch_timer()
        model.fit_procedure(make_dataset(x, labels, batch_size=128, seed=0), epochs,
                            callbacks=[timer], verbose=0, **options)
        out[name] = {"epoch_seconds": round(sum(segment[-1] for segment in timer.segments), 4),
                     "fits": len(timer.segments)}
        keras.backend.clear_session()
    return {"backend": keras.backend.backend(), "images": int(len(x)), "epochs": epochs,
            "models": out}


def timing(names, backends, images, data_dir, dataset):
    """:func:`time_epochs` under each backend, each in its own subprocess."""
    args = ["--timing-images", str(images), "--models", *names,
            *(["--data-dir", data_dir] if data_dir else []),
            *(["--dataset", dataset] if dataset else [])]
    out = {}
    for backend in backends:
        try:
            out[backend] = run_in_backend(__file__, backend, args)
        except RuntimeError as e:  # one backend's failure is said, the others still timed
            out[backend] = {"failed": str(e).splitlines()[0]}
    return out


# ------------------------------------------------------------------------ tables and plot

def summary(rows):
    """``{model: {"seeds": [...], measure: (mean, std), ...}}`` over the rows of each model
    (population standard deviation), in the order the models first appear."""
    grouped = {}
    for row in rows:
        if "failed" not in row:
            grouped.setdefault(row["model"], []).append(row)
    out = {}
    for name, group in grouped.items():
        def stat(get, group=group):
            values = [get(r) for r in group]
            if any(v is None for v in values):
                return None
            return float(np.mean(values)), float(np.std(values))
        entry = {"seeds": [r["seed"] for r in group], "first": group[0],
                 "knn": stat(lambda r: r["knn_accuracy_percent"]),
                 "precision": stat(lambda r: r["precision_at_k_percent"]),
                 "mse": stat(lambda r: r["reconstruction_mse"]),
                 "train_seconds": stat(lambda r: r["train_seconds"])}
        for budget in BUDGETS:
            if budget in group[0]["probe"]:
                entry[budget] = stat(lambda r, b=budget: r["probe"][b]["accuracy_percent"])
                entry[f"{budget}_labels"] = group[0]["probe"][budget]["num_labels"]
            else:  # more labels than training images
                entry[budget] = None
        out[name] = entry
    return out


def _pm(stat, pattern=".1f"):
    if stat is None:
        return "—"
    mean, std = stat
    return f"{mean:{pattern}} ± {std:{pattern}}"


def markdown(record):
    stats = summary(record["rows"])
    k = record["k"]
    lines = [
        "# Leaderboard: every family under one protocol", "",
        f"Command: `{record['command']}`  ",
        f"Machine: {record['machine']}; backend {record['backend']}  ",
        f"Date: {record['date']}; wall time {record['wall_seconds'] / 60:.1f} min  ",
        f"Data: {record['data']}; {record['train_images']} training / {record['test_images']} "
        f"test images; {record['epochs']} epoch(s); seeds {record['seeds']}", "",
        "Features: the encoder's output at inference, feature maps max-pooled to about 4×4 "
        "regions. Probe: softmax regression, weight decay chosen on held-out training labels, "
        f"tested on the test split. k-NN: majority of the {k} nearest training images by "
        f"cosine similarity. P@{k}: share of those {k} with the query's label. Mean ± standard "
        "deviation over the seeds listed (the seed sets the model's initialisation and data "
        "order and the probe's label draw); a single seed shows ± 0.0.", "",
        f"| model | seeds | probe acc. %, 100 labels | 1,000 labels | all labels | "
        f"{k}-NN acc. % | P@{k} % | test recon MSE |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, s in stats.items():
        lines.append(f"| `{name}` | {', '.join(map(str, s['seeds']))} | {_pm(s['100'])} | "
                     f"{_pm(s['1000'])} | {_pm(s['all'])} | {_pm(s['knn'])} | "
                     f"{_pm(s['precision'])} | {_pm(s['mse'], '.4f')} |")
    failed = [row for row in record["rows"] if "failed" in row]
    for row in failed:
        lines.append(f"| `{row['model']}` | {row['seed']} | failed: {row['failed']} "
                     f"| | | | | |")
    timing_backends = list(record.get("timing", {}))
    lines += ["", "## Size and cost", "",
              "Passes: epochs over the training images (greedy stacks: per stage, then end to "
              "end). Code: the encoder's flattened output; features: what the probe and the "
              "search see (pooled). Train time: this run's `train_seconds` (mean over seeds, "
              "on the machine above, shared with other jobs)."
              + (f" s/epoch per backend: one epoch on {record['timing_images']} images (the last "
                 f"of 2 epochs of the model's own `fit_procedure`, so without the first epoch's "
                 f"tracing), extrapolated to {record['train_images']} images; greedy stacks: one epoch "
                 "of every stage plus one end to end. A few batches timed on a shared machine: "
                 "rough (set the TensorFlow column against the train time, which covers the "
                 "whole run and every epoch)." if timing_backends else "")
              + (" Timed by `{command}` ({machine}; {date}; {seconds:.0f} s).".format(
                  **record["timing_run"]) if "timing_run" in record else ""), "",
              "| model | procedure | passes | code size | features | parameters (encoder) "
              "| train time (s) |" + "".join(f" s/epoch, {b} |" for b in timing_backends),
              "| --- | --- | --- | --- | --- | --- | --- |" + " --- |" * len(timing_backends)]
    for name, s in stats.items():
        row = s["first"]
        cells = [f"`{name}`", row["procedure"], str(row["passes"]), str(row["code_size"]),
                 str(row["feature_dim"]), f"{row['parameters']:,} ({row['encoder_parameters']:,})",
                 f"{s['train_seconds'][0]:.0f}"]
        for backend in timing_backends:
            cells.append(_epoch_cell(record, backend, name))
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "Not on the board: " + "; ".join(
        f"`{name}`: {why}" for name, why in record["not_on_board"].items()) + "."]
    return "\n".join(lines) + "\n"


def _epoch_cell(record, backend, name):
    """Seconds per epoch of ``name`` on ``backend``, extrapolated to the board's images."""
    measured = record["timing"][backend]
    if "failed" in measured:
        return "failed"
    timed = measured["models"].get(name)
    if timed is None:
        return "—"
    return f"{timed['epoch_seconds'] * record['train_images'] / measured['images']:.1f}"


def plot(record, path):
    """Probe accuracy (mean over seeds, bars: std) against the number of labels, log x."""
    from keras_ae.visualize import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    stats = summary(record["rows"])
    colors = plt.get_cmap("tab20")(np.linspace(0, 1, 20))
    for number, (name, s) in enumerate(stats.items()):
        budgets = [b for b in BUDGETS if s[b] is not None]
        x = [s[f"{b}_labels"] for b in budgets]
        ax.errorbar(x, [s[b][0] for b in budgets], yerr=[s[b][1] for b in budgets],
                    marker="o", capsize=3, label=name, color=colors[number % 20],
                    linestyle="--" if name in BASELINES else "-")
    ax.set_xscale("log")
    ax.set_xlabel("training labels (log scale)")
    ax.set_ylabel("linear-probe test accuracy (%)")
    ax.set_title(f"{record['epochs']} epoch(s), {record['train_images']} training images")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    save_figure(fig, path)


def not_on_board(models):
    """``{name: why}`` for every registered model not in ``models``."""
    from keras_ae import catalog

    return {name: NOT_ON_BOARD.get(name, "not asked for (--models)" if name in BOARD
                                   else "not on the board's list (benchmarks.leaderboard.BOARD); "
                                        "add it with --models if it takes images")
            for name in catalog.names() if name not in models}


def write(stem, record):
    """Writes ``stem``.json, .md and .png and returns what it wrote: ``record`` with a timing
    measured apart (``stem``.timing.json, by ``--timing-only``) merged in."""
    if "timing" not in record and os.path.exists(stem + ".timing.json"):
        with open(stem + ".timing.json") as f:
            record = {**record, **json.load(f)}
    write_report(stem, record, markdown(record), indent=2, echo=False)
    if any("failed" not in row for row in record["rows"]):
        plot(record, stem + ".png")
    return record


# ------------------------------------------------------------------------ command line

def check_args(args):
    """``ValueError`` naming the argument for bad input."""
    from keras_ae import catalog

    for flag, value in (("--epochs", args.epochs), ("--k", args.k),
                        ("--pca-components", args.pca_components),
                        ("--timing-images", args.timing_images)):
        if value < 1:
            raise ValueError(f"{flag} must be >= 1, got {value}.")
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {args.limit}.")
    if not args.seeds or any(seed < 0 for seed in args.seeds) \
            or len(set(args.seeds)) != len(args.seeds):
        raise ValueError(f"--seeds must be distinct integers >= 0, got {args.seeds}.")
    known = set(catalog.names()) | set(BASELINES)
    unknown = [name for name in args.models if name not in known]
    if unknown:
        raise ValueError(f"--models: unknown {', '.join(unknown)}; known: "
                         f"{', '.join(sorted(known))}.")
    bad = [b for b in args.timing_backends if b not in BACKENDS]
    if bad:
        raise ValueError(f"--timing-backends must be among {', '.join(BACKENDS)}, got "
                         f"{', '.join(bad)}.")
    seeds = parse_model_limits(args.model_seeds, flag="--model-seeds")
    stray = sorted(set(seeds) - set(args.models))
    if stray:
        raise ValueError(f"--model-seeds names models not on this board: {', '.join(stray)}.")
    return {name: args.seeds[:seeds.get(name, len(args.seeds))] for name in args.models}


def parser():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="as keras-ae train's --data-dir")
    p.add_argument("--dataset", default=None,
                   help="as keras-ae train's --dataset: a name or a folder of IDX files")
    p.add_argument("--limit", type=int, default=None,
                   help="the first N images of each split (default all)")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--model-seeds", action="append", metavar="NAME=N",
                   help="only the first N of --seeds for NAME (repeatable), for slow models")
    p.add_argument("--models", nargs="+", default=[*BASELINES, *BOARD],
                   help="default: pixels, pca and every family")
    p.add_argument("--pca-components", type=int, default=64)
    p.add_argument("--k", type=int, default=10, help="neighbours of the k-NN vote and P@k")
    p.add_argument("--timing-backends", nargs="*", default=list(BACKENDS),
                   help="backends to time an epoch on (none: skip the timing)")
    p.add_argument("--timing-images", type=int, default=512)
    p.add_argument("--timing-only", action="store_true",
                   help="only time --models on --timing-backends, into "
                        "results/OUT-NAME.timing.json, merged into the board's files")
    p.add_argument("--render", action="store_true",
                   help="only rewrite results/OUT-NAME.md and .png from its .json (and "
                        ".timing.json)")
    p.add_argument("--out-name", default="leaderboard")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    return p


def add_timing(record, args, names, argv):
    """Times ``names`` on ``--timing-backends`` (:func:`timing`) into ``record``, with the
    command, machine, date and wall time of the timing itself."""
    import keras

    start = time.time()
    record["timing_images"] = args.timing_images
    record["timing"] = timing(names, args.timing_backends, args.timing_images, args.data_dir,
                              args.dataset) if names else {}
    record["timing_run"] = {"command": command_line(argv, keras.backend.backend()),
                            "machine": machine(), "date": timestamp(),
                            "seconds": round(time.time() - start, 1)}


def main(argv=None):
    args = parser().parse_args(argv)
    seeds_of = check_args(args)
    if args.worker:  # one backend's timing, for timing(): JSON on the last stdout line
        print(json.dumps(time_epochs([n for n in args.models if n not in BASELINES],
                                     args.timing_images, args.data_dir, args.dataset)))
        return 0

    import keras

    stem = os.path.join(RESULTS, args.out_name)
    if args.timing_only or args.render:
        if args.timing_only:  # a file of its own: a board may still be writing its JSON
            timed = {}
            add_timing(timed, args, [n for n in args.models if n not in BASELINES], argv)
            write_whole({stem + ".timing.json": json.dumps(timed, indent=2)})
        if os.path.exists(stem + ".json"):
            with open(stem + ".json") as f:
                record = json.load(f)
            # the registry as it is now: a model registered since the board ran is listed too
            record["not_on_board"] = not_on_board({row["model"] for row in record["rows"]})
            print(markdown(write(stem, record)))
        elif args.render:
            raise ValueError(f"--render: no board {stem}.json to render.")
        return 0
    x_train, y_train = _load_split(args.data_dir, args.dataset, "train", args.limit)
    x_test, y_test = _load_split(args.data_dir, args.dataset, "test", args.limit)
    splits = (x_train, y_train, x_test, y_test)
    record = {
        "command": command_line(argv, keras.backend.backend()), "machine": machine(),
        "date": timestamp(), "backend": keras.backend.backend(),
        "data": f"{args.dataset or 'default'} (data dir {args.data_dir or 'default'})",
        "limit": args.limit, "train_images": int(len(x_train)), "test_images": int(len(x_test)),
        "epochs": args.epochs, "seeds": args.seeds, "k": args.k,
        "pca_components": args.pca_components, "budgets": list(BUDGETS),
        "not_on_board": not_on_board(args.models),
        "rows": [], "wall_seconds": 0.0}
    start = time.time()
    if args.timing_backends:  # first, so that a board cut short keeps it
        add_timing(record, args, [name for name in args.models if name not in BASELINES], argv)
    for seed in args.seeds:
        for name in args.models:
            if seed not in seeds_of[name]:
                continue
            print(f"=== {name}, seed {seed}", flush=True)
            with tempfile.TemporaryDirectory() as out:
                try:
                    row = board_row(name, seed, args, out, splits)
                except Exception as e:  # one model's failure is a row, not the end of the board
                    row = {"model": name, "seed": seed,
                           "failed": f"{type(e).__name__}: {str(e).splitlines()[0]}"}
            record["rows"].append(row)
            record["wall_seconds"] = round(time.time() - start, 1)
            write(stem, record)
    record["wall_seconds"] = round(time.time() - start, 1)
    print(markdown(write(stem, record)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
