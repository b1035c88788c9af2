"""Validation curves of DrSAE runs: where the discriminative phase stops improving.

    python benchmarks/training_curves.py drsae_phase1_100.json drsae_sgd_150ep_lr0.02.json \
        [--tolerance 0.1] [--tag drsae_validation_curves]

Reads the per-epoch history that ``examples/drsae_mnist.py`` records for every run and prints,
per run, the validation error at the end of training, its minimum over the discriminative phase
(and the epoch of that minimum), what picking that best epoch would have gained, and the plateau
epoch: the first discriminative epoch after which the validation error never rises more than
``--tolerance`` points above its final value. ``--tag NAME`` also writes
``benchmarks/results/NAME.{md,json}`` (the table, the command, the machine) and ``NAME.png``
(every curve in one picture).
Files are results JSONs, by path or by name in ``benchmarks/results/``. Epochs count from 1 at
the start of the discriminative phase.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import RESULTS, command_line, machine, timestamp, write_report  # noqa: E402


def _path(name):
    return name if os.path.exists(name) else os.path.join(RESULTS, name)


def discriminative_errors(record, run):
    """Validation error % per discriminative epoch of one run of a DrSAE results record."""
    history = run.get("history", {})
    if "val_logits_accuracy" not in history:
        raise ValueError(f"run (units {run.get('units')}, seed {run.get('seed')}) has no "
                         f"'val_logits_accuracy' history: was it trained with validation data?")
    accuracy = np.asarray(history["val_logits_accuracy"], dtype=np.float64)
    return 100.0 * (1.0 - accuracy[int(record["unsupervised_epochs"]):])


def curve_summary(errors, tolerance=0.1):
    """Final, best (and its 1-based epoch), gain of picking the best, and plateau epoch."""
    errors = np.asarray(errors, dtype=np.float64)
    if errors.size == 0:
        raise ValueError("the run has no discriminative epochs")
    if not tolerance >= 0:
        raise ValueError(f"tolerance must be non-negative, got {tolerance!r}")
    final = float(errors[-1])
    best_index = int(np.argmin(errors))
    # Last epoch whose error is more than `tolerance` above the final one; the plateau follows.
    above = np.nonzero(errors > final + tolerance + 1e-9)[0]
    plateau = int(above[-1]) + 2 if above.size else 1
    return {"final": final, "best": float(errors[best_index]), "best_epoch": best_index + 1,
            "gain": final - float(errors[best_index]), "plateau_epoch": plateau,
            "epochs": int(errors.size)}


def summarise(files, tolerance=0.1):
    rows = []
    for name in files:
        path = _path(name)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no results file {name!r} (looked in {RESULTS} too)")
        with open(path) as f:
            record = json.load(f)
        for run in record.get("runs", []):
            errors = discriminative_errors(record, run)
            rows.append({"file": os.path.basename(path), "units": run.get("units"),
                         "steps": run.get("steps"), "seed": run.get("seed"),
                         "errors": errors.tolist(), **curve_summary(errors, tolerance)})
    return rows


def table(rows, tolerance):
    lines = ["| file | units x steps | seed | discriminative epochs | final val % | best val % "
             f"(epoch) | gain of best epoch | plateau from epoch (±{tolerance:g}) |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        lines.append(f"| {r['file']} | {r['units']}x{r['steps']} | {r['seed']} | {r['epochs']} | "
                     f"{r['final']:.2f} | {r['best']:.2f} ({r['best_epoch']}) | {r['gain']:.2f} "
                     f"| {r['plateau_epoch']} |")
    return "\n".join(lines)


def plot(rows, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4.5))
    for r in rows:
        ax.plot(np.arange(1, r["epochs"] + 1), r["errors"], lw=1,
                label=f"{r['file'][:-5]} {r['units']}x{r['steps']} s{r['seed']}")
    ax.set_xlabel("discriminative epoch")
    ax.set_ylabel("validation error %")
    low = min(min(r["errors"]) for r in rows)
    ax.set_ylim(max(low - 0.3, 0), low + 2.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("files", nargs="+", help="DrSAE results JSONs (path or name in results/)")
    p.add_argument("--tolerance", type=float, default=0.1,
                   help="points above the final validation error that still count as plateau")
    p.add_argument("--tag", default=None,
                   help="also write results/TAG.md, TAG.json and TAG.png (the curves)")
    args = p.parse_args(argv)
    if not args.tolerance >= 0:
        p.error(f"--tolerance must be non-negative, got {args.tolerance}")
    start, where = time.perf_counter(), machine()
    try:
        rows = summarise(args.files, args.tolerance)
    except (FileNotFoundError, ValueError) as error:
        p.error(str(error))
    text = table(rows, args.tolerance)
    if not args.tag:
        print(text)
        return rows
    picture = plot(rows, os.path.join(RESULTS, args.tag + ".png"))
    command = command_line(argv)
    record = {"command": command, "machine": where, "tolerance": args.tolerance,
              "files": args.files, "runs": rows, "png": os.path.basename(picture),
              "seconds": round(time.perf_counter() - start, 1), "when": timestamp()}
    write_report(os.path.join(RESULTS, args.tag), record,
                 f"#### Validation curves of DrSAE runs ({args.tag})\n\n`{command}`\n\n{text}\n\n"
                 f"Validation error % per discriminative-phase epoch, read from each run's "
                 f"recorded history (no training). Plateau: the first epoch after which the "
                 f"error never rises more than {args.tolerance:g} points above its final value. "
                 f"Curves: `{record['png']}`. {where}; {record['seconds']} s, {record['when']}.\n")
    return rows


if __name__ == "__main__":
    main()
