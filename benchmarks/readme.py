"""Fills the generated parts of README.md and docs/ from results files and the CLI's parser.

    python -m benchmarks.readme            # rewrite them
    python -m benchmarks.readme --check    # exit 1 if any is out of date (the test suite runs it)

A document holds blocks ``<!-- include: SOURCE -->`` ... ``<!-- end include -->``; each block's
body becomes SOURCE: a file (path from the repository root, e.g. a results table a script
wrote) or one of the generators below (``speed-summary``, ``cli-commands``). docs/cli.md is
written whole from the parser. So the documents show no number that no script produced and no
flag the parser does not have.
"""

import argparse
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
BLOCK = re.compile(r"(<!-- include: (\S+) -->\n)(.*?)(<!-- end include -->)", re.S)
DOCUMENTS = ("README.md", os.path.join("docs", "speed.md"), os.path.join("docs", "mae.md"),
             os.path.join("docs", "presets.md"), os.path.join("docs", "text.md"),
             os.path.join("docs", "search.md"), os.path.join("docs", "classic.md"))
CLI_DOC = os.path.join("docs", "cli.md")


def _load(name):
    with open(os.path.join(RESULTS, f"{name}.json")) as f:
        return json.load(f)


def _by_backend(rows, value):
    return {row["backend"]: value(row) for row in rows}


def speed_summary():
    """One line per speed benchmark: the ratio it measures on each backend, from its JSON."""
    pooling = _load("pooling")["results"]
    lines = [
        ("what-where pool + unpool vs the backend's native max-pool with argmax "
         "(28×28×32, forward + backward)", "pooling",
         {b: min(v["28x28x32"][k]["ratio_to_native"] for k in v["28x28x32"] if k.startswith("ours")
                 and k != "ours_portable" and k != "ours_no_xla")
          for b, v in pooling.items()}),
        ("Conv-WTA training step with sparsity vs without (fastest steps)", "wta_step",
         _by_backend(_load("wta_step")["results"], lambda r: r["ratio_of_min"])),
        ("DrSAE encoder step: shared-weight recurrent layer vs unrolled Dense stack", "drsae_step",
         _by_backend(_load("drsae_step")["results"],
                     lambda r: r["ms_per_step"]["layer"] / r["ms_per_step"]["dense_tied"])),
        ("conv autoencoder training step vs the TensorFlow backend", "conv_ae_step",
         _by_backend(_load("conv_ae_step")["results"], lambda r: r["ratio_vs_tensorflow"])),
        ("stacked Conv-WTA stage-1 step, 7×7 vs 11×11 decoder kernel (fastest steps)",
         "stacked_decoder_step",
         _by_backend(_load("stacked_decoder_step")["results"], lambda r: next(
             row["ratio_of_min"] for row in r["rows"] if row["decoder_kernel_size"] == 7))),
    ]
    probe = _load("probe_heads")
    lines.append(("probe weight-decay search: joint heads vs one fit per candidate "
                  "(time ratio)", "probe_heads", {probe["backend"]: 1 / probe["speedup"]}))
    out = ["| what is compared (ratio < 1: faster) | TensorFlow | JAX | PyTorch | results |",
           "| --- | ---: | ---: | ---: | --- |"]
    for what, name, ratios in lines:
        cells = [f"{ratios[b]:.2f}×" if b in ratios else "—" for b in ("tensorflow", "jax", "torch")]
        out.append(f"| {what} | {' | '.join(cells)} | "
                   f"[`{name}.md`](benchmarks/results/{name}.md) |")
    return "\n".join(out) + "\n"


def _subcommands(parser):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {c.dest: c.help for c in action._choices_actions}
    return [(name, sub, helps.get(name, "")) for name, sub in action.choices.items()]


def cli_commands():
    """The README's table of commands, from the parser."""
    from keras_ae.cli import build_parser

    out = ["| command | what it does |", "| --- | --- |"]
    for name, sub, text in _subcommands(build_parser()):
        out.append(f"| `keras-ae {name}` | {text} |")
    return "\n".join(out) + "\n"


def cli_reference():
    """docs/cli.md: every command's full usage and options, as ``--help`` prints them."""
    from keras_ae.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps to the terminal: fix it for a stable file
    parser = build_parser()
    parts = ["# Command-line reference", "",
             "Generated from the parser by `python -m benchmarks.readme`; `keras-ae COMMAND "
             "--help` prints the same.", "", "```text", parser.format_help().rstrip(), "```"]
    for name, sub, _ in _subcommands(parser):
        parts += ["", f"## keras-ae {name}", "", "```text", sub.format_help().rstrip(), "```"]
    return "\n".join(parts) + "\n"


