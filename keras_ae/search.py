"""Image search on an encoder's codes: index images once, then find each query's nearest
neighbours among them.

    index = CodeIndex(model)                    # a zoo model (its encoder) or any Keras encoder
    index.add(train_images)                     # or a tf.data dataset of images / (images, labels)
    indices, scores = index.search(queries, k=10)
    index.save("mnist.npz")
    index = CodeIndex.load("mnist.npz", model)  # refused if model's weights are not the ones

Search is exact by default: blocked matrix products in NumPy (float64), with the memory of one
block of queries times one block of the index at a time, on any Keras backend. ``metric`` is
``"cosine"`` (scores are cosine similarities, highest first) or ``"euclidean"`` (scores are
distances, lowest first). For large collections, :meth:`CodeIndex.approximate` (or
``backend="faiss"``) builds an approximate FAISS index (HNSW or IVF, ``pip install
"keras-ae[faiss]"``) with the same ``search``; :func:`recall_at_k` measures it against exact
search.

Codes are the encoder's output at inference, flattened to one vector per image (an encoder
with dict outputs: the model's ``feature_key``, else ``"code"``, else its only key). uint8
images are scaled to [0, 1] first, as everywhere in the package.
"""

import hashlib
import os
import tempfile

import keras
import numpy as np

from keras_ae import __version__
from keras_ae.models.base import encoder_of
from keras_ae.visualize import pyplot, save_figure, tile

__all__ = ["CodeIndex", "ApproximateIndex", "recall_at_k", "encoder_fingerprint",
           "precision_at_k", "majority_vote", "save_search_picture", "METRICS", "FAISS_KINDS"]

METRICS = ("cosine", "euclidean")
FAISS_KINDS = ("hnsw", "ivf")
_FORMAT = 1  # the layout of a saved index


def _encoder_and_key(model):
    """``(encoder, output_key)`` of a zoo model (its ``encoder``: a nested layer, or MAE's view,
    a property) or of any single-input Keras model (itself)."""
    if model is None:
        return None, None
    if not isinstance(model, keras.Model):
        raise TypeError(f"encoder must be a keras.Model (a zoo model or an encoder) or None, "
                        f"got {type(model).__name__}.")
    return encoder_of(model), getattr(model, "feature_key", None)


def encoder_fingerprint(encoder):
    """sha256 (hex) over an encoder's weights: each one's shape, dtype and bytes, in order.

    A zoo model's fingerprint is its encoder's. Two encoders with the same architecture and
    different weights differ; saving and reloading a model keeps it.
    """
    encoder, _ = _encoder_and_key(encoder)
    digest = hashlib.sha256()
    for weight in encoder.weights:
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(weight))
        digest.update(f"{value.shape}|{value.dtype.str}|".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()


def _check_k(k, size):
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}.")
    if k > size:
        raise ValueError(f"k={k} is larger than the index ({size} items).")
    return int(k)


def _check_metric(metric):
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}.")
    return metric


