"""Exact vs FAISS search of codes: build time, queries per second, recall@10.

    KERAS_BACKEND=tensorflow python -m benchmarks.search_speed --data-dir ../shared/datasets \\
        --dataset mnist [--preset mae_mnist] [--synthetic 1000000] [--queries 1000]

Two collections of the same code size: the codes of the 60,000 MNIST training images by a
shipped preset's encoder, and ``--synthetic`` codes made from them (each a real code, drawn at
random, plus Gaussian noise of a tenth of each dimension's spread: the clusters of real codes,
at scale). The queries are codes of test images. For each collection: :class:`CodeIndex`'s exact
search (blocked float64 matrix products) as the baseline, then FAISS HNSW and IVF through
``CodeIndex.approximate`` with the library's default settings; recall@10 against the exact
results, and each one's speed as a ratio to the exact search of the same run.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

from benchmarks._common import RESULTS, command_line, machine, timestamp, write_report

K = 10


def synthetic_codes(codes, n, seed=0):
    """``n`` codes: rows of ``codes`` drawn with replacement plus N(0, (0.1 * std)^2) noise."""
    rng = np.random.default_rng(seed)
    spread = 0.1 * codes.std(axis=0, keepdims=True)
    out = np.empty((n, codes.shape[1]), np.float32)
    for start in range(0, n, 100_000):  # bounded temporary memory
        rows = rng.integers(0, len(codes), min(100_000, n - start))
        out[start:start + len(rows)] = codes[rows] + rng.standard_normal(
            (len(rows), codes.shape[1])).astype(np.float32) * spread
    return out


def _timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def measure(codes, queries, kinds=("hnsw", "ivf")):
    """One collection: the exact baseline, then each FAISS kind (build, search, recall@10)."""
    from keras_ae.search import CodeIndex, recall_at_k

    index = CodeIndex(None, metric="cosine").add_codes(codes)
    (exact, _), seconds = _timed(lambda: index.search_codes(queries, K))
    rows = [{"method": "exact (NumPy, blocked)", "build_seconds": 0.0,
             "search_seconds": round(seconds, 3), "queries_per_second": len(queries) / seconds,
             "recall_at_10": 1.0, "speedup_vs_exact": 1.0}]
    for kind in kinds:
        approx, build = _timed(lambda: index.approximate(kind))
        (found, _), seconds = _timed(lambda: approx.search_codes(queries, K))
        rows.append({"method": f"FAISS {kind.upper()} (defaults)", "build_seconds": round(build, 2),
                     "search_seconds": round(seconds, 3),
                     "queries_per_second": len(queries) / seconds,
                     "recall_at_10": recall_at_k(exact, found),
                     "speedup_vs_exact": rows[0]["search_seconds"] / seconds})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def markdown(record):
    lines = ["# Code search: exact vs FAISS", "",
             f"Command: `{record['command']}`  ",
             f"Machine: {record['machine']}; date {record['date']}; wall time "
             f"{record['wall_seconds'] / 60:.1f} min  ",
             f"Codes: {record['codes']}; {record['queries']} queries, k = {K}, cosine.", "",
             "| collection | method | build (s) | queries/s | search speed vs exact | recall@10 |",
             "| --- | --- | ---: | ---: | ---: | ---: |"]
    for collection in record["collections"]:
        for row in collection["rows"]:
            lines.append(f"| {collection['name']} | {row['method']} | {row['build_seconds']:.1f} | "
                         f"{row['queries_per_second']:,.0f} | {row['speedup_vs_exact']:.1f}× | "
                         f"{row['recall_at_10']:.3f} |")
    lines += ["", "Speed-ups are ratios to the exact search of the same collection in the same "
              "run; absolute times are of a CPU shared with other jobs."]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mae_mnist", help="the shipped preset whose encoder "
                                                              "makes the codes")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default=None)
    parser.add_argument("--synthetic", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--out-name", default="search_speed")
    args = parser.parse_args(argv)
    if args.synthetic < 1 or args.queries < 1:
        parser.error("--synthetic and --queries must be >= 1")

    import keras

    from keras_ae import models
    from keras_ae.data import load_arrays, to_float_images

    where, started = machine(), time.time()
    model = models.from_preset(args.preset)
    x_train, _ = load_arrays(args.dataset, "train", data_dir=args.data_dir)
    x_test, _ = load_arrays(args.dataset, "test", data_dir=args.data_dir)
    codes = model.encode(to_float_images(x_train)).reshape(len(x_train), -1).astype(np.float32)
    queries = model.encode(to_float_images(x_test[:args.queries])).reshape(
        min(args.queries, len(x_test)), -1).astype(np.float32)
    collections = [{"name": f"{len(codes):,} MNIST codes", "rows": measure(codes, queries)}]
    big = synthetic_codes(codes, args.synthetic)
    del codes
    collections.append({"name": f"{len(big):,} synthetic codes", "rows": measure(big, queries)})
    record = {"command": command_line(argv, backend=keras.backend.backend()), "machine": where,
              "date": timestamp(), "wall_seconds": round(time.time() - started, 1),
              "codes": f"the `{args.preset}` preset's encoder, {queries.shape[1]} values each",
              "queries": len(queries), "collections": collections}
    write_report(os.path.join(RESULTS, args.out_name), record, markdown(record))
    return 0


if __name__ == "__main__":
    sys.exit(main())
