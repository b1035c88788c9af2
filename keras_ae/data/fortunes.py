"""A labelled text corpus available offline: the fortune cookie files of BSD ``fortune``.

Debian's ``fortunes`` package (BSD licence; ``apt-get install -y fortunes``) installs about forty
topical files (``computers``, ``food``, ``law``, ``science``, ...) under
:data:`DEBIAN_FORTUNES_DIR`; each holds short texts separated by lines holding only ``%``. The
category of a text is the name of its file. :func:`load_fortunes` reads such a folder (or any
folder in that format), :func:`stratified_split` splits it per category. Plain Python and NumPy:
no Keras.
"""

import os

import numpy as np

__all__ = ["DEBIAN_FORTUNES_DIR", "read_fortune_file", "load_fortunes", "stratified_split"]

#: where Debian's ``fortunes`` package installs its files
DEBIAN_FORTUNES_DIR = "/usr/share/games/fortunes"
#: files beside the texts: strfile's index (``.dat``) and UTF-8 aliases (``.u8``)
_NOT_TEXTS = (".dat", ".u8")


def read_fortune_file(path):
    """The texts of one fortune file: the blocks between lines holding only ``%`` (the last
    block need not end with one), stripped of surrounding blank lines; empty blocks are dropped.
    Undecodable bytes become U+FFFD."""
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.read().splitlines()
    texts, block = [], []
    for line in lines + ["%"]:
        if line.rstrip() == "%":
            text = "\n".join(block).strip("\n")
            if text.strip():
                texts.append(text)
            block = []
        else:
            block.append(line.rstrip())
    return texts


def _categories(folder):
    names = []
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if (name.startswith(".") or name.endswith(_NOT_TEXTS) or name.endswith("-o")
                or os.path.islink(path) or not os.path.isfile(path)):
            continue  # indexes, aliases, the offensive ("-o") files, sub-folders such as off/
        names.append(name)
    return names


def load_fortunes(folder=DEBIAN_FORTUNES_DIR, min_texts=50, max_chars=None):
    """The texts of a folder of fortune files, labelled by file.

    Skipped: strfile's ``.dat`` indexes, ``.u8`` aliases and other links, hidden files, every
    sub-folder (Debian puts the offensive set in ``off/``) and files named ``*-o`` (offensive
    sets elsewhere). A text found more than once in one category is kept once; a text found in
    several categories is dropped (its label would be ambiguous); texts compare with their
    whitespace collapsed. Categories left with fewer than ``min_texts`` texts are dropped.
    ``max_chars``: drop texts longer than that (long ASCII-art pictures, whole poems), or
    ``None`` to keep all.

    Returns ``(texts, labels, categories)``: a list of str, an int64 array of indices into
    ``categories`` (the kept file names, sorted), texts in file order.
    """
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        hint = " (install Debian's fortunes package: apt-get install -y fortunes)" \
            if folder == DEBIAN_FORTUNES_DIR else ""
        raise FileNotFoundError(f"folder {folder!r} is not a folder of fortune files{hint}.")
    if isinstance(min_texts, bool) or not isinstance(min_texts, (int, np.integer)) \
            or min_texts < 1:
        raise ValueError(f"min_texts must be an int >= 1, got {min_texts!r}.")
    if max_chars is not None and (isinstance(max_chars, bool) or not isinstance(
            max_chars, (int, np.integer)) or max_chars < 1):
        raise ValueError(f"max_chars must be an int >= 1 or None, got {max_chars!r}.")

    found = {}  # collapsed text -> (category, text) of its first copy, or None if ambiguous
    order = []
    for category in _categories(folder):
        for text in read_fortune_file(os.path.join(folder, category)):
            if max_chars is not None and len(text) > max_chars:
                continue
            key = " ".join(text.split())
            if key not in found:
                found[key] = (category, text)
                order.append(key)
            elif found[key] is not None and found[key][0] != category:
                found[key] = None
    kept = [found[key] for key in order if found[key] is not None]
    sizes = {}
    for category, _ in kept:
        sizes[category] = sizes.get(category, 0) + 1
    categories = sorted(c for c, n in sizes.items() if n >= min_texts)
    if not categories:
        raise ValueError(f"folder {folder!r} has no category with at least min_texts="
                         f"{min_texts} texts.")
    index = {c: i for i, c in enumerate(categories)}
    kept = [(c, t) for c, t in kept if c in index]
    texts = [t for _, t in kept]
    labels = np.array([index[c] for c, _ in kept], dtype=np.int64)
    return texts, labels, categories


def stratified_split(labels, test_fraction=0.2, seed=0):
    """Indices ``(train, test)`` (sorted int64 arrays) holding ``round(test_fraction * n)`` of
    each label's ``n`` examples in test (at least one, and at least one left in train), drawn at
    random with ``seed``."""
    labels = np.asarray(labels).reshape(-1)
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction!r}.")
    rng = np.random.default_rng(seed)
    test = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if len(members) < 2:
            raise ValueError(f"label {label!r} has {len(members)} example: a stratified split "
                             f"needs at least 2 per label.")
        n_test = min(max(1, int(round(test_fraction * len(members)))), len(members) - 1)
        test.append(rng.permutation(members)[:n_test])
    test = np.sort(np.concatenate(test)).astype(np.int64)
    train = np.setdiff1d(np.arange(len(labels)), test).astype(np.int64)
    return train, test
