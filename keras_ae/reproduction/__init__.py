"""Reproduction as data: the README's models table, one row per model, in ``rows.toml``.

Each row names the results files behind its figures and how to read them (``key``), the
paper's figure (a path into ``keras_ae.models.<family>.reference.PAPERS``), and the protocol as
data, which :func:`commands` turns into ``keras-ae train`` / ``keras-ae probe`` command lines and
:func:`run` runs (``keras-ae reproduce ID``)::

    from keras_ae import reproduction
    reproduction.commands("fc_wta", epochs_scale=0.05)   # argv lists for keras_ae.cli.main
    reproduction.figures(reproduction.row("fc_wta")["paper_protocol"])  # the recorded figure

``benchmarks/models_table.py`` writes the README's table from the same rows.
"""

import copy
import functools
import importlib
import json
import math
import os
import re
import shlex
import statistics

from keras_ae import catalog

ROWS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "rows.toml")
#: Where the rows' results files are, in a source checkout (they are not installed).
RESULTS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "benchmarks", "results")

#: ``protocol.train`` / ``protocol.probe`` options -> the ``keras-ae`` flags they become.
TRAIN_OPTIONS = {"epochs": "--epochs", "batch_size": "--batch-size",
                 "learning_rate": "--learning-rate", "lr_schedule": "--lr-schedule",
                 "shift": "--shift", "labels": "--labels", "validation_size": "--validation-size",
                 "limit": "--limit", "unsupervised_epochs": "--unsupervised-epochs",
                 "fine_tune_epochs": "--fine-tune-epochs", "set": "--set"}
PROBE_OPTIONS = {"labels": "--labels", "l2": "--l2", "folds": "--folds", "epochs": "--epochs",
                 "limit": "--limit",
                 "pool": "--pool", "stages": "--stages", "shift": "--shift",
                 "copies": "--copies", "batch_size": "--batch-size"}
_EPOCHS = ("epochs", "unsupervised_epochs", "fine_tune_epochs")
_REQUIRED = ("id", "model", "family", "docs", "metric", "paper", "paper_protocol", "protocol")
_KEY_PART = re.compile(r"([^.\[\]]+)((?:\[[^\]=]+=[^\]]*\])*)")


def _toml():
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        try:
            import tomli as tomllib
        except ModuleNotFoundError:
            raise RuntimeError("reading rows.toml needs Python >= 3.11 (tomllib) or the tomli "
                               "package") from None
    return tomllib


@functools.cache
def _rows(path, stamp):
    with open(path, "rb") as f:
        data = _toml().load(f)
    table = data.get("row")
    if not isinstance(table, list) or not table:
        raise ValueError(f"{path}: expected [[row]] tables")
    seen = set()
    for r in table:
        where = f"{path}: row {r.get('id', '?')!r}"
        try:
            validate(r)
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{where}: {e}") from None
        if r["id"] in seen:
            raise ValueError(f"{where}: duplicate id")
        seen.add(r["id"])
    return table


def rows(path=ROWS_FILE):
    """The rows of ``rows.toml``, parsed and validated (a ``ValueError`` names the bad row)."""
    path = os.path.abspath(path)
    stat = os.stat(path)
    return copy.deepcopy(_rows(path, (stat.st_mtime_ns, stat.st_size)))


def row(row_id, path=ROWS_FILE):
    """The row ``row_id``; a ``KeyError`` listing the ids if there is none."""
    for r in rows(path):
        if r["id"] == row_id:
            return r
    raise KeyError(f"no row {row_id!r}; rows: {', '.join(r['id'] for r in rows(path))}")


def _listed(value):
    return list(value) if isinstance(value, list) else [value]


