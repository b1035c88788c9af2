"""Chooses SWWAE semi-supervised settings on a held-out validation set, never on the test set.

Each configuration changes one thing from the defaults of ``examples/swwae_semi_supervised.py``
(or combines earlier winners); every one is trained with the same labels, seeds, length and
held-out validation images (``--validation-size``: training images never trained on), in its own
process. The summary ranks the configurations by mean validation error; test errors are recorded
beside it but are not what chooses.

    KERAS_BACKEND=torch python benchmarks/swwae_sweep.py --data-dir /work/shared/datasets \\
        --labels 100 --seeds 0 1 --epochs 7 --steps-per-epoch 200 --configs base frac_0.1 ...

Writes ``benchmarks/results/swwae_sweep{_TAG}.{json,md}``.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))

# name -> arguments added to the example's command line (the defaults: filters 32 64, 3x3
# kernels, head 128 + dropout 0.5, lambda_rec 1, lambda_m 0.2, labelled fraction 0.5, Adam 1e-3
# at a constant rate)
CONFIGS = {
    "base": [],
    "frac_0.1": ["--labelled-fraction", "0.1"],
    "frac_0.2": ["--labelled-fraction", "0.2"],
    "rec_x5": ["--lambda-rec", "5", "--lambda-m", "1"],
    "rec_x0.2": ["--lambda-rec", "0.2", "--lambda-m", "0.04"],
    "rec_x50": ["--lambda-rec", "50", "--lambda-m", "10"],
    "rec_x500": ["--lambda-rec", "500", "--lambda-m", "100"],
    "no_rec": ["--lambda-rec", "0", "--lambda-m", "0"],  # supervised only: the control
    "linear_head": ["--head-units"],
    "wide": ["--filters", "64", "128"],
    "deep": ["--filters", "32", "64", "128"],
    "kernel_5": ["--kernel-sizes", "5"],
    "dropout_0.7": ["--dropout", "0.7"],
    "pre_pool": ["--middle-terms", "pre_pool"],
    "lr_3e-4": ["--learning-rate", "3e-4"],
    "cosine": ["--lr-schedule", "cosine"],  # Adam's rate annealed to zero over the run
    "shift_1": ["--labelled-shift", "1"],  # labelled images moved by up to 1 pixel per axis
    "shift_2": ["--labelled-shift", "2"],
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=7)
    parser.add_argument("--steps-per-epoch", type=int, default=200)
    parser.add_argument("--validation-size", type=int, default=5000)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS),
                        help=f"names from {sorted(CONFIGS)}; 'a+b' combines two")
    parser.add_argument("--out", default=os.path.join(HERE, "results"))
    parser.add_argument("--tag", default="")
    args = parser.parse_args(argv)
    extras = {name: config_args(name) for name in args.configs}  # unknown names fail first
    if args.validation_size <= 0:
        parser.error("--validation-size must be positive: the sweep chooses on it")

    from keras_ae.reporting import machine

    start, where = time.time(), machine()
    example = os.path.join(HERE, "..", "examples", "swwae_semi_supervised.py")
    results = []
    with tempfile.TemporaryDirectory() as scratch:
        for name, extra in extras.items():
            command = [sys.executable, example, "--labels", str(args.labels),
                       "--seeds", *map(str, args.seeds), "--epochs", str(args.epochs),
                       "--steps-per-epoch", str(args.steps_per_epoch),
                       "--validation-size", str(args.validation_size),
                       "--out", scratch, "--tag", "sweep", *extra]
            if args.data_dir:
                command += ["--data-dir", args.data_dir]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(scratch, "swwae_semi_supervised_sweep.json")) as f:
                record = json.load(f)
            summary, = record["summary"]  # one label count: the example's means over seeds
            results.append({
                "config": name, "arguments": extra, "runs": record["runs"],
                "mean_validation_error_pct": summary["mean_validation_error_pct"],
                "mean_test_error_pct": summary["mean_error_pct"],
                "std_test_error_pct": summary["std_error_pct"],
                "wall_time_s": record["wall_time_s"]})
            print(json.dumps({k: v for k, v in results[-1].items() if k != "runs"}), flush=True)
            write(args, argv, results, start, where, record)


def config_args(name):
    extra = []
    for part in name.split("+"):
        if part not in CONFIGS:
            raise SystemExit(f"unknown config {part!r}; choose from {sorted(CONFIGS)}")
        extra += CONFIGS[part]
    return extra


def write(args, argv, results, start, where, last):
    from keras_ae.reporting import command_line, write_report

    backend = last["backend"]  # the runs' own backend (KERAS_BACKEND reaches the subprocesses)
    ranked = sorted(results, key=lambda r: r["mean_validation_error_pct"])
    record = {
        "experiment": "SWWAE semi-supervised settings chosen on a validation set",
        "command": command_line(argv, backend=backend),
        "backend": backend, "machine": where, "labels": args.labels, "seeds": args.seeds,
        "epochs": args.epochs, "steps_per_epoch": args.steps_per_epoch,
        "validation_size": args.validation_size,
        "passes_over_training_images": last["epochs_over_60k_equivalent"],
        "rule": "the configuration with the lowest mean validation error is chosen; test "
                "errors are reported but do not choose",
        "chosen": ranked[0]["config"],
        "wall_time_s": round(time.time() - start, 1),
        "results": results,
    }
    lines = [
        f"# SWWAE semi-supervised settings, {args.labels} labels: chosen on validation",
        "",
        f"Command: `{record['command']}`  ",
        f"Machine: {where}; backend {backend}; total wall time {record['wall_time_s']} s. Each "
        f"run: {args.epochs} x {args.steps_per_epoch} steps of 128 "
        f"(= {record['passes_over_training_images']} passes over the "
        f"{last['train_images']} training images left after holding out "
        f"{args.validation_size} for validation), seeds {', '.join(map(str, args.seeds))}.",
        "",
        f"Rule: {record['rule']}. Chosen: **{record['chosen']}**.",
        "",
        "| config | changes from the defaults | validation error % (mean) | test error % "
        "(mean ± std) | wall time s |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in ranked:
        changes = " ".join(r["arguments"]) or "(defaults)"
        lines.append(f"| {r['config']} | `{changes}` | {r['mean_validation_error_pct']:.2f} | "
                     f"{r['mean_test_error_pct']:.2f} ± {r['std_test_error_pct']:.2f} | "
                     f"{r['wall_time_s']:.0f} |")
    stem = os.path.join(args.out, "swwae_sweep" + (f"_{args.tag}" if args.tag else ""))
    write_report(stem, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
