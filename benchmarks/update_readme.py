"""Copies the Markdown tables that the benchmark scripts wrote into README.md.

    python benchmarks/update_readme.py

README.md holds blocks ``<!-- include: benchmarks/results/NAME.md -->`` ... ``<!-- end include -->``;
each block's body is replaced by the current content of that file, so the README only ever shows
numbers that a script produced.
"""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BLOCK = re.compile(r"(<!-- include: (\S+) -->\n)(.*?)(<!-- end include -->)", re.S)


def main():
    path = os.path.join(ROOT, "README.md")
    text = open(path).read()

    def fill(match):
        src = os.path.join(ROOT, match.group(2))
        body = open(src).read() if os.path.exists(src) else f"*(not yet produced: run the script that writes {match.group(2)})*\n"
        return match.group(1) + body + match.group(4)

    new = BLOCK.sub(fill, text)
    if new != text:
        open(path, "w").write(new)
    print(f"README.md: {len(BLOCK.findall(text))} blocks refreshed")


if __name__ == "__main__":
    main()
