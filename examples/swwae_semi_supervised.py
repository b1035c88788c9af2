"""SWWAE semi-supervised MNIST (PAPERS.md §1, paper §4.3): test error with 100 / 600 / 1000 /
3000 labels, the rest of the training set unlabelled.

One ``model.fit`` on one ``tf.data`` pipeline mixing labelled and unlabelled images (label -1):
labelled ones contribute NLL + reconstruction terms, unlabelled ones only the reconstruction
terms (``SparseCategoricalCrossentropy(ignore_class=-1)`` + ``add_loss``). Each batch draws a
labelled example with probability ``--labelled-fraction`` so the few labels reach every step.

    KERAS_BACKEND=jax python examples/swwae_semi_supervised.py --data-dir /work/shared/datasets \
        --labels 100 600 1000 3000 --seeds 0 --epochs 3 --steps-per-epoch 300

Writes ``benchmarks/results/swwae_semi_supervised.{json,md}`` (``--tag`` adds a suffix).
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

PAPER = {100: 8.71, 600: 3.31, 1000: 2.83, 3000: 2.10}  # error %, unconfirmed (PAPERS.md)


def build_parser():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None, help="folder holding mnist/ IDX files")
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 600, 1000, 3000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps-per-epoch", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--labelled-fraction", type=float, default=0.5)
    parser.add_argument("--labelled-shift", type=int, default=0,
                        help="data augmentation: move each labelled image, every time it is "
                             "drawn, by up to this many pixels along each axis (0: none)")
    parser.add_argument("--filters", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--kernel-sizes", type=int, nargs="+", default=[3],
                        help="conv kernel size: one for all stages or one per stage")
    parser.add_argument("--head-units", type=int, nargs="*", default=[128])
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--lambda-rec", type=float, default=1.0)
    parser.add_argument("--lambda-m", type=float, default=0.2)
    parser.add_argument("--middle-terms", choices=("what", "pre_pool"), default="what",
                        help="what the middle (L2M) terms compare: each intermediate 'what' with "
                             "its reconstruction, or each pre-pool map with the unpooled decoder "
                             "map (the models' middle_terms)")
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    # keras_ae.training.SCHEDULES; not imported here, so that --merge starts without Keras
    parser.add_argument("--lr-schedule", choices=("constant", "cosine"), default="constant",
                        help="Adam's learning rate: constant, or annealed to zero over the run")
    parser.add_argument("--model", default="swwae")
    parser.add_argument("--test-size", type=int, default=10000)
    parser.add_argument("--validation-size", type=int, default=0,
                        help="hold out this many training images (a fixed seeded draw, the same "
                             "for every run) as a labelled validation set: never trained on, "
                             "neither labelled nor unlabelled; each run reports its error on it, "
                             "so settings can be chosen without the test set")
    parser.add_argument("--settings-from", metavar="JSON",
                        help="a benchmarks/swwae_sweep.py results file: checks that this run uses "
                             "the settings it chose on validation, and records where they came "
                             "from")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..",
                                                      "benchmarks", "results"))
    parser.add_argument("--checkpoint-dir", default=None,
                        help="checkpoint every run after every epoch in DIR/labels<N>_seed<S>/ "
                             "and, rerun with the same command, resume from it")
    parser.add_argument("--tag", default="")
    parser.add_argument("--merge", nargs="+", metavar="JSON",
                        help="combine the runs of earlier result files (e.g. one per seed) into "
                             "one table instead of training")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.validation_size < 0:
        parser.error(f"--validation-size must be >= 0, got {args.validation_size}")
    if args.merge:
        return merge(args, argv)
    if args.settings_from:
        args.chosen = check_settings(parser, args)

    import keras

    import keras_ae
    from keras_ae.data import load_arrays, semi_supervised_dataset, to_float_images
    from keras_ae.reporting import machine
    from keras_ae.training import EpochCheckpoint, learning_rate, resumable_fit

    start, where = time.time(), machine()
    train_x, train_y = load_arrays("mnist", "train", data_dir=args.data_dir)
    test_x, test_y = load_arrays("mnist", "test", data_dir=args.data_dir)
    test_x, test_y = to_float_images(test_x[: args.test_size]), test_y[: args.test_size]
    train_x, train_y, val_x, val_y = hold_out(train_x, train_y, args.validation_size)
    runs = []
    for num_labels in args.labels:
        for seed in args.seeds:
            keras.utils.set_random_seed(seed)
            t0 = time.time()
            ds = semi_supervised_dataset(train_x, train_y, num_labels, batch_size=args.batch_size,
                                         seed=seed, labelled_fraction=args.labelled_fraction,
                                         labelled_shift=args.labelled_shift)
            model = keras_ae.models.build(
                args.model, input_shape=tuple(train_x.shape[1:]), filters=args.filters,
                kernel_sizes=kernel_sizes(args), head_units=args.head_units, dropout=args.dropout,
                lambda_rec=args.lambda_rec, lambda_m=args.lambda_m, middle_terms=args.middle_terms)
            model.compile(optimizer=keras.optimizers.Adam(learning_rate(
                args.learning_rate, args.lr_schedule, args.epochs * args.steps_per_epoch)))
            folder = (os.path.join(args.checkpoint_dir, f"labels{num_labels}_seed{seed}")
                      if args.checkpoint_dir else None)
            state = folder and EpochCheckpoint(folder).read_state()
            history = resumable_fit(model, ds, args.epochs, folder,
                                    steps_per_epoch=args.steps_per_epoch, verbose=2,
                                    shuffle=False)  # the pipeline shuffles
            predicted = model.predict_classes(test_x)
            error = 100.0 * float(np.mean(predicted != test_y))
            runs.append({"labels": num_labels, "seed": seed, "test_error_pct": error})
            if state:  # wall_time_s then counts only the epochs this process trained
                runs[-1]["resumed_from_checkpoint"] = state["epoch"]
            if len(val_x):
                runs[-1]["validation_error_pct"] = 100.0 * float(
                    np.mean(model.predict_classes(val_x) != val_y))
            runs[-1].update({"final_train_loss": float(history["loss"][-1]),
                             "wall_time_s": round(time.time() - t0, 1)})
            print(json.dumps(runs[-1]), flush=True)
            write(args, argv, runs, start, len(train_x), len(test_x), where)  # after every run


VALIDATION_SEED = 2016  # one held-out set for every run, whatever the run's seed


def hold_out(images, labels, size):
    """Splits ``size`` images (a fixed seeded draw) off the training set as a validation set."""
    if size >= len(images):
        raise ValueError(f"--validation-size must be below the {len(images)} training images, "
                         f"got {size}.")
    order = np.random.default_rng(VALIDATION_SEED).permutation(len(images))
    train, val = np.sort(order[size:]), np.sort(order[:size])
    from keras_ae.data import to_float_images

    return images[train], labels[train], to_float_images(images[val]), labels[val]


def validation_text(args):
    chosen, parts = getattr(args, "chosen", None), []
    if chosen:
        parts.append(f"Settings chosen on a held-out validation set at {chosen['labels']} labels "
                     f"(config {chosen['config']!r} of {chosen['file']}).")
    if getattr(args, "validation_size", 0):
        parts.append(f"{args.validation_size} training images held out as a labelled validation "
                     f"set (never trained on); its error is reported per run for choosing "
                     f"settings without the test set.")
    else:
        parts.append("No validation set here: every training image is used, labelled or not.")
    return " ".join(parts)


def check_settings(parser, args):
    """The sweep's chosen configuration, after checking that ``args`` applies its arguments."""
    with open(args.settings_from) as f:
        sweep = json.load(f)
    chosen = next(r for r in sweep["results"] if r["config"] == sweep["chosen"])
    wanted = vars(parser.parse_args(chosen["arguments"]))
    named = {a.lstrip("-").replace("-", "_") for a in chosen["arguments"] if a.startswith("--")}
    differ = sorted(k for k in named if wanted[k] != getattr(args, k))
    if differ:
        parser.error(f"--settings-from {args.settings_from} chose {sweep['chosen']!r} "
                     f"({' '.join(chosen['arguments'])}); this run differs in "
                     f"{', '.join('--' + k.replace('_', '-') for k in differ)}")
    return {"file": os.path.basename(args.settings_from), "config": sweep["chosen"],
            "arguments": chosen["arguments"], "labels": sweep["labels"]}


