"""Copies the Markdown tables that the benchmark scripts wrote into README.md and
benchmarks/RESULTS.md.

    python -m benchmarks.update_readme

Both documents hold blocks ``<!-- include: benchmarks/results/NAME.md -->`` ...
``<!-- end include -->``; each block's body is replaced by the current content of that file, so
the documents only ever show numbers that a script produced. README.md carries the models table
and the runs behind it; RESULTS.md keeps the full record of every run, in the order they were made.
"""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = re.compile(r"(<!-- include: (\S+) -->\n)(.*?)(<!-- end include -->)", re.S)
DOCUMENTS = ("README.md", os.path.join("benchmarks", "RESULTS.md"))


def refresh(document):
    path = os.path.join(ROOT, document)
    here = os.path.dirname(path)
    text = open(path).read()

    def fill(match):
        src = os.path.join(ROOT, match.group(2))
        if not os.path.exists(src):
            return (match.group(1) + f"*(not yet produced: run the script that writes "
                    f"{match.group(2)})*\n" + match.group(4))
        # Results files start at heading level 1; in the documents they sit under level-3 sections.
        body = re.sub(r"^(#+) ", lambda h: "#" * min(len(h.group(1)) + 3, 6) + " ",
                      open(src).read(), flags=re.M)
        # Pictures named relative to the results file become relative to the document.
        folder = os.path.relpath(os.path.dirname(src), here)
        body = re.sub(r"\]\(([^/():]+\.png)\)", lambda m: f"]({folder}/{m.group(1)})", body)
        return match.group(1) + body + match.group(4)

    new = BLOCK.sub(fill, text)
    if new != text:
        open(path, "w").write(new)
    print(f"{document}: {len(BLOCK.findall(text))} blocks refreshed")


def main():
    for document in DOCUMENTS:
        refresh(document)


if __name__ == "__main__":
    main()
