"""Shared helpers of the benchmark scripts: per-backend subprocesses, run description, tables."""

import json
import os
import subprocess
import sys
import time

from keras_ae.reporting import command_line, machine, timestamp, write_report

__all__ = ["BACKENDS", "RESULTS", "command_line", "interleaved_step_times", "machine",
           "run_in_backend", "timestamp", "write_report", "write_results"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
BACKENDS = ("tensorflow", "jax", "torch")


def run_in_backend(script, backend, args=()):
    """Runs the benchmark module of ``script`` (its ``__file__``) with ``--worker`` under
    ``KERAS_BACKEND=backend``; returns its JSON (last stdout line)."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    module = f"benchmarks.{os.path.splitext(os.path.basename(script))[0]}"
    proc = subprocess.run([sys.executable, "-m", module, "--worker", *args], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise RuntimeError(f"{backend} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_results(name, payload, markdown):
    """Writes ``results/NAME.json`` and ``results/NAME.md``, and prints the Markdown."""
    write_report(os.path.join(RESULTS, name), payload, markdown, indent=2)


def interleaved_step_times(steps, rounds, steps_per_round):
    """Seconds per call of each ``steps[name]`` (a callable running one training step and
    returning its loss), the callables taking turns in ``rounds`` rounds of ``steps_per_round``
    calls each, in ABBA order (the order reverses every round, so that none always runs first
    after the other) so that other jobs' load hits them alike. Each call waits for its loss
    (JAX dispatches asynchronously). Returns ``{name: [seconds, ...]}``."""
    import numpy as np

    times = {name: [] for name in steps}
    order = list(steps)
    for _ in range(rounds):
        order.reverse()
        for name in order:
            for _ in range(steps_per_round):
                start = time.perf_counter()
                float(np.asarray(steps[name]()))
                times[name].append(time.perf_counter() - start)
    return times