def augmentation_text(args):
    shift = getattr(args, "labelled_shift", 0)
    if not shift:
        return "No data augmentation."
    return (f"Data augmentation the paper does not describe: each labelled image is moved by a "
            f"random shift of up to {shift} pixel(s) along each axis every time it is drawn.")


def kernel_sizes(args):
    return args.kernel_sizes[0] if len(args.kernel_sizes) == 1 else args.kernel_sizes


def write(args, argv, runs, start, train_images, test_images, where, merged_from=None):
    """Writes the JSON record and Markdown table of ``runs``.

    ``merged_from``: for ``--merge``, ``{"files", "backend", "commands", "versions"}`` of the pooled
    files; the record then reports their backend and commands, not those of the merging process
    (``source_versions`` are the runs' packages, ``versions`` the merging process's).
    """
    import keras

    from keras_ae.reporting import command_line, write_report

    labels = sorted({r["labels"] for r in runs})
    summary = []
    for num_labels in labels:
        mine = [r for r in runs if r["labels"] == num_labels]
        errors = [r["test_error_pct"] for r in mine]
        summary.append({"labels": num_labels, "mean_error_pct": float(np.mean(errors)),
                        "std_error_pct": float(np.std(errors)), "seeds": len(errors),
                        "paper_error_pct": PAPER.get(num_labels)})
        if all("validation_error_pct" in r for r in mine):
            summary[-1]["mean_validation_error_pct"] = float(
                np.mean([r["validation_error_pct"] for r in mine]))
    examples_seen = args.epochs * args.steps_per_epoch * args.batch_size
    backend = merged_from["backend"] if merged_from else keras.backend.backend()
    record = {
        "experiment": "SWWAE semi-supervised MNIST",
        "command": command_line(argv, backend=None if merged_from else backend),
        "backend": backend,
        "machine": where,
        "platform": platform.platform(),
        "config": vars(args),
        "train_images": int(train_images), "test_images": int(test_images),
        "examples_seen_per_run": examples_seen,
        "epochs_over_60k_equivalent": round(examples_seen / train_images, 2),
        "protocol_gap": (
            "Shortened: each run sees epochs*steps*batch images (see examples_seen_per_run), "
            "a small fraction of the paper's training; seeds as listed (the paper's figures are "
            "not per-seed). " + validation_text(args) + " " + augmentation_text(args) + " "
            "The paper's MNIST architecture is not given in PAPERS.md; this is a small "
            f"{len(args.filters)}-stage conv net ({'-'.join(map(str, args.filters))} filters, "
            f"{' / '.join(f'{k}x{k}' for k in args.kernel_sizes)} kernels)."),
        "wall_time_s": round(time.time() - start, 1),
        "runs": runs, "summary": summary,
    }
    if merged_from:
        record["merged_from"] = merged_from["files"]
        record["source_commands"] = merged_from["commands"]
        record["source_versions"] = merged_from["versions"]  # "versions": the merging process's
        record["wall_time_s"] = round(sum(r["wall_time_s"] for r in runs), 1)
    stem = os.path.join(args.out, "swwae_semi_supervised" + (f"_{args.tag}" if args.tag else ""))
    lines = [
        "# SWWAE semi-supervised MNIST: test error %",
        "",
        f"Command: `{record['command']}`  ",
        *([f"Runs from: {'; '.join(f'`{c}`' for c in record['source_commands'])}  "]
          if merged_from else []),
        f"Machine: {record['machine']}; backend {record['backend']}; total wall time "
        f"{record['wall_time_s']} s. Each run: {args.epochs} x {args.steps_per_epoch} steps of "
        f"{args.batch_size} (= {record['epochs_over_60k_equivalent']} passes over "
        f"{train_images} images), "
        f"labelled fraction per batch {args.labelled_fraction}, test on {test_images} images.",
        "",
        f"{record['protocol_gap']}",
        "",
        "| labels | obtained error % (mean ± std) | seeds | paper (unconfirmed) |",
        "| --- | --- | --- | --- |",
    ]
    validated = all("mean_validation_error_pct" in s for s in summary)
    if validated:
        lines[-2:] = [lines[-2] + " validation error % (mean) |", lines[-1] + " --- |"]
    for s in summary:
        spread = f" ± {s['std_error_pct']:.2f}" if s["seeds"] > 1 else ""
        lines.append(f"| {s['labels']} | {s['mean_error_pct']:.2f}{spread} | "
                     f"{s['seeds']} | {s['paper_error_pct']} |"
                     + (f" {s['mean_validation_error_pct']:.2f} |" if validated else ""))
    write_report(stem, record, "\n".join(lines) + "\n")


