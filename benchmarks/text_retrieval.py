"""Document retrieval on the fortune corpus: text autoencoder codes vs TF-IDF vs LSA.

    apt-get install -y fortunes        # Debian's fortune files (BSD licence), offline after that
    python -m benchmarks.text_retrieval [--folder /usr/share/games/fortunes] [--epochs 30]
        [--max-tokens 2000] [--output-mode tf_idf] [--code-size 10] [--batch-size 128]
        [--test-fraction 0.2] [--min-texts 50] [--seed 0] [--out-name text_retrieval]
        [--markdown-only]

1. Loads the fortune files (:func:`keras_ae.data.fortunes.load_fortunes`: one category per file,
   the offensive set left out, duplicates removed, categories under ``--min-texts`` dropped) and
   splits every category 80/20 (:func:`~keras_ae.data.fortunes.stratified_split`).
2. Adapts a :class:`keras_ae.text.DocumentVectorizer` (``--max-tokens``, ``--output-mode``) on
   the training texts only, and trains ``text_autoencoder`` (vocabulary-500-250-125-
   ``--code-size``) with ``model.fit`` on the vectoriser's ``tf.data`` pipeline, Adam 1e-3.
3. Every test document queries the training documents (:class:`keras_ae.search.CodeIndex`,
   exact cosine search, the full ranking) in three representations: the autoencoder's codes,
   the TF-IDF vectors themselves, and LSA (the training TF-IDF matrix's top ``--code-size``
   right singular vectors, NumPy SVD; documents projected on them). A retrieved document is
   relevant when it has the query's category. Reported: precision at k = 1..100 and the
   precision-recall curve at recall 0.001, 0.002, ..., 0.512, 1 (Hinton & Salakhutdinov 2006):
   at recall r a query has retrieved ceil(r * R) of its R relevant documents, its precision is
   that number over the rank of the last one; both averaged over the queries. The training
   documents are indexed in a random order, so that equal scores (TF-IDF: every document sharing
   no word with the query) are ordered at random rather than by category.

Writes ``benchmarks/results/<out-name>.json`` / ``.md``, ``<out-name>.png`` (both curves) and
``<out-name>_map.png`` (test documents of the ten largest categories on the first two principal
components of their codes, :func:`keras_ae.visualize.save_codes`).
"""

import argparse
import math
import os
import shutil
import subprocess
import time

import numpy as np

from benchmarks._common import RESULTS, command_line, machine, timestamp, write_results

RECALLS = [0.001 * 2 ** i for i in range(10)] + [1.0]
MAX_K = 100
METHODS = ("autoencoder", "tf-idf", "lsa")


def package_version(name):
    """The installed Debian package's version (``dpkg-query``), else ``None``."""
    if shutil.which("dpkg-query") is None:
        return None
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Version}", name], capture_output=True,
                          text=True)
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def lsa(x_train, x_test, size):
    """LSA codes: both sets projected on the top ``size`` right singular vectors of the training
    matrix (not centred, as LSA is)."""
    _, _, vt = np.linalg.svd(x_train.astype(np.float64), full_matrices=False)
    basis = vt[:size].T
    return (x_train @ basis).astype(np.float32), (x_test @ basis).astype(np.float32)


def ranking_scores(train_codes, train_labels, test_codes, test_labels, chunk=256):
    """Precision at k = 1..MAX_K and precision at :data:`RECALLS`, averaged over the queries,
    from each query's full cosine ranking of the training documents (:class:`CodeIndex`)."""
    from keras_ae.search import CodeIndex

    index = CodeIndex(None, verbose=0).add_codes(train_codes, labels=train_labels)
    n = len(index)
    relevant_total = np.bincount(train_labels, minlength=int(train_labels.max()) + 1)
    hits_at_k = np.zeros(MAX_K)
    precision_at_recall = np.zeros(len(RECALLS))
    for start in range(0, len(test_codes), chunk):
        indices, _ = index.search_codes(test_codes[start:start + chunk], k=n)
        queries = test_labels[start:start + chunk]
        relevant = train_labels[indices] == queries[:, None]          # (q, n), ranked
        hits_at_k += np.cumsum(relevant[:, :MAX_K], axis=1).sum(axis=0)
        for q, row in enumerate(relevant):
            positions = np.flatnonzero(row) + 1                           # ranks of the relevant
            total = relevant_total[queries[q]]
            for j, r in enumerate(RECALLS):
                needed = max(1, math.ceil(r * total))
                precision_at_recall[j] += needed / positions[needed - 1]
    queries = len(test_codes)
    return {"precision_at_k": (hits_at_k / np.arange(1, MAX_K + 1) / queries).tolist(),
            "precision_at_recall": (precision_at_recall / queries).tolist()}