def _check_positive(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
    return int(value)


def _import_faiss():
    try:
        import faiss
    except ImportError:
        raise ImportError('Approximate search needs FAISS: pip install "keras-ae[faiss]" '
                          '(the faiss-cpu package).') from None
    return faiss


class CodeIndex:
    """Codes of indexed images, searched by cosine similarity or euclidean distance.

    Args:
        encoder: a zoo model (its ``encoder`` is used), any single-input Keras model, or
            ``None`` for an index of precomputed codes (:meth:`add_codes`, :meth:`search_codes`).
        metric: ``"cosine"`` or ``"euclidean"``.
        backend: ``"exact"`` (blocked matrix products) or ``"faiss"``: :meth:`search` and
            :meth:`search_codes` go through :meth:`approximate` (``faiss_index``, with
            ``faiss_options``), rebuilt after each :meth:`add`.
        block_size: index codes compared with the queries at a time (and queries at a time),
            which bounds the memory of exact search to about ``8 * block_size**2`` bytes.
        batch_size: images encoded at a time.
        verbose: 1 shows a progress bar while encoding, 0 nothing.
    """

    def __init__(self, encoder, metric="cosine", backend="exact", faiss_index="hnsw",
                 faiss_options=None, block_size=4096, batch_size=256, verbose=1):
        self.encoder, self.output_key = _encoder_and_key(encoder)
        self.metric = _check_metric(metric)
        if backend not in ("exact", "faiss"):
            raise ValueError(f"backend must be 'exact' or 'faiss', got {backend!r}.")
        if faiss_index not in FAISS_KINDS:
            raise ValueError(f"faiss_index must be one of {', '.join(FAISS_KINDS)}, got "
                             f"{faiss_index!r}.")
        if backend == "faiss":
            _import_faiss()  # say so now, not after encoding a collection
        self.backend, self.faiss_index = backend, faiss_index
        self.faiss_options = dict(faiss_options or {})
        self.block_size = _check_positive(block_size, "block_size")
        self.batch_size = _check_positive(batch_size, "batch_size")
        self.verbose = verbose
        self.fingerprint = None if self.encoder is None else encoder_fingerprint(self.encoder)
        self._codes = []       # arrays added, concatenated on first use
        self._labels = []      # one array (or None) per added array
        self._approximate = None

    # -------------------------------------------------------------------------------- contents

    def __len__(self):
        return sum(len(c) for c in self._codes)

    @property
    def codes(self):
        """The indexed codes, float32 ``(len(self), dim)``."""
        if not self._codes:
            return np.zeros((0, 0), np.float32)
        if len(self._codes) > 1:
            self._codes = [np.concatenate(self._codes)]
        return self._codes[0]

    @property
    def labels(self):
        """The labels of the indexed items when every :meth:`add` had them, else ``None``."""
        if not self._labels or any(lab is None for lab in self._labels):
            return None
        if len(self._labels) != 1:
            self._labels = [np.concatenate(self._labels)]
        return self._labels[0]

    @property
    def dim(self):
        return self.codes.shape[1] if len(self) else None

    def add(self, images, labels=None):
        """Encodes ``images`` (an array ``(N, ...)`` the encoder accepts, or a ``tf.data``
        dataset yielding batches of images or of ``(images, labels)``) in batches and appends
        their codes. Returns ``self``."""
        codes, found = self.encode(images, labels=labels, progress=True)
        return self.add_codes(codes, labels=found)

    def add_codes(self, codes, labels=None):
        """Appends precomputed codes ``(N, ...)`` (flattened to ``(N, dim)``). Returns ``self``."""
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim < 2 or codes.size == 0:
            raise ValueError(f"codes must be (N, dim) with N, dim >= 1, got shape {codes.shape}.")
        codes = codes.reshape(len(codes), -1)
        if not np.isfinite(codes).all():
            raise ValueError("codes hold NaN or infinite values.")
        if len(self) and codes.shape[1] != self.dim:
            raise ValueError(f"codes have {codes.shape[1]} values each, the index {self.dim}.")
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)
            if len(labels) != len(codes):
                raise ValueError(f"{len(labels)} labels for {len(codes)} codes.")
        self._codes.append(codes)
        self._labels.append(labels)
        self._approximate = None
        return self

    # -------------------------------------------------------------------------------- encoding

    def _input_shape(self):
        return tuple(self.encoder.inputs[0].shape[1:])

    def _check_batch(self, batch, name):
        expected = self._input_shape()
        if tuple(batch.shape[1:]) != expected:
            one = " (one image? pass it as a batch: x[None])" if \
                tuple(batch.shape) == expected else ""
            raise ValueError(f"{name} must be a batch of images of shape (N, "
                             f"{', '.join(map(str, expected))}) for this encoder, got "
                             f"{tuple(batch.shape)}{one}.")
        if batch.dtype == np.uint8:
            batch = batch.astype(np.float32) / 255.0
        return batch

    def _encode_batch(self, batch):
        out = self.encoder.predict_on_batch(batch)
        if isinstance(out, dict):
            key = self.output_key or ("code" if "code" in out else None)
            if key is None and len(out) == 1:
                key = next(iter(out))
            if key not in out:
                raise ValueError(f"the encoder's outputs are {sorted(out)}: which is the code?")
            out = out[key]
        out = np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32)
        return out.reshape(len(out), -1)

    def _batches(self, images, labels, name):
        """Yields ``(images, labels or None)`` batches of an array or a dataset."""
        if hasattr(images, "as_numpy_iterator"):  # a tf.data dataset
            if labels is not None:
                raise ValueError("labels come from the dataset: pass a dataset of (images, "
                                 "labels) instead of labels=.")
            for element in images.as_numpy_iterator():
                if isinstance(element, (tuple, list)):
                    batch, found = element[0], (element[1] if len(element) > 1 else None)
                elif isinstance(element, dict):
                    raise ValueError(f"{name}: a dataset of dicts; map it to images or "
                                     f"(images, labels) first.")
                else:
                    batch, found = element, None
                yield np.asarray(batch), found
            return
        images = np.asarray(images)
        if labels is not None:
            labels = np.asarray(labels).reshape(-1)
            if len(labels) != len(images):
                raise ValueError(f"{len(labels)} labels for {len(images)} {name}.")
        for start in range(0, len(images), self.batch_size):
            end = start + self.batch_size
            yield images[start:end], None if labels is None else labels[start:end]

    def encode(self, images, labels=None, progress=False, name="images"):
        """Codes of ``images`` (an array or a dataset, as :meth:`add` takes) as float32 ``(N,
        dim)``, and their labels (``labels``, or the dataset's; ``None`` if none)."""
        if self.encoder is None:
            raise ValueError("this index has no encoder (built from codes): use add_codes and "
                             "search_codes.")
        known = None if hasattr(images, "as_numpy_iterator") else len(images)
        bar = keras.utils.Progbar(known, verbose=self.verbose, unit_name="image") \
            if progress and self.verbose else None
        codes, found, done = [], [], 0
        for batch, batch_labels in self._batches(images, labels, name):
            batch = self._check_batch(batch, name)
            codes.append(self._encode_batch(batch))
            found.append(batch_labels)
            done += len(batch)
            if bar is not None:
                bar.update(done)
        if bar is not None and known is None:
            bar.target = done
            bar.update(done)
        if not codes:
            raise ValueError(f"no {name} to encode.")
        labels = None if any(f is None for f in found) else np.concatenate(found)
        return np.concatenate(codes), labels

    # -------------------------------------------------------------------------------- search

    def search(self, queries, k=10):
        """The ``k`` nearest indexed items of each query image: ``(indices, scores)``, int64 and
        float64 arrays ``(n_queries, k)``, best first (cosine: similarity, descending;
        euclidean: distance, ascending; equal scores: lower index first). ``queries``: an array or a dataset, as :meth:`add`."""
        if not len(self):
            raise ValueError("the index is empty: add images first.")
        _check_k(k, len(self))
        codes, _ = self.encode(queries, name="queries")
        return self.search_codes(codes, k)

    def search_codes(self, codes, k=10):
        """:meth:`search` for precomputed query codes ``(n_queries, ...)``."""
        codes = self._check_queries(codes)
        k = _check_k(k, len(self))
        if self.backend == "faiss":
            if self._approximate is None:
                self._approximate = self.approximate(self.faiss_index, **self.faiss_options)
            return self._approximate.search_codes(codes, k)
        return self._exact(codes, k)

    def _check_queries(self, codes):
        codes = np.asarray(codes, dtype=np.float32)
        if codes.ndim < 2:
            raise ValueError(f"query codes must be (n_queries, dim), got shape {codes.shape}.")
        codes = codes.reshape(len(codes), -1)
        if not len(self):
            raise ValueError("the index is empty: add images first.")
        if codes.shape[1] != self.dim:
            raise ValueError(f"query codes have {codes.shape[1]} values each, the index "
                             f"{self.dim}.")
        return codes

    def _prepared(self, codes):
        """Codes as the metric compares them (float64): unit vectors for cosine (a zero code
        stays zero: similarity 0 to everything)."""
        codes = codes.astype(np.float64)
        if self.metric == "cosine":
            norms = np.linalg.norm(codes, axis=1, keepdims=True)
            codes /= np.where(norms > 0, norms, 1.0)
        return codes

    def _exact(self, queries, k):
        base = self.codes
        n, step = len(base), self.block_size
        indices = np.empty((len(queries), k), np.int64)
        scores = np.empty((len(queries), k), np.float64)
        for q0 in range(0, len(queries), step):
            q = self._prepared(queries[q0:q0 + step])
            best_i = np.empty((len(q), 0), np.int64)
            best_s = np.empty((len(q), 0), np.float64)  # higher is better
            for d0 in range(0, n, step):
                d = self._prepared(base[d0:d0 + step])
                s = q @ d.T
                if self.metric == "euclidean":  # -||q - d||^2 = 2 q.d - |q|^2 - |d|^2
                    s = 2.0 * s - (q * q).sum(1)[:, None] - (d * d).sum(1)[None, :]
                ids = np.broadcast_to(np.arange(d0, d0 + len(d)), s.shape)
                top_i, top_s = _best(s, ids, min(k, s.shape[1]))
                best_i, best_s = _best(np.concatenate([best_s, top_s], axis=1),
                                       np.concatenate([best_i, top_i], axis=1), k)
            indices[q0:q0 + len(q)] = best_i
            scores[q0:q0 + len(q)] = (np.sqrt(np.maximum(-best_s, 0.0))
                                      if self.metric == "euclidean" else best_s)
        return indices, scores

    def approximate(self, kind="hnsw", **options):
        """An approximate FAISS index over the codes indexed now (later :meth:`add` calls are
        not in it), with the same ``search`` / ``search_codes``. ``kind``: ``"hnsw"``
        (options ``m=32``, ``ef_construction=200``, ``ef_search=128``) or ``"ivf"`` (options
        ``nlist`` (default about sqrt(N)), ``nprobe`` (default nlist/8, at least 8)). Needs
        ``pip install "keras-ae[faiss]"``."""
        if not len(self):
            raise ValueError("the index is empty: add images first.")
        return ApproximateIndex(self, kind, **options)

    # -------------------------------------------------------------------------------- files

    def save(self, path):
        """Writes the index to one ``.npz`` file at ``path`` (its folder created if need be; codes, labels if any, metric,
        the encoder's fingerprint, the library's version), through a temporary file in the same
        folder renamed into place: a failure leaves no partial file and any old one as it was.
        Returns ``path``."""
        path = os.fspath(path)
        arrays = {"codes": self.codes, "metric": np.array(self.metric),
                  "fingerprint": np.array(self.fingerprint or ""),
                  "version": np.array(__version__), "format": np.array(_FORMAT),
                  "backend": np.array(self.backend), "faiss_index": np.array(self.faiss_index)}
        if self.labels is not None:
            arrays["labels"] = self.labels
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.",
                                   suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    @classmethod
    def load(cls, path, encoder, **kwargs):
        """The index saved at ``path``, for ``encoder`` (a zoo model or an encoder; ``None``
        for an index of precomputed codes). Raises ``ValueError`` naming the path when the
        index was built with another encoder (a different weights fingerprint) or the file is
        not a saved index. ``kwargs`` go to the constructor (``block_size``, ...)."""
        path = os.fspath(path)
        try:
            with np.load(path, allow_pickle=False) as data:
                saved = {name: data[name] for name in data.files}
        except FileNotFoundError:
            raise
        except Exception as e:  # noqa: BLE001  (a corrupt or foreign file: say which)
            raise ValueError(f"{path}: not a saved CodeIndex ({e}).") from None
        missing = {"codes", "metric", "fingerprint", "version"} - set(saved)
        if missing:
            raise ValueError(f"{path}: not a saved CodeIndex (no {', '.join(sorted(missing))}).")
        kwargs.setdefault("backend", str(saved.get("backend", "exact")))
        kwargs.setdefault("faiss_index", str(saved.get("faiss_index", "hnsw")))
        index = cls(encoder, metric=str(saved["metric"]), **kwargs)
        built_with = str(saved["fingerprint"]) or None
        if built_with != index.fingerprint:
            why = ("it was built from codes without an encoder" if built_with is None else
                   "no encoder was given" if index.fingerprint is None else
                   f"its encoder's weights fingerprint is {built_with[:12]}…, this encoder's "
                   f"{index.fingerprint[:12]}…")
            raise ValueError(f"{path}: the index was built with another encoder ({why}); "
                             f"rebuild it with this one.")
        index.add_codes(saved["codes"], labels=saved.get("labels"))
        index.saved_version = str(saved["version"])
        return index


