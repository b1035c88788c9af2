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
        if not os.path.exists(src):
            return match.group(1) + f"*(not yet produced: run the script that writes {match.group(2)})*\n" + match.group(4)
        # Results files start at heading level 1; inside the README they sit under a level-3 section.
        body = re.sub(r"^(#+) ", lambda h: "#" * min(len(h.group(1)) + 3, 6) + " ", open(src).read(), flags=re.M)
        # Pictures named relative to the results file become relative to the README.
        folder = os.path.dirname(match.group(2))
        body = re.sub(r"\]\(([^/():]+\.png)\)", lambda m: f"]({folder}/{m.group(1)})", body)
        return match.group(1) + body + match.group(4)

    new = BLOCK.sub(fill, text)
    if new != text:
        open(path, "w").write(new)
    print(f"README.md: {len(BLOCK.findall(text))} blocks refreshed")


if __name__ == "__main__":
    main()
