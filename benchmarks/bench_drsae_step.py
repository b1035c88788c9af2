"""Training-step time of ``UnrolledSparseEncoder`` vs an explicit unrolled stack of Dense layers.

For each backend (each in its own subprocess of one run), times one ``fit`` step of
``x → encoder (T steps) → linear decoder → MSE(x)`` at batch 128, 784 inputs, 400 units, T = 11:

* ``layer``: ``UnrolledSparseEncoder`` (input drive computed once, first step skips ``z @ S``);
* ``layer_scaled``: the same with ``scale_shared_gradients=True`` (the paper's per-weight
  learning-rate division);
* ``dense_tied`` (baseline): the same parameters as Keras ``Dense`` layers called once per step
  (``Dense(E)`` on x and ``Dense(S)`` on z, the two layer objects reused at every step);
* ``dense_untied``: a plain stack of T separate ``Dense`` pairs (T times the parameters), for
  reference.

Reports milliseconds per step (median of repeats, the variants interleaved so machine load hits
them alike) and the ratio to ``dense_tied`` measured in the same process.
Writes ``benchmarks/results/drsae_step.json`` and ``.md``.

    python -m benchmarks.bench_drsae_step --backends tensorflow,jax,torch
"""

import argparse
import json
import os
import platform
import time

from benchmarks._common import (RESULTS, command_line, machine, run_in_backend, timestamp,  # noqa: E402
                     write_report)

VARIANTS = ("layer", "layer_scaled", "dense_tied", "dense_untied")


def build(variant, input_dim, units, steps):
    import keras

    from keras_ae.layers import UnrolledSparseEncoder

    inputs = keras.Input((input_dim,))
    if variant in ("layer", "layer_scaled"):
        z = UnrolledSparseEncoder(units, steps=steps, recurrent_initializer="orthogonal",
                                  scale_shared_gradients=variant == "layer_scaled")(inputs)
    elif variant == "dense_tied":
        encode = keras.layers.Dense(units, name="E")
        recur = keras.layers.Dense(units, use_bias=False, name="S",
                                   kernel_initializer="orthogonal")
        z = keras.layers.ReLU()(encode(inputs))
        for _ in range(steps - 1):
            z = keras.layers.ReLU()(keras.layers.Add()([encode(inputs), recur(z)]))
    elif variant == "dense_untied":
        z = keras.layers.ReLU()(keras.layers.Dense(units)(inputs))
        for _ in range(steps - 1):
            z = keras.layers.ReLU()(keras.layers.Add()([
                keras.layers.Dense(units)(inputs),
                keras.layers.Dense(units, use_bias=False, kernel_initializer="orthogonal")(z)]))
    else:
        raise ValueError(f"unknown variant {variant!r}")
    out = keras.layers.Dense(input_dim, use_bias=False)(z)
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.SGD(1e-3), loss="mse")
    return model


def worker(args):
    import keras
    import numpy as np

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = args.batch_size * args.steps_per_repeat
    x = rng.random((n, args.input_dim)).astype("float32")
    models = {v: build(v, args.input_dim, args.units, args.steps) for v in VARIANTS}
    for model in models.values():  # compile/trace outside the timing
        model.fit(x, x, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
    times = {v: [] for v in VARIANTS}
    for _ in range(args.repeats):
        for v, model in models.items():
            start = time.perf_counter()
            model.fit(x, x, batch_size=args.batch_size, epochs=1, verbose=0, shuffle=False)
            times[v].append(1000.0 * (time.perf_counter() - start) / args.steps_per_repeat)
    median = {v: float(np.median(t)) for v, t in times.items()}
    params = {v: int(sum(np.prod(w.shape) for w in m.trainable_weights)) for v, m in models.items()}
    result = {"backend": keras.backend.backend(), "ms_per_step": median, "all_ms": times,
              "params": params,
              "ratio_to_dense_tied": {v: median[v] / median["dense_tied"] for v in VARIANTS}}
    print(json.dumps(result), flush=True)


def markdown(report):
    lines = ["# DrSAE encoder: training-step time, shared-weight layer vs unrolled Dense stack", "",
             f"Command: `{report['command']}`  ",
             f"Machine: {report['machine']}; keras {report['keras']}  ",
             f"Step: batch {report['batch_size']}, {report['input_dim']} → {report['units']} units, "
             f"T = {report['steps']}, linear decoder, MSE, SGD; median of {report['repeats']} "
             f"repeats × {report['steps_per_repeat']} steps. Ratio < 1: faster than the baseline "
             "(`dense_tied`, same parameters) measured in the same process.", "",
             "| backend | variant | params | ms / step | ratio to dense_tied |",
             "| --- | --- | --- | --- | --- |"]
    for r in report["results"]:
        if "error" in r:
            lines.append(f"| {r['backend']} | failed: {r['error'][:80]} | | | |")
            continue
        for v in VARIANTS:
            lines.append(f"| {r['backend']} | {v} | {r['params'][v]} | {r['ms_per_step'][v]:.1f} "
                         f"| {r['ratio_to_dense_tied'][v]:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="tensorflow,jax,torch")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--input-dim", type=int, default=784)
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--steps", type=int, default=11)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps-per-repeat", type=int, default=10)
    parser.add_argument("--out", default=os.path.join(RESULTS, "drsae_step"))
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    import keras

    where = machine()  # before the runs, so the load average is other jobs', not ours

    forwarded = [f"--batch-size={args.batch_size}", f"--input-dim={args.input_dim}",
                 f"--units={args.units}", f"--steps={args.steps}", f"--repeats={args.repeats}",
                 f"--steps-per-repeat={args.steps_per_repeat}"]
    results = []
    for backend in args.backends.split(","):
        start = time.time()
        try:
            result = run_in_backend(os.path.abspath(__file__), backend, forwarded)
        except RuntimeError as error:
            results.append({"backend": backend, "error": str(error).strip()[-500:]})
        else:
            results.append({**result, "wall_s": round(time.time() - start, 1)})
        print(json.dumps(results[-1].get("ratio_to_dense_tied", results[-1])), flush=True)
    report = {"command": command_line(argv), "machine": where, "date": timestamp(),
              "keras": keras.__version__, "platform": platform.platform(),
              "batch_size": args.batch_size, "input_dim": args.input_dim, "units": args.units,
              "steps": args.steps, "repeats": args.repeats,
              "steps_per_repeat": args.steps_per_repeat, "results": results}
    write_report(args.out, report, markdown(report), indent=2)


if __name__ == "__main__":
    main()