def _best(scores, ids, k):
    """Each row's ``k`` highest ``scores`` with their ``ids``, best first, equal scores by
    increasing id: ``(ids, scores)`` arrays ``(rows, k)``. A linear-time partition, then a sort
    of the ``k`` kept; a row with ties across the ``k``-th place is sorted whole."""
    if scores.shape[1] > k:
        keep = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        kth = np.take_along_axis(scores, keep, 1).min(axis=1)
        tied = np.flatnonzero((scores >= kth[:, None]).sum(axis=1) > k)
        for row in tied:  # which of the equal scores were kept was arbitrary: lowest ids win
            keep[row] = np.lexsort((ids[row], -scores[row]))[:k]
        scores, ids = np.take_along_axis(scores, keep, 1), np.take_along_axis(ids, keep, 1)
    order = np.lexsort((ids, -scores), axis=1)
    return np.take_along_axis(ids, order, 1), np.take_along_axis(scores, order, 1)


class ApproximateIndex:
    """A FAISS index (HNSW or IVF, flat vectors) over a :class:`CodeIndex`'s codes, searched
    like it: ``search(queries, k)`` / ``search_codes(codes, k)`` → ``(indices, scores)``, the
    scores in the same units (cosine similarity, or euclidean distance). Where FAISS finds
    fewer than ``k`` items (IVF probing too few lists), the missing places hold index -1 and
    score NaN."""

    def __init__(self, index, kind="hnsw", m=32, ef_construction=200, ef_search=128, nlist=None,
                 nprobe=None):
        faiss = _import_faiss()
        if kind not in FAISS_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FAISS_KINDS)}, got {kind!r}.")
        self.parent, self.kind, self.metric = index, kind, index.metric
        codes = self._vectors(index.codes)
        n, dim = codes.shape
        measure = faiss.METRIC_INNER_PRODUCT if self.metric == "cosine" else faiss.METRIC_L2
        if kind == "hnsw":
            self.faiss = faiss.IndexHNSWFlat(dim, _check_positive(m, "m"), measure)
            self.faiss.hnsw.efConstruction = _check_positive(ef_construction, "ef_construction")
            self.ef_search = _check_positive(ef_search, "ef_search")
        else:
            nlist = max(1, min(int(round(np.sqrt(n))), n // 39 or 1)) if nlist is None else \
                _check_positive(nlist, "nlist")
            if nlist > n:
                raise ValueError(f"nlist={nlist} is larger than the index ({n} items).")
            self.quantizer = faiss.IndexFlatIP(dim) if self.metric == "cosine" \
                else faiss.IndexFlatL2(dim)
            self.faiss = faiss.IndexIVFFlat(self.quantizer, dim, nlist, measure)
            self.faiss.train(codes)
            self.faiss.nprobe = min(nlist, max(8, nlist // 8) if nprobe is None
                                    else _check_positive(nprobe, "nprobe"))
        self.faiss.add(codes)
        self.size = n

    def __len__(self):
        return self.size

    def _vectors(self, codes):
        codes = np.ascontiguousarray(codes, dtype=np.float32).copy()
        if self.metric == "cosine":
            norms = np.linalg.norm(codes, axis=1, keepdims=True)
            codes /= np.where(norms > 0, norms, 1.0)
        return codes

    def search(self, queries, k=10):
        """The approximate ``k`` nearest items of each query image (see :class:`CodeIndex`)."""
        _check_k(k, self.size)
        codes, _ = self.parent.encode(queries, name="queries")
        return self.search_codes(codes, k)

    def search_codes(self, codes, k=10):
        k = _check_k(k, self.size)
        codes = self._vectors(self.parent._check_queries(codes))
        if self.kind == "hnsw":
            self.faiss.hnsw.efSearch = max(self.ef_search, k)
        scores, indices = self.faiss.search(codes, k)
        indices = indices.astype(np.int64)
        scores = scores.astype(np.float64)
        if self.metric == "euclidean":  # FAISS gives squared distances
            scores = np.sqrt(np.maximum(scores, 0.0))
        scores[indices < 0] = np.nan
        return indices, scores


def recall_at_k(exact_indices, approx_indices):
    """The mean share of each query's exact ``k`` nearest items (``k`` = the columns of
    ``exact_indices``) that the approximate search also returned among its first ``k``."""
    exact, approx = np.asarray(exact_indices), np.asarray(approx_indices)
    if exact.ndim != 2 or approx.ndim != 2 or len(exact) != len(approx):
        raise ValueError(f"exact_indices and approx_indices must be (n_queries, k) for the same "
                         f"queries, got shapes {exact.shape} and {approx.shape}.")
    k = exact.shape[1]
    if approx.shape[1] < k or k < 1:
        raise ValueError(f"approx_indices has {approx.shape[1]} columns, fewer than exact's k={k}.")
    hits = [len(np.intersect1d(e, a[:k][a[:k] >= 0])) for e, a in zip(exact, approx)]
    return float(np.mean(hits) / k) if hits else float("nan")


def precision_at_k(query_labels, result_labels):
    """The share of each query's results that carry its label, averaged over the queries
    (``result_labels``: ``(n_queries, k)``)."""
    query_labels = np.asarray(query_labels).reshape(-1, 1)
    result_labels = np.asarray(result_labels)
    if result_labels.ndim != 2 or len(result_labels) != len(query_labels):
        raise ValueError(f"result_labels must be (n_queries, k) for {len(query_labels)} "
                         f"queries, got shape {result_labels.shape}.")
    return float(np.mean(result_labels == query_labels))


def majority_vote(result_labels):
    """k-nearest-neighbour classification: the most frequent label among each query's results
    (``result_labels``: ``(n_queries, k)``, best first); a tie goes to the tied label whose
    best-ranked result comes first. Returns ``(n_queries,)``."""
    result_labels = np.asarray(result_labels)
    if result_labels.ndim != 2 or result_labels.shape[1] < 1:
        raise ValueError(f"result_labels must be (n_queries, k) with k >= 1, got shape "
                         f"{result_labels.shape}.")
    votes = []
    for row in result_labels:
        values, first, counts = np.unique(row, return_index=True, return_counts=True)
        tied = counts == counts.max()
        votes.append(values[tied][np.argmin(first[tied])])
    return np.asarray(votes, dtype=result_labels.dtype)


def save_search_picture(queries, results, path, query_titles=None, result_titles=None,
                        title=None):
    """One row per query: the query image, then its ``k`` results, each titled (e.g. label
    and score). ``queries``: ``(Q, H, W[, C])`` in [0, 1]; ``results``: ``(Q, k, H, W[, C])``.
    Returns ``path``."""
    plt = pyplot()
    queries, results = np.asarray(queries), np.asarray(results)
    if results.ndim < 4 or len(results) != len(queries):
        raise ValueError(f"results must be (n_queries, k, H, W[, C]) for {len(queries)} "
                         f"queries, got shape {results.shape}.")
    n, k = results.shape[:2]
    fig, axes = plt.subplots(n, k + 1, figsize=(0.9 * (k + 1) + 0.3, 1.3 * n + 0.3),
                             squeeze=False)
    for row in range(n):
        for col in range(k + 1):
            image = queries[row] if col == 0 else results[row, col - 1]
            ax = axes[row, col]
            ax.imshow(tile(image[None], ncols=1, pad=0, normalize=None), cmap="gray", vmin=0,
                      vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            text = (query_titles[row] if query_titles is not None else "query") if col == 0 \
                else (result_titles[row][col - 1] if result_titles is not None else "")
            ax.set_title(text, fontsize=6, color="C3" if col == 0 else "black")
            if col == 0:
                for spine in ax.spines.values():
                    spine.set_edgecolor("C3")
                    spine.set_linewidth(2)
    if title:
        fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return save_figure(fig, path)
