"""Writes the README's models table, benchmarks/results/models_table.md, from the rows file.

    python -m benchmarks.models_table

One row per model of keras_ae/reproduction/rows.toml. Every figure is read from JSON: the
obtained ones from the results files the row lists (with its ``key``; mean ± standard deviation
where there are several seeds), the paper's from ``keras_ae.models.<family>.reference.PAPERS``.
"""

import argparse
import os

from keras_ae import reproduction

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

INTRO = ("One row per model. Its settings, and how the recorded runs differ from the paper, are "
         "data in [`keras_ae/reproduction/rows.toml`](keras_ae/reproduction/rows.toml); "
         "`keras-ae reproduce ID` runs them (`--dry-run` prints the commands). Every obtained "
         "figure is read from the results files listed under the table (in "
         "[`benchmarks/results/`](benchmarks/results/), each with its command, machine and wall "
         "time): mean ± standard deviation over seeds where there are several. *second-hand*: a "
         "paper figure not checked against the paper.")
HEADER = [("| model (registry name) | paper | metric | paper protocol | best labelled variant "
           "(augmentation not in the paper) | paper's figure | docs | reproduce |"),
          "| --- | --- | --- | --- | --- | --- | --- | --- |"]


def _cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def paper_cell(row, results_dir):
    """The paper's figure(s), or "none published" and the row's baseline if it has one."""
    _, numbers, second_hand = reproduction.paper_figures(row)
    text = (" / ".join(map(str, numbers)) + (" (*second-hand*)" if second_hand else "")
            if numbers else "none published")
    baseline = row["paper_protocol"].get("baseline")
    if baseline:
        found = reproduction.figures(row["paper_protocol"], results_dir, key="baseline")
        text += (f"; reference, {baseline['label']}: "
                 f"{reproduction.format_figures(found, row.get('digits', 2))}")
    return text


def table_row(row, results_dir=RESULTS):
    digits = row.get("digits", 2)
    citation, _, _ = reproduction.paper_figures(row)
    obtained = reproduction.format_figures(
        reproduction.figures(row["paper_protocol"], results_dir), digits)
    best = row.get("best_labelled")
    best_text = "—" if best is None else (
        reproduction.format_figures(reproduction.figures(best, results_dir), digits)
        + f": {best['label']}")
    cells = [f"`{row['model']}`", citation, row["metric"], obtained, best_text,
             paper_cell(row, results_dir), f"[{os.path.basename(row['docs'])}]({row['docs']})",
             f"`keras-ae reproduce {row['id']}`"
             + ("<br>`--best-labelled`" if best is not None else "")]
    return "| " + " | ".join(_cell(c) for c in cells) + " |"


def files_lines(rows):
    """Below the table: the results files behind each row's figures."""
    lines = ["Results files (in `benchmarks/results/`):", ""]
    for row in rows:
        parts = [("paper protocol", row["paper_protocol"]),
                 ("best labelled", row.get("best_labelled"))]
        text = "; ".join(f"{name}: " + ", ".join(f"`{f}`" for f in part["results"])
                         + (" (models trained by " + ", ".join(f"`{f}`" for f in part["provenance"])
                            + ")" if part.get("provenance") else "")
                         for name, part in parts if part)
        lines.append(f"- `{row['id']}`: {text}")
    return lines


def table(rows=None, results_dir=RESULTS):
    """The Markdown of models_table.md for ``rows`` (default: the rows file's)."""
    rows = reproduction.rows() if rows is None else rows
    lines = [INTRO, "", *HEADER, *(table_row(r, results_dir) for r in rows), "",
             *files_lines(rows)]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(RESULTS, "models_table.md"))
    args = parser.parse_args(argv)
    text = table()
    with open(args.out, "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
