"""What to record next to a result: where it ran, with what, how it was started, when; and the
writing of it.

Shared by the benchmark scripts (``benchmarks/``) and the example scripts (``examples/``). This
module uses no deep-learning framework: ``machine()`` asks ``nvidia-smi`` about GPUs.
"""

import collections
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

__all__ = ["command_line", "machine", "machines_line", "timestamp", "versions", "write_report",
           "write_whole", "PACKAGES"]

#: The distributions whose versions :func:`versions` reports, when installed.
PACKAGES = ("keras", "numpy", "tensorflow", "jax", "jaxlib", "torch", "keras-ae")


def _gpus():
    """The GPUs ``nvidia-smi`` lists (e.g. ``"2x NVIDIA H100 80GB HBM3"``), else ``"no GPU"``."""
    if shutil.which("nvidia-smi") is None:
        return "no GPU"
    try:
        proc = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "no GPU"
    names = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    if proc.returncode != 0 or not names:
        return "no GPU"
    return " + ".join(name if n == 1 else f"{n}x {name}"
                      for name, n in collections.Counter(names).items())


_LOAD, _AT_START = ", load average ", " at start"  # how machine() ends; machines_line() reads it


def machine():
    """A one-line description of where the numbers were taken.

    CPU architecture and cores, RAM (when ``psutil`` is installed), GPUs, the process's nice
    level when raised, and the 1-minute load average now: call it before the work, so that the
    load it reports is other jobs'.
    """
    try:
        import psutil

        mem = f", {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"
    except ImportError:
        mem = ""
    nice = os.nice(0) if hasattr(os, "nice") else 0
    niced = f", nice {nice}" if nice > 0 else ""
    try:
        load = f"{_LOAD}{os.getloadavg()[0]:.1f}{_AT_START}"
    except (AttributeError, OSError):  # no load average on this platform
        load = ""
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores{mem}, "
            f"{_gpus()}{niced}{load}")


def machines_line(lines):
    """One line for several :func:`machine` lines (e.g. of merged runs): each distinct machine
    once, followed by the load average each of its runs started under."""
    loads = {}
    for line in lines:
        where, sep, load = line.partition(_LOAD)
        loads.setdefault(where, []).append(load.replace(_AT_START, "") if sep else None)
    return "; ".join(where + (f"{_LOAD}at start {' / '.join(l for l in ls if l)}" if any(ls) else "")
                     for where, ls in loads.items())


def command_line(argv=None, backend=None):
    """The command that started this script: ``python SCRIPT ARGS``, or ``python -m MODULE
    ARGS`` when it was started as a module (``python -m benchmarks.NAME``; the benchmarks import
    their package, so only that form runs).

    ``argv``: the arguments (default ``sys.argv[1:]``); ``backend``: a Keras backend to show as
    ``KERAS_BACKEND=...`` in front.
    """
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    origin = getattr(spec, "origin", None)
    if spec is not None and origin and os.path.abspath(sys.argv[0]) == os.path.abspath(origin):
        script = ["-m", spec.name]
    else:
        script = [os.path.relpath(sys.argv[0])]
    words = [*script, *(sys.argv[1:] if argv is None else argv)]
    prefix = f"KERAS_BACKEND={backend} " if backend else ""
    return f"{prefix}python {shlex.join(words)}"


def timestamp():
    """The current time in UTC, to the minute: ``"2025-01-31 14:05 UTC"``."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())


def versions():
    """Python's version and those of the installed :data:`PACKAGES` (a framework upgrade can move
    a result as much as a change of settings can; the record should say which ran).

    Read from the installed distributions' metadata: nothing is imported.
    """
    from importlib import metadata

    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def check_writable_folder(path, name="path", create=True):
    """Makes sure files can be written into the folder ``path`` (created if ``create``) before
    any long work starts; a ``ValueError`` naming ``name``, the path and the reason otherwise."""
    path = os.path.abspath(os.fspath(path))
    probe_dir = path
    while not os.path.exists(probe_dir):
        probe_dir = os.path.dirname(probe_dir)
    if not os.path.isdir(probe_dir):
        raise ValueError(f"{name} {path}: {probe_dir} is a file, not a folder.")
    try:
        if create:
            os.makedirs(path, exist_ok=True)
            probe_dir = path
        with tempfile.NamedTemporaryFile(dir=probe_dir, prefix=".write_check_"):
            pass
    except OSError as e:
        raise ValueError(f"{name} {path}: cannot write there ({e.strerror or e}).") from None
    return path


def write_whole(texts):
    """Writes each ``{path: text}`` through a temporary file, all of them before any is renamed
    into place: a failure while writing leaves every old file as it was, and a reader never sees
    half of a file."""
    aside = {path: f"{path}.tmp{os.getpid()}" for path in texts}
    try:
        for path, text in texts.items():
            with open(aside[path], "w") as f:
                f.write(text)
        for path, tmp in aside.items():
            os.replace(tmp, path)
    finally:
        for tmp in aside.values():
            if os.path.exists(tmp):
                os.remove(tmp)


def save_whole(model, path):
    """``model.save(path)`` (a ``.keras`` file), or ``model.save_weights(path)`` (a
    ``.weights.h5`` file), through a temporary file in the same folder, renamed into place: a
    failed save leaves no partial file and any old one as it was."""
    path = os.fspath(path)
    suffix = next((s for s in (".weights.h5", ".keras") if path.endswith(s)), None)
    if suffix is None:
        raise ValueError(f"path must end in .keras or .weights.h5, got {path!r}.")
    tmp = f"{path[:-len(suffix)]}.tmp{os.getpid()}{suffix}"
    save = model.save_weights if suffix == ".weights.h5" else model.save
    try:
        save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def write_report(stem, record, markdown, indent=1, default=None, echo=True):
    """Writes ``record`` to ``stem.json`` and ``markdown`` to ``stem.md``, then prints the latter
    (unless ``echo`` is false).

    The JSON record gains ``"versions"`` (:func:`versions`, of the environment writing it) unless
    it has one; ``default`` is passed to :func:`json.dumps` (e.g. ``str`` for values JSON has no
    type for). Both files are written aside first, then renamed into place: a failure
    leaves the previous pair as it was.
    """
    os.makedirs(os.path.dirname(os.path.abspath(stem)), exist_ok=True)
    if "versions" not in record:
        record = {**record, "versions": versions()}
    write_whole({stem + ".json": json.dumps(record, indent=indent, default=default),
                 stem + ".md": markdown})
    if echo:
        print(markdown.rstrip("\n"))