def merge(args, argv):
    """Pools the runs of several result files written with the same training settings."""
    from keras_ae.reporting import machines_line

    runs, configs, machines, backends, commands, versions = [], [], [], [], [], []
    for path in args.merge:
        with open(path) as f:
            record = json.load(f)
        runs += record["runs"]
        backends.append(record.get("backend", "unrecorded"))
        commands.append(record.get("command", f"(not recorded in {os.path.basename(path)})"))
        # older files: constant rate, 3x3 kernels, no validation set
        configs.append({"lr_schedule": "constant", "kernel_sizes": [3], "validation_size": 0,
                        "chosen": None, "middle_terms": "what", "labelled_shift": 0,
                        **record["config"]})
        machines.append(record["machine"])
        versions.append(record.get("versions"))  # None: not recorded (files before 2026-11-25)
    keys = ("epochs", "steps_per_epoch", "batch_size", "labelled_fraction", "filters",
            "head_units", "dropout", "lambda_rec", "lambda_m", "learning_rate", "lr_schedule",
            "model", "kernel_sizes", "validation_size", "chosen", "middle_terms",
            "labelled_shift")
    for c in configs[1:]:
        if any(c[k] != configs[0][k] for k in keys):
            raise ValueError("--merge needs result files trained with the same settings.")
    for k in keys:
        setattr(args, k, configs[0][k])
    write(args, argv, runs, time.time(), record["train_images"], record["test_images"],
          machines_line(machines),
          merged_from={"files": [os.path.basename(p) for p in args.merge],
                       "backend": " + ".join(dict.fromkeys(backends)), "commands": commands,
                       "versions": versions})


if __name__ == "__main__":
    main()