def validate(r):
    """Checks one row's fields (see the comment at the top of rows.toml)."""
    missing = [k for k in _REQUIRED if k not in r]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    if r["model"] not in catalog.MODELS:
        raise ValueError(f"unknown model {r['model']!r}")
    if catalog.MODELS[r["model"]][0] != r["family"]:
        raise ValueError(f"{r['model']} is of family {catalog.MODELS[r['model']][0]!r}")
    if not re.fullmatch(r"docs/[\w-]+\.md", r["docs"]):
        raise ValueError(f"docs must be docs/NAME.md, got {r['docs']!r}")
    keys = _listed(r["paper_protocol"]["key"])
    for name, needed in (("paper_protocol", ("results", "key", "note")),
                         ("best_labelled", ("results", "key", "label"))):
        part = r.get(name)
        if part is None:
            continue
        if any(k not in part for k in needed):
            raise ValueError(f"{name} needs {', '.join(needed)}")
        files = part.get("results")
        if not files or not all(isinstance(f, str) and re.fullmatch(r"[\w.+-]+\.json", f)
                                for f in files + part.get("provenance", [])):
            raise ValueError(f"{name}.results must list results files (NAME.json)")
        if len(_listed(part["key"])) != len(keys):
            raise ValueError(f"{name}.key must give as many figures as paper_protocol.key")
        baseline = _listed(part["baseline"]["key"]) if "baseline" in part else []
        if baseline and (len(baseline) != len(keys) or "label" not in part["baseline"]):
            raise ValueError(f"{name}.baseline needs a label and one key per figure")
        for key in _listed(part["key"]) + baseline:
            _parse_key(key)
    papers = _listed(r["paper"])
    if len(papers) > 1 and len(papers) != len(keys):
        raise ValueError("paper must give one path, or one per key")
    for p in papers:
        paper_entry(r["family"], p)
    protocol = r["protocol"]
    if "dataset" not in protocol or "epochs" not in protocol.get("train", {}):
        raise ValueError("protocol needs a dataset and train.epochs")
    if not protocol.get("seeds") or not all(isinstance(s, int) for s in protocol["seeds"]):
        raise ValueError("protocol.seeds must list ints")
    changes = r.get("best_labelled", {}).get("changes", {})
    checked = [(protocol["train"], TRAIN_OPTIONS), (protocol.get("probe", {}), PROBE_OPTIONS),
               (changes.get("train", {}), TRAIN_OPTIONS), (changes.get("probe", {}), PROBE_OPTIONS)]
    for options, allowed in checked + [(v, TRAIN_OPTIONS) for v in protocol.get("variants", [])]:
        unknown = set(options) - set(allowed)
        if unknown:
            raise ValueError(f"unknown protocol option(s) {', '.join(sorted(unknown))}")
    if set(changes) - {"train", "probe"}:
        raise ValueError("best_labelled.changes may change train and probe options only")
    if len(protocol.get("variants", [None])) != len(keys):
        raise ValueError("protocol.variants must give one training per figure of the key")
    if protocol.get("output") not in ("metrics", "probe") or "output_key" not in protocol:
        raise ValueError("protocol.output must be 'metrics' or 'probe', with an output_key")
    if protocol["output"] == "probe" and "probe" not in protocol:
        raise ValueError("protocol.output 'probe' needs protocol.probe")
    _parse_key(protocol["output_key"])


# ------------------------------------------------------------------------- figures

def _parse_key(key):
    """``"a.b[f=v][g=w].c"`` -> ``[("a", []), ("b", [("f", "v"), ("g", "w")]), ("c", [])]``."""
    parts, pos = [], 0
    while True:
        m = _KEY_PART.match(key, pos) if isinstance(key, str) else None
        if not m:
            raise ValueError(f"bad key {key!r}")
        parts.append((m.group(1), re.findall(r"\[([^\]=]+)=([^\]]*)\]", m.group(2))))
        pos = m.end()
        if pos == len(key):
            return parts
        if key[pos] != ".":
            raise ValueError(f"bad key {key!r}")
        pos += 1


def _matches(element, field, text):
    if not isinstance(element, dict) or field not in element:
        return False
    value = element[field]
    return json.dumps(value) == text or str(value) == text


def read_key(data, key):
    """The numbers ``key`` selects in the JSON object ``data`` (a list: a filter matching several
    elements, or a list of numbers at the end, gives several). Raises ``KeyError`` if the key
    selects nothing, ``ValueError`` if it selects anything but finite numbers."""
    nodes = [data]
    for name, filters in _parse_key(key):
        found = []
        for node in nodes:
            if not isinstance(node, dict) or name not in node:
                raise KeyError(f"{key}: no {name!r}")
            value = node[name]
            if filters:
                if not isinstance(value, list):
                    raise KeyError(f"{key}: {name!r} is not a list")
                value = [v for v in value if all(_matches(v, f, t) for f, t in filters)]
                if not value:
                    raise KeyError(f"{key}: no element of {name!r} matches")
                found.extend(value)
            else:
                found.append(value)
        nodes = found
    numbers = [v for node in nodes for v in (node if isinstance(node, list) else [node])]
    if not numbers or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                              and math.isfinite(v) for v in numbers):
        raise ValueError(f"{key}: expected finite numbers, got {numbers!r}")
    return [float(v) for v in numbers]


def summarise(values):
    """``{"values", "n", "mean", "std"}``: the population standard deviation (0 for one)."""
    return {"values": list(values), "n": len(values), "mean": statistics.fmean(values),
            "std": statistics.pstdev(values)}


def figures(part, results_dir=RESULTS_DIR, key="key"):
    """One :func:`summarise` per key of ``part`` (a row's ``paper_protocol`` or
    ``best_labelled``; ``key="baseline"``: its baseline's keys), the values of all its results
    files pooled."""
    keys = _listed(part["baseline"]["key"] if key == "baseline" else part[key])
    loaded = []
    for name in part["results"]:
        with open(os.path.join(results_dir, name)) as f:
            loaded.append(json.load(f))
    return [summarise([v for data in loaded for v in read_key(data, k)]) for k in keys]