def presets_table():
    """docs/presets.md's table of the shipped presets, one row each, from their metadata.json."""
    from keras_ae.models.presets import BUILTIN_DIR, WEIGHTS_FILE, list_presets

    out = ["| preset | model | trained on | parameters | weights | linear probe, 1,000 labels "
           "(test accuracy %) | test recon MSE | classifier test error % |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    shipped = list_presets()
    for name, meta in shipped.items():
        metrics = meta["metrics"]
        size = os.path.getsize(os.path.join(BUILTIN_DIR, name, WEIGHTS_FILE)) / 2**20

        def cell(label, pattern):
            value = next((v for k, v in metrics.items() if k.startswith(label)), None)
            return "—" if value is None else format(value, pattern)

        out.append(f"| [`{name}`](../keras_ae/models/presets/{name}/README.md) | "
                   f"`{meta['registered_name']}` | {meta['training']['data']}; "
                   f"{meta['training']['procedure']} | {meta['parameter_count']:,} | "
                   f"{size:.1f} MB | {cell('linear-probe', '.1f')} | "
                   f"{cell('test reconstruction', '.3g')} | {cell('classifier', '.2f')} |")
    if not shipped:
        out.append("| *(none built yet: `python -m benchmarks.presets`)* | | | | | | | |")
    return "\n".join(out) + "\n"


def models_table():
    """The README's models table: benchmarks/results/models_table.md without its list of
    results files (the file itself links them)."""
    with open(os.path.join(RESULTS, "models_table.md")) as f:
        text = f.read()
    table = text.split("Results files (in `benchmarks/results/`):")[0].rstrip("\n")
    return (table + "\n\nThe results files behind each row: "
            "[`benchmarks/results/models_table.md`](benchmarks/results/models_table.md).\n")


def leaderboard_summary():
    """The README's leaderboard: one line per model of benchmarks/results/leaderboard_mnist.json
    (mean ± std over its seeds), best 1,000-label probe first, with its provenance (seconds per
    epoch per backend: docs/leaderboard.md)."""
    from benchmarks.leaderboard import _pm, summary

    record = _load("leaderboard_mnist")
    stats = sorted(summary(record["rows"]).items(),
                   key=lambda item: -(item[1]["1000"] or (0, 0))[0])
    out = [f"{record['train_images']:,} training / {record['test_images']:,} test images, "
           f"{record['epochs']} epochs, no labels while training; `{record['command']}` "
           f"({record['machine']}; {record['date']}; {record['wall_seconds'] / 60:.0f} min).", "",
           "| model | seeds | probe acc. %: 100 / 1,000 / all labels | 10-NN acc. % | P@10 % "
           "| recon MSE | parameters |",
           "| --- | --- | --- | ---: | ---: | ---: | ---: |"]
    for name, s in stats:
        probes = " / ".join(_pm(s[b]) if s[b] is not None else "—" for b in ("100", "1000", "all"))
        cells = [f"`{name}`", ", ".join(map(str, s["seeds"])), probes, _pm(s["knn"]),
                 _pm(s["precision"]), _pm(s["mse"], ".4f"), f"{s['first']['parameters']:,}"]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def quality_floor_summary():
    """The README's quality floor: the table of benchmarks/results/quality_floor.md with its
    command and date; the notes stay in that file, linked."""
    with open(os.path.join(RESULTS, "quality_floor.md")) as f:
        lines = f.read().splitlines()
    command = next(line for line in lines if line.startswith("Command:")).rstrip()
    date = next(line for line in lines if line.startswith("Date:")).rstrip()
    table = [line for line in lines if line.startswith("|")]
    return "\n".join([f"{command} {date}. Notes, later reruns and machine: "
                      "[`quality_floor.md`](benchmarks/results/quality_floor.md).", "", *table]) + "\n"


GENERATORS = {"quality-floor-summary": quality_floor_summary, "speed-summary": speed_summary, "cli-commands": cli_commands,
              "presets-table": presets_table, "models-table": models_table,
              "leaderboard-summary": leaderboard_summary}


def render(text):
    def fill(match):
        source = match.group(2)
        if source in GENERATORS:
            body = GENERATORS[source]()
        elif not os.path.exists(os.path.join(ROOT, source)):
            body = f"*(not produced yet: run the script that writes `{source}`)*\n"
        else:
            with open(os.path.join(ROOT, source)) as f:  # its headings sit under a section
                body = re.sub(r"^#", "###", f.read(), flags=re.M)
            if not body.endswith("\n"):
                body += "\n"
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(fill, text)


def outputs():
    """``{path: the text it should hold}`` for every generated document."""
    out = {}
    for document in DOCUMENTS:
        with open(os.path.join(ROOT, document)) as f:
            out[document] = render(f.read())
    out[CLI_DOC] = cli_reference()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="only say which documents are out of date (exit status 1)")
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        full = os.path.join(ROOT, path)
        current = open(full).read() if os.path.exists(full) else None
        if current != text:
            stale.append(path)
            if not args.check:
                with open(full, "w") as f:
                    f.write(text)
    if args.check and stale:
        print("out of date (run python -m benchmarks.readme): " + ", ".join(stale))
        return 1
    print(("updated: " + ", ".join(stale)) if stale and not args.check else "up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
