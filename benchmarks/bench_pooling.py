"""Speed and peak memory of what-where pooling: pool then unpool, forward + backward.

For each backend, in its own subprocess of one run, our layers (``MaxPoolWithArgmax2D`` +
``Unpool2D``, through ``keras_ae.ops.whatwhere``) are timed against that backend's native path:

* TensorFlow: ``tf.nn.max_pool_with_argmax`` + ``tf.scatter_nd`` in a ``tf.function`` (this op
  cannot be XLA-compiled). Ours with and without XLA (``jit_compile=True``: what
  ``model.compile(jit_compile=True)`` gives).
* JAX: ``lax.reduce_window`` max, unpooling by gathering the pooled value back to the window and
  keeping it where it equals the input; all under ``jax.jit``.
* PyTorch (eager): ``max_pool2d(return_indices=True)`` + ``max_unpool2d`` on NCHW tensors. Ours
  is the layer's default (the torch fast path) and the portable ``keras.ops`` code.

The loss is ``sum(unpool(pool(x)) * g)``; the gradient is taken with respect to ``x``. Timing:
the variants of one backend alternate round by round in one process (the machine is shared, so
alternation spreads its noise evenly); the median per variant is reported, and the ratio to the
native path of the same run. Peak memory: each variant again in a fresh subprocess, the rise of
the process's peak resident memory (``ru_maxrss``) over the level after setup — coarse on CPU,
and 0 when the work fits in memory the process already held.

    python -m benchmarks.bench_pooling [--batch 128] [--rounds 15] [--backends tensorflow jax torch]

Writes ``benchmarks/results/pooling.json`` and ``benchmarks/results/pooling.md``.
"""

import argparse
import json
import os
import platform
import time

from benchmarks._common import RESULTS, command_line, machine, run_in_backend, write_report  # noqa: E402

SHAPES = [(28, 28, 32), (32, 32, 64)]
VARIANTS = {
    "tensorflow": ["native", "ours_xla", "ours_no_xla"],
    "jax": ["native", "ours"],
    "torch": ["native", "ours", "ours_portable"],
}


# ------------------------------------------------------------------------------------------
# Inside a backend's subprocess


