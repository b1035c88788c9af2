"""Stacked Conv-WTA: a stage-1 training step by the size of that stage's decoder kernel.

    python -m benchmarks.bench_stacked_decoder --backends tensorflow --sizes 11 7 5

The second stage of a ``StackedConvWTA`` (128 -> 128 maps by default) works on the first
stage's max-pooled 14×14 maps and reconstructs them through its own linear transposed conv.
For each decoder kernel size, the stage-1 trainer (``StackedConvWTA.stage_model(1)``, stage 0
frozen) takes ``train_on_batch`` steps on the same batch of MNIST digits, the sizes alternating
in rounds so that other jobs' load hits them alike. Reported: median and fastest step per size,
and each size's fastest step as a ratio of the first size's (the baseline, 11 by default: the
paper's single-layer kernel), from the same process. Each backend runs in its own subprocess.

Writes ``benchmarks/results/<tag>.json`` and ``.md`` (tag ``stacked_decoder_step``).
"""

import argparse
import json
import os
import statistics
import sys
import time

from benchmarks._common import (command_line, interleaved_step_times, machine, run_in_backend,  # noqa: E402
                     timestamp, write_results)


def worker(args):
    import keras
    import numpy as np

    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images
    from keras_ae.models.wta import StackedConvWTA

    images, _ = read_idx_folder(SAMPLE_DIR, "train")
    x = to_float_images(images[:args.batch_size])
    if len(x) < args.batch_size:  # the shipped sample may be smaller than a batch
        x = np.concatenate([x] * (args.batch_size // len(x) + 1))[:args.batch_size]
    trainers = {}
    for size in args.sizes:
        keras.utils.set_random_seed(0)
        model = StackedConvWTA(filters=args.filters, decoder_kernel_size=[11, size], k=args.k)
        model.encoder.get_layer("stage0_conv").trainable = False
        trainer = model.stage_model(1)
        trainer.compile(optimizer=keras.optimizers.Adam(1e-3), loss=None)
        for _ in range(args.warmup):
            trainer.train_on_batch(x)
        trainers[size] = trainer
    times = interleaved_step_times(
        {size: (lambda t=trainer: t.train_on_batch(x)) for size, trainer in trainers.items()},
        args.rounds, args.steps)
    base = min(times[args.sizes[0]])
    print(json.dumps({"backend": keras.backend.backend(), "rows": [
        {"decoder_kernel_size": size, "median_ms": round(1000 * statistics.median(t), 1),
         "min_ms": round(1000 * min(t), 1), "ratio_of_min": round(min(t) / base, 3),
         "steps": len(t)} for size, t in times.items()]}))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--backends", nargs="+", default=["tensorflow"])
    p.add_argument("--sizes", type=int, nargs="+", default=[11, 7, 5],
                   help="stage-1 decoder kernel sizes; the first is the baseline")
    p.add_argument("--filters", type=int, nargs=2, default=[128, 128])
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--k", type=float, default=0.05)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--tag", default="stacked_decoder_step")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    if any(size < 1 for size in args.sizes):
        p.error(f"--sizes must be positive, got {args.sizes}")

    forwarded = list(argv if argv is not None else sys.argv[1:])
    where, when, start = machine(), timestamp(), time.perf_counter()
    results = [run_in_backend(os.path.abspath(__file__), b, forwarded) for b in args.backends]
    record = {"what": "StackedConvWTA stage-1 train_on_batch step (stage 0 frozen) by stage-1 "
                      "decoder kernel size; same batch, sizes alternating in rounds",
              "command": command_line(forwarded), "machine": where, "date": when,
              "config": {"filters": args.filters, "stage0_decoder_kernel_size": 11,
                         "input": [args.batch_size, 28, 28, 1], "k": args.k,
                         "warmup": args.warmup, "rounds": args.rounds,
                         "steps_per_round": args.steps},
              "results": results, "wall_seconds": round(time.perf_counter() - start, 1)}
    steps_per_epoch = 60000 // args.batch_size
    lines = [f"# Stacked Conv-WTA: stage-1 step by decoder kernel size ({args.tag})", "",
             f"`{record['command']}` — {where}; filters {args.filters}, batch "
             f"{args.batch_size}×28×28×1 (stage 1 on the pooled 14×14 maps), {when}.", "",
             "| backend | stage-1 decoder kernel | step, median (ms) | fastest step (ms) | "
             f"fastest vs {args.sizes[0]}×{args.sizes[0]} | minutes per 60,000-image epoch "
             "(fastest step) |", "| --- | --- | --- | --- | --- | --- |"]
    for result in results:
        for r in result["rows"]:
            size = r["decoder_kernel_size"]
            lines.append(f"| {result['backend']} | {size}×{size} | {r['median_ms']:.0f} | "
                         f"{r['min_ms']:.0f} | {r['ratio_of_min']:.2f}× | "
                         f"{r['min_ms'] * steps_per_epoch / 60000:.1f} |")
    lines += ["", f"{results[0]['rows'][0]['steps'] if results else 0} steps per size after "
              f"{args.warmup} warm-up steps; wall time {record['wall_seconds']:.0f} s."]
    write_results(args.tag, record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
