"""Choosing the probe's weight decay: every candidate as its own fit vs all as heads of one fit.

    KERAS_BACKEND=tensorflow python -m benchmarks.bench_probe_heads --examples 12000 --folds 5

``evaluation.choose_weight_decay`` runs k-fold cross-validation over :data:`L2_GRID` twice on
the same features, in the same process: ``joint=False`` (one ``train_linear_probe`` fit per
candidate and fold, the reference) and ``joint=True`` (per fold, one fit whose independent heads
are the candidates). Both must choose the same and report the same validation errors; the ratio
of their wall times is the speed-up. The features are the 2000 ReLU units of a random projection
of MNIST digits (the packaged sample tiled when the full set is not there): the timing depends
on their shape, not on their quality.

Writes ``benchmarks/results/probe_heads.json`` and ``probe_heads.md``.
"""

import argparse
import time

from benchmarks._common import command_line, machine, timestamp, write_results  # noqa: E402


def features(examples, dim, data_dir):
    import numpy as np

    from keras_ae.data import SAMPLE_DIR, load_arrays, read_idx_folder, to_float_images

    try:
        images, labels = load_arrays("mnist", "train", data_dir=data_dir, allow_download=False)
        source = "MNIST train"
    except (OSError, ValueError):
        images, labels = read_idx_folder(SAMPLE_DIR, "train")
        source = "packaged MNIST sample, tiled"
    reps = -(-examples // len(images))
    x = to_float_images(np.concatenate([images] * reps)[:examples]).reshape(examples, -1)
    y = np.concatenate([labels] * reps)[:examples]
    projection = np.random.default_rng(0).normal(size=(x.shape[1], dim)).astype("float32")
    return np.maximum(x @ projection / np.sqrt(x.shape[1]), 0), y, source


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--examples", type=int, default=12000)
    p.add_argument("--dim", type=int, default=2000)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--data-dir", default=None)
    args = p.parse_args(argv)

    import keras
    import numpy as np

    from keras_ae import evaluation

    start_all, where = time.perf_counter(), machine()
    x, y, source = features(args.examples, args.dim, args.data_dir)
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    rows = {}
    for joint in (False, True):
        start = time.perf_counter()
        selection = evaluation.choose_weight_decay(
            x, y, list(evaluation.L2_GRID), 10, mean, std, folds=args.folds, epochs=args.epochs,
            joint=joint)
        rows["joint heads" if joint else "one fit per candidate"] = {
            "seconds": round(time.perf_counter() - start, 1),
            "fits": args.folds * (1 if joint else len(evaluation.L2_GRID)),
            "validation_error": selection["validation_error"], "chosen": selection["chosen"]}
    separate, joint = rows["one fit per candidate"], rows["joint heads"]
    speedup = separate["seconds"] / joint["seconds"]
    max_diff = float(np.max(np.abs(np.subtract(separate["validation_error"],
                                               joint["validation_error"]))))
    payload = {"command": command_line(argv, backend=keras.backend.backend()),
               "backend": keras.backend.backend(), "keras": keras.__version__,
               "machine": where, "date": timestamp(), "args": vars(args), "features": source,
               "candidates": list(evaluation.L2_GRID), "rows": rows,
               "speedup": round(speedup, 2), "max_validation_error_difference": max_diff,
               "same_choice": separate["chosen"] == joint["chosen"],
               "wall_seconds": round(time.perf_counter() - start_all, 1)}
    lines = [
        "# Choosing the probe's weight decay: separate fits vs joint heads", "",
        f"`{payload['command']}`", "",
        "| way | fits | seconds | validation error per candidate % | chosen |",
        "| --- | --- | --- | --- | --- |"]
    for name, r in rows.items():
        errors = " / ".join(f"{100 * e:.2f}" for e in r["validation_error"])
        lines.append(f"| {name} | {r['fits']} | {r['seconds']} | {errors} | {r['chosen']:g} |")
    lines += ["", f"Speed-up {speedup:.2f}× ({args.folds}-fold cross-validation over "
              f"{len(evaluation.L2_GRID)} candidates, {args.examples} examples × {args.dim} "
              f"features from {source}, {args.epochs} epochs, {payload['backend']}); largest "
              f"difference in validation error {100 * max_diff:.3f} %, same choice: "
              f"{payload['same_choice']}. {where}; {payload['wall_seconds']} s, "
              f"{payload['date']}."]
    write_results("probe_heads", payload, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
