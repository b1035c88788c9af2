"""Shared helpers of the benchmark scripts: per-backend subprocesses, machine info, tables."""

import json
import os
import platform
import subprocess
import sys
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
BACKENDS = ("tensorflow", "jax", "torch")


def machine():
    """A one-line description of where the numbers were taken."""
    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        mem = ""
    try:
        load = ", load average %.1f at start" % os.getloadavg()[0]
    except OSError:
        load = ""
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores{mem}, no GPU{load}"


def run_in_backend(script, backend, args=()):
    """Runs ``script --worker`` under ``KERAS_BACKEND=backend``; returns its JSON (last stdout line)."""
    env = dict(os.environ, KERAS_BACKEND=backend)
    proc = subprocess.run([sys.executable, script, "--worker", *args], env=env,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{backend} worker failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_results(name, payload, markdown):
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump(payload, f, indent=2)
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as f:
        f.write(markdown)
    print(markdown)


def command_line():
    return "python " + " ".join([os.path.relpath(sys.argv[0])] + sys.argv[1:])


def timestamp():
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