def save_curves(results, chance, path, title):
    from keras_ae.visualize import pyplot, save_figure

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    ks = np.arange(1, MAX_K + 1)
    for name in METHODS:
        left.plot(ks, results[name]["precision_at_k"], label=results[name]["label"])
        right.plot(RECALLS, results[name]["precision_at_recall"], marker="o", markersize=3,
                   label=results[name]["label"])
    for ax in (left, right):
        ax.axhline(chance, color="grey", linestyle=":", label="chance (category prior)")
        ax.set_ylabel("precision")
        ax.grid(alpha=0.3)
    left.set_xlabel("k (documents retrieved)")
    left.set_title("precision at k")
    right.set_xscale("log")
    right.set_xlabel("recall")
    right.set_title("precision-recall")
    left.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    from keras_ae.data.fortunes import DEBIAN_FORTUNES_DIR

    parser.add_argument("--folder", default=DEBIAN_FORTUNES_DIR)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--max-tokens", type=int, default=2000)
    parser.add_argument("--output-mode", default="tf_idf", choices=["count", "tf_idf"])
    parser.add_argument("--code-size", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--test-fraction", type=float, default=0.2)
    parser.add_argument("--min-texts", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out-name", default="text_retrieval")
    parser.add_argument("--markdown-only", action="store_true",
                        help="only rewrite <out-name>.md from the existing <out-name>.json")
    args = parser.parse_args(argv)
    if args.markdown_only:
        import json

        with open(os.path.join(RESULTS, f"{args.out_name}.json")) as f:
            record = json.load(f)
        write_results(args.out_name, record, markdown(record, args.out_name))
        return record

    where = machine()  # before the work: the load it reports is other jobs'
    started = time.time()
    import keras

    from keras_ae.data.fortunes import load_fortunes, stratified_split
    from keras_ae.models import TextAutoencoder
    from keras_ae.text import vectorizer
    from keras_ae.visualize import save_codes

    keras.utils.set_random_seed(args.seed)
    texts, labels, categories = load_fortunes(args.folder, min_texts=args.min_texts)
    train, test = stratified_split(labels, args.test_fraction, seed=args.seed)
    train = np.random.default_rng(args.seed).permutation(train)  # ties at random (see above)
    train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
    y_train, y_test = labels[train], labels[test]

    vec = vectorizer(train_texts, max_tokens=args.max_tokens, output_mode=args.output_mode)
    x_train, x_test = vec(train_texts), vec(test_texts)
    model = TextAutoencoder(input_shape=(vec.vocabulary_size,), code_size=args.code_size)
    model.compile()
    fit_started = time.time()
    history = model.fit(vec.dataset(train_texts, batch_size=args.batch_size, shuffle=True,
                                    seed=args.seed, targets="vectors"),
                        validation_data=(x_test, x_test), epochs=args.epochs, shuffle=False,
                        verbose=2)
    fit_seconds = time.time() - fit_started

    codes = {"autoencoder": (model.encode(x_train), model.encode(x_test)),
             "tf-idf": (x_train, x_test),
             "lsa": lsa(x_train, x_test, args.code_size)}
    labels_of = {"autoencoder": f"autoencoder ({args.code_size}-d codes)",
                 "tf-idf": f"{args.output_mode.replace('_', '-')} vectors "
                           f"({vec.vocabulary_size}-d)",
                 "lsa": f"LSA ({args.code_size}-d)"}
    results = {}
    for name in METHODS:
        results[name] = {"label": labels_of[name],
                         **ranking_scores(codes[name][0], y_train, codes[name][1], y_test)}
        print(name, "precision@10", round(results[name]["precision_at_k"][9], 4), flush=True)
    prior = np.bincount(y_train, minlength=len(categories)) / len(y_train)
    chance = float(np.mean(prior[y_test]))  # expected precision of a random ranking

    stem = os.path.join(RESULTS, args.out_name)
    title = (f"{len(test)} test fortunes querying {len(train)} training ones, "
             f"{len(categories)} categories")
    save_curves(results, chance, stem + ".png", title)
    largest = np.argsort(-np.bincount(y_test, minlength=len(categories)), kind="stable")[:10]
    keep = np.isin(y_test, largest)
    remap = {int(c): i for i, c in enumerate(largest)}
    save_codes(codes["autoencoder"][1][keep], [remap[int(c)] for c in y_test[keep]],
               stem + "_map.png", title=f"autoencoder codes of {int(keep.sum())} test fortunes, "
                                        f"10 largest categories")

    counts = np.bincount(labels, minlength=len(categories))
    record = {
        "benchmark": "text retrieval on the fortune corpus",
        "command": command_line(argv, backend=keras.backend.backend()),
        "machine": where, "date": timestamp(), "backend": keras.backend.backend(),
        "wall_seconds": round(time.time() - started, 1), "fit_seconds": round(fit_seconds, 1),
        "corpus": {"source": "Debian package fortunes (BSD licence)",
                   "package_version": package_version("fortunes"),
                   "texts": len(texts), "categories": categories,
                   "texts_per_category": counts.tolist(), "train": len(train),
                   "test": len(test), "min_texts": args.min_texts},
        "vectorizer": {**vec.get_config(), "vocabulary_size": vec.vocabulary_size},
        "model": model.get_config(), "epochs": args.epochs, "batch_size": args.batch_size,
        "seed": args.seed, "loss": [float(v) for v in history.history["loss"]],
        "val_loss": [float(v) for v in history.history["val_loss"]],
        "recalls": RECALLS, "chance_precision": chance, "results": results,
        "map_categories": [categories[c] for c in largest],
    }
    write_results(args.out_name, record, markdown(record, args.out_name))
    return record


def markdown(r, stem):
    res = r["results"]
    corpus = r["corpus"]
    version = f" {corpus['package_version']}" if corpus["package_version"] else ""
    lines = [
        "# Text retrieval on the fortune corpus", "",
        f"Command: `{r['command']}`  ",
        f"Machine: {r['machine']}, backend {r['backend']}  ",
        f"Date: {r['date']}, wall time {r['wall_seconds'] / 60:.1f} min (training "
        f"{r['fit_seconds'] / 60:.1f} min)  ",
        f"Corpus: Debian's `fortunes`{version} (BSD licence), {corpus['texts']} texts in "
        f"{len(corpus['categories'])} categories (at least {corpus['min_texts']} texts each); "
        f"{corpus['train']} training documents, {corpus['test']} test queries.  ",
        f"Vectors: {r['vectorizer']['output_mode']}, vocabulary of "
        f"{r['vectorizer']['vocabulary_size']} words (adapted on the training texts). "
        f"Autoencoder: {r['vectorizer']['vocabulary_size']}-"
        f"{'-'.join(map(str, r['model']['hidden_units']))}-{r['model']['code_size']}, "
        f"{r['epochs']} epochs, batches of {r['batch_size']}, seed {r['seed']}; loss "
        f"(bag-of-words cross-entropy) {r['loss'][0]:.3f} -> {r['loss'][-1]:.3f} on training, "
        f"{r['val_loss'][-1]:.3f} on test.", "",
        "Precision (share of retrieved training documents in the query's category), averaged "
        "over the test queries:", "",
        "| representation | P@1 | P@10 | P@50 | P@100 | P at recall 0.008 | P at recall 0.128 |"
        " P at recall 1 |",
        "|---|---|---|---|---|---|---|---|"]
    for name in METHODS:
        p, pr = res[name]["precision_at_k"], res[name]["precision_at_recall"]
        lines.append(f"| {res[name]['label']} | {p[0]:.3f} | {p[9]:.3f} | {p[49]:.3f} | "
                     f"{p[99]:.3f} | {pr[3]:.3f} | {pr[7]:.3f} | {pr[10]:.3f} |")
    lines += [f"| chance (category prior) | {r['chance_precision']:.3f} | | | | | | |", "",
              f"![precision at k and precision-recall](benchmarks/results/{stem}.png)", "",
              f"![2-D map](benchmarks/results/{stem}_map.png)", "",
              "Map colours 0-9: " + ", ".join(f"{i} = {c}" for i, c in
                                              enumerate(r["map_categories"])) + "."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