def _step_functions(backend, batch, shape):
    """{variant: zero-argument callable running one forward + backward, blocking until done}."""
    import numpy as np

    h, w, c = shape
    rng = np.random.default_rng(0)
    x_np = rng.random((batch, h, w, c)).astype("float32")
    g_np = rng.normal(size=(batch, h, w, c)).astype("float32")
    from keras_ae.ops import whatwhere

    fns = {}
    if backend == "tensorflow":
        import tensorflow as tf

        x, g = tf.constant(x_np), tf.constant(g_np)

        def native():
            with tf.GradientTape() as tape:
                tape.watch(x)
                pooled, where = tf.nn.max_pool_with_argmax(x, 2, 2, "VALID",
                                                           include_batch_in_index=True)
                out = tf.scatter_nd(tf.reshape(where, [-1, 1]), tf.reshape(pooled, [-1]),
                                    [batch * h * w * c])
                loss = tf.reduce_sum(tf.reshape(out, x.shape) * g)
            return tape.gradient(loss, x)

        def ours():
            with tf.GradientTape() as tape:
                tape.watch(x)
                pooled, where = whatwhere.max_pool_with_argmax(x, 2)
                out = whatwhere.unpool_with_argmax(pooled, where, (h, w), 2)
                loss = tf.reduce_sum(out * g)
            return tape.gradient(loss, x)

        for name, fn, xla in (("native", native, False), ("ours_xla", ours, True),
                              ("ours_no_xla", ours, False)):
            compiled = tf.function(fn, jit_compile=xla)
            fns[name] = (lambda f=compiled: f().numpy())
    elif backend == "jax":
        import jax
        import jax.numpy as jnp

        x, g = jnp.asarray(x_np), jnp.asarray(g_np)

        def native_loss(x):
            pooled = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 2, 2, 1), (1, 2, 2, 1),
                                           "VALID")
            up = pooled[:, jnp.arange(h) // 2][:, :, jnp.arange(w) // 2]
            out = jnp.where(x == up, up, 0.0)
            return jnp.sum(out * g)

        def ours_loss(x):
            pooled, where = whatwhere.max_pool_with_argmax(x, 2)
            return jnp.sum(whatwhere.unpool_with_argmax(pooled, where, (h, w), 2) * g)

        for name, loss in (("native", native_loss), ("ours", ours_loss)):
            grad = jax.jit(jax.grad(loss))
            fns[name] = (lambda f=grad: f(x).block_until_ready())
    else:
        import torch
        import torch.nn.functional as F

        x_nchw = torch.tensor(x_np).permute(0, 3, 1, 2).contiguous()
        g_nchw = torch.tensor(g_np).permute(0, 3, 1, 2).contiguous()
        x_nhwc, g_nhwc = torch.tensor(x_np), torch.tensor(g_np)

        def native():
            xv = x_nchw.detach().requires_grad_(True)
            pooled, index = F.max_pool2d(xv, 2, 2, return_indices=True)
            out = F.max_unpool2d(pooled, index, 2, 2, output_size=(h, w))
            (out * g_nchw).sum().backward()
            return xv.grad

        def ours(implementation):
            xv = x_nhwc.detach().requires_grad_(True)
            pooled, where = whatwhere.max_pool_with_argmax(xv, 2, implementation=implementation)
            out = whatwhere.unpool_with_argmax(pooled, where, (h, w), 2,
                                               implementation=implementation)
            (out * g_nhwc).sum().backward()
            return xv.grad

        fns = {"native": native, "ours": lambda: ours("auto"),
               "ours_portable": lambda: ours("portable")}
    return fns


def _child_timing(backend, batch, rounds):
    import numpy as np

    out = {}
    for shape in SHAPES:
        fns = _step_functions(backend, batch, shape)
        for fn in fns.values():  # compile / warm up
            for _ in range(3):
                fn()
        times = {name: [] for name in fns}
        for _ in range(rounds):
            for name, fn in fns.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        out["x".join(map(str, shape))] = {
            name: {"median_ms": 1e3 * float(np.median(t)), "min_ms": 1e3 * float(np.min(t))}
            for name, t in times.items()}
    return out


def _child_memory(backend, batch, shape, variant):
    import resource

    fn = _step_functions(backend, batch, shape)[variant]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(3):
        fn()
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_rss_rise_mib": (after - before) / 1024.0}


def _run_child(backend, args, extra):
    return run_in_backend(os.path.abspath(__file__), backend,
                          ["--batch", str(args.batch), "--rounds", str(args.rounds), *extra])


# ------------------------------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--backends", nargs="+", default=list(VARIANTS))
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-shape")
    parser.add_argument("--memory-variant")
    parser.add_argument("--out", default=RESULTS)
    args = parser.parse_args(argv)

    if args.worker:
        backend = os.environ["KERAS_BACKEND"]
        if args.memory_shape:
            shape = tuple(int(v) for v in args.memory_shape.split("x"))
            result = _child_memory(backend, args.batch, shape, args.memory_variant)
        else:
            result = _child_timing(backend, args.batch, args.rounds)
        print(json.dumps(result))
        return

    where = machine()  # before the runs, so the load average is other jobs', not ours
    start = time.time()
    results = {}
    for backend in args.backends:
        print(f"timing {backend} ...", flush=True)
        timing = _run_child(backend, args, [])
        for shape_key, per_variant in timing.items():
            native = per_variant["native"]["median_ms"]
            for variant, row in per_variant.items():
                row["ratio_to_native"] = row["median_ms"] / native
                if not args.no_memory:
                    mem = _run_child(backend, args, ["--memory-shape", shape_key,
                                                     "--memory-variant", variant])
                    row.update(mem)
        results[backend] = timing
        print(json.dumps(timing, indent=1), flush=True)

    import keras

    record = {
        "benchmark": "pool (2x2, stride 2) then unpool, forward + backward w.r.t. the input",
        "command": command_line(argv),
        "batch": args.batch, "rounds": args.rounds, "shapes_hwc": SHAPES,
        "machine": where,
        "platform": platform.platform(), "keras": keras.__version__,
        "wall_time_s": round(time.time() - start, 1),
        "results": results,
    }
    lines = [
        "# What-where pooling: pool + unpool, forward + backward",
        "",
        f"Batch {args.batch}, 2x2 windows, median of {args.rounds} alternating rounds; "
        f"machine: {record['machine']}. Ratio = our time / the same backend's native path in "
        "the same run (target <= 1.0). Peak memory: rise of peak RSS over the post-setup "
        "level, each variant in a fresh process (coarse).",
        "",
        f"Command: `{record['command']}` (wall time {record['wall_time_s']} s).",
        "",
        "| backend | variant | shape (HxWxC) | median ms | ratio to native | peak RSS rise MiB |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for backend, timing in results.items():
        for shape_key, per_variant in timing.items():
            for variant, row in per_variant.items():
                mem = row.get("peak_rss_rise_mib")
                lines.append(f"| {backend} | {variant} | {shape_key} | {row['median_ms']:.1f} | "
                             f"{row['ratio_to_native']:.2f} | "
                             f"{'-' if mem is None else f'{mem:.0f}'} |")
    write_report(os.path.join(args.out, "pooling"), record, "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