def paper_entry(family, path):
    """What ``path`` names in ``keras_ae.models.<family>.reference.PAPERS``: ``(citation,
    figure or None, second_hand)``; a ``KeyError`` if the path does not exist."""
    papers = importlib.import_module(f"keras_ae.models.{family}.reference").PAPERS
    first, *rest = path.split(".")
    node, parent = papers[first], papers
    for name in rest:
        if not isinstance(node, dict) or name not in node:
            raise KeyError(f"paper path {path!r}: no {name!r}")
        node, parent = node[name], node
    if isinstance(node, dict):
        if "citation" not in node or rest:
            raise ValueError(f"paper path {path!r} names neither a figure nor a paper")
        return papers[first]["citation"], None, False
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise TypeError(f"paper path {path!r} is not a number")
    return papers[first]["citation"], float(node), bool(parent.get("second_hand"))


def paper_figures(r):
    """``(citation, [figures], second_hand)`` of a row (no figures: the paper published none)."""
    entries = [paper_entry(r["family"], p) for p in _listed(r["paper"])]
    numbers = [e[1] for e in entries if e[1] is not None]
    return entries[0][0], numbers, any(e[2] for e in entries)


def format_figures(summaries, digits=2):
    """``"1.29 ± 0.05 (4 seeds)"``; several figures joined by `` / ``."""
    text = " / ".join(f"{s['mean']:.{digits}f}"
                      + (f" ± {s['std']:.{digits}f}" if s["n"] > 1 else "") for s in summaries)
    counts = [s["n"] for s in summaries]
    if max(counts) > 1:
        text += f" ({'/'.join(map(str, counts)) if len(set(counts)) > 1 else counts[0]} seeds)"
    return text


def listing(path=ROWS_FILE, results_dir=RESULTS_DIR):
    """The lines ``keras-ae reproduce --list`` prints: id, model, recorded figure, paper's."""
    table = rows(path)
    width = max(len(r["id"]) for r in table)
    lines = []
    for r in table:
        try:
            got = format_figures(figures(r["paper_protocol"], results_dir), r.get("digits", 2))
        except OSError:
            got = "(results files not in this installation)"
        _, paper, _ = paper_figures(r)
        ref = " / ".join(map(str, paper)) if paper else "none published"
        lines.append(f"{r['id']:<{width}}  {r['model']:<{width}}  {got}  (paper: {ref})")
    return lines


# ------------------------------------------------------------------------- commands

def _merged(base, changes):
    out = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def protocol_of(r, best_labelled=False):
    """The row's protocol, with ``best_labelled.changes`` merged in if asked."""
    if not best_labelled:
        return copy.deepcopy(r["protocol"])
    if "best_labelled" not in r:
        raise ValueError(f"row {r['id']!r} has no best_labelled variant")
    return _merged(r["protocol"], r["best_labelled"].get("changes", {}))


def _scaled(epochs, scale):
    return 0 if epochs == 0 else max(1, round(epochs * scale))


def _set_value(value):
    """A ``--set`` value as JSON, a string bare where JSON would not read it otherwise."""
    if isinstance(value, str):
        try:
            json.loads(value)
        except ValueError:
            return value
    return json.dumps(value, separators=(",", ":"))


def _variant_name(variant):
    flat = {**{k: v for k, v in variant.items() if k != "set"}, **variant.get("set", {})}
    return "_".join(f"{k}{json.dumps(v, separators=(',', ':'))}" for k, v in flat.items())


