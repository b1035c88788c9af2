"""Training-step time of the conv autoencoder on each backend, in one run.

    python -m benchmarks.bench_conv_ae_step [--batch-size 128] [--steps 30]

Each backend runs in its own subprocess (Keras fixes the backend at import); the ratio column is
against the TensorFlow backend measured in the same run. Writes
benchmarks/results/conv_ae_step.{json,md}.
"""

import argparse
import os
import time

from benchmarks._common import BACKENDS, command_line, machine, run_in_backend, timestamp, write_results  # noqa: E402


def worker(batch_size, steps, warmup):
    import keras
    import numpy as np

    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images
    from keras_ae.models import ConvAutoencoder

    images, _ = read_idx_folder(SAMPLE_DIR, "train")
    x = to_float_images(images[:batch_size])
    keras.utils.set_random_seed(0)
    model = ConvAutoencoder()
    model.compile()
    for _ in range(warmup):
        model.train_on_batch(x, x)
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        model.train_on_batch(x, x)  # returns the loss as a Python float: the step has finished
        times.append(time.perf_counter() - start)
    times = np.array(times) * 1000
    return {"backend": keras.backend.backend(), "median_ms": float(np.median(times)),
            "p10_ms": float(np.percentile(times, 10)), "p90_ms": float(np.percentile(times, 90)),
            "params": int(model.count_params())}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        import json

        print(json.dumps(worker(args.batch_size, args.steps, args.warmup)))
        return
    start = time.time()
    where = machine()
    passthrough = ["--batch-size", str(args.batch_size), "--steps", str(args.steps),
                   "--warmup", str(args.warmup)]
    rows = [run_in_backend(os.path.abspath(__file__), b, passthrough) for b in BACKENDS]
    base = rows[0]["median_ms"]
    for r in rows:
        r["ratio_vs_tensorflow"] = r["median_ms"] / base
    took = time.time() - start
    payload = {"benchmark": "conv_autoencoder train step", "command": command_line(),
               "machine": where, "date": timestamp(), "batch_size": args.batch_size,
               "steps": args.steps, "seconds": round(took, 1), "results": rows}
    md = [f"Conv autoencoder (filters 32-64, {rows[0]['params']:,} parameters), one training step "
          f"at batch {args.batch_size} on 28×28×1 MNIST, median of {args.steps} steps after "
          f"{args.warmup} warm-up steps.", "",
          "| backend | median ms/step | p10–p90 ms | ratio vs TensorFlow |",
          "| --- | ---: | ---: | ---: |"]
    md += [f"| {r['backend']} | {r['median_ms']:.1f} | {r['p10_ms']:.1f}–{r['p90_ms']:.1f} | "
           f"{r['ratio_vs_tensorflow']:.2f}× |" for r in rows]
    md += ["", f"Command: `{payload['command']}` · machine: {where} · {payload['date']} · "
               f"took {took:.0f} s."]
    write_results("conv_ae_step", payload, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