def plan(row_id, epochs_scale=1.0, out=None, best_labelled=False, data_dir=None):
    """The runs of a row, one seed after another (each seed over every variant): dicts with
    ``seed``, ``variant`` (a name or None), ``folder``, ``argv`` (the command lines) and
    ``output`` (the JSON file the figure is read from)."""
    if not (isinstance(epochs_scale, (int, float)) and epochs_scale > 0):
        raise ValueError(f"epochs_scale must be a number > 0, got {epochs_scale!r}")
    r = row(row_id)
    protocol = protocol_of(r, best_labelled)
    out = out or os.path.join("runs", "reproduce", row_id + ("_best" if best_labelled else ""))
    data = ["--dataset", protocol["dataset"]] + (["--data-dir", data_dir] if data_dir else [])
    variants = protocol.get("variants", [None])
    result = []
    for seed in protocol["seeds"]:
        for variant in variants:
            name = None if variant is None else _variant_name(variant)
            folder = os.path.join(out, *([name] if name else []), f"seed{seed}")
            train = _merged(protocol["train"], variant or {})
            given = dict(train)
            for key in _EPOCHS:
                if key in train:
                    train[key] = _scaled(train[key], epochs_scale)
            if "unsupervised_epochs" in train:  # a later phase keeps at least one epoch
                later = 1 if given["epochs"] > given["unsupervised_epochs"] else 0
                train["unsupervised_epochs"] = max(0, min(
                    round(given["unsupervised_epochs"] * epochs_scale), train["epochs"] - later))
            argv = ["train", r["model"], *data, "--seed", str(seed), "--out", folder, "--no-export"]
            for key, value in train.items():
                if key == "set":
                    for field, v in value.items():
                        argv += ["--set", f"{field}={_set_value(seed if v == '{seed}' else v)}"]
                else:
                    argv += [TRAIN_OPTIONS[key], str(value)]
            commands = [argv]
            output = os.path.join(folder, "metrics.json")
            if "probe" in protocol:
                probe = dict(protocol["probe"])
                if "epochs" in probe:
                    probe["epochs"] = _scaled(probe["epochs"], epochs_scale)
                argv = ["probe", os.path.join(folder, "model.keras"), *data, "--seed", str(seed)]
                for key, value in probe.items():
                    argv += [PROBE_OPTIONS[key], *map(str, _listed(value))]
                if protocol["output"] == "probe":
                    output = os.path.join(folder, "probe.json")
                commands.append(argv + ["--out", os.path.join(folder, "probe.json")])
            result.append({"seed": seed, "variant": name, "folder": folder, "argv": commands,
                           "output": output})
    return result


def commands(row_id, epochs_scale=1.0, out=None, best_labelled=False, data_dir=None):
    """The row's command lines as argv lists for ``keras_ae.cli.main``, in the order
    :func:`run` runs them. ``epochs_scale`` multiplies every epoch count (at least 1 each; a
    DrSAE keeps a discriminative epoch): a quick check of the pipeline, not the protocol.
    ``out`` defaults to ``runs/reproduce/<id>``; ``best_labelled`` merges in the augmented
    variant's changes; ``data_dir`` becomes each command's ``--data-dir``."""
    return [argv for one in plan(row_id, epochs_scale, out, best_labelled, data_dir)
            for argv in one["argv"]]


def shell_line(argv):
    """An argv list as the ``keras-ae ...`` line a shell would run."""
    return "keras-ae " + shlex.join(argv)


def run(row_id, out=None, dry_run=False, epochs_scale=1.0, best_labelled=False, data_dir=None,
        main=None):
    """Runs the row's commands with ``main`` (``keras_ae.cli.main``: this package sits below
    the command line and takes it as an argument), one seed after another, stopping at the first
    that fails, then reads each run's figure (``protocol.output_key``) and writes
    ``<out>/summary.json``. Returns the summary; ``dry_run``: the commands only, nothing run or
    written (``main`` may then be omitted)."""
    r = row(row_id)
    out = out or os.path.join("runs", "reproduce", row_id + ("_best" if best_labelled else ""))
    planned = plan(row_id, epochs_scale, out, best_labelled, data_dir)
    protocol = protocol_of(r, best_labelled)
    summary = {"row": row_id, "model": r["model"], "best_labelled": bool(best_labelled),
               "epochs_scale": epochs_scale,
               "note": " ".join([r["paper_protocol"]["note"]] + (
                   [f"Best labelled variant: {r['best_labelled']['label']}.",
                    r["best_labelled"].get("note", "")] if best_labelled else [])).strip(),
               "commands": [shell_line(a) for p in planned for a in p["argv"]], "dry_run": dry_run}
    if dry_run:
        return summary
    from keras_ae.reporting import write_whole

    if not callable(main):
        raise TypeError("main must be the command line's entry point, keras_ae.cli.main "
                        f"(argv list -> exit status), got {main!r}.")

    summary["exit_codes"], summary["ok"] = [], True
    for planned_run in planned:
        for argv in planned_run["argv"]:
            print(f"==> {shell_line(argv)}", flush=True)
            code = main(argv)
            summary["exit_codes"].append(code)
            if code != 0:
                summary["ok"] = False
                break
        if not summary["ok"]:
            break
    if summary["ok"]:
        by_variant = {}
        for planned_run in planned:
            with open(planned_run["output"]) as f:
                value = read_key(json.load(f), protocol["output_key"])
            by_variant.setdefault(planned_run["variant"], []).extend(value)
        summary["figures"] = [{"variant": name, **summarise(values)}
                              for name, values in by_variant.items()]
        part = r["best_labelled"] if best_labelled else r["paper_protocol"]
        try:
            summary["recorded"] = figures(part)
        except OSError:  # an installation without the results files
            summary["recorded"] = None
    os.makedirs(out, exist_ok=True)
    write_whole({os.path.join(out, "summary.json"): json.dumps(summary, indent=2)})
    return summary
