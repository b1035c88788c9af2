"""Documents as bag-of-words vectors, for the text autoencoder (``text_autoencoder``).

    >>> from keras_ae.text import vectorizer
    >>> vec = vectorizer(train_texts, max_tokens=2000, output_mode="tf_idf")
    >>> x_train = vec(train_texts)                  # float32 (N, vec.vocabulary_size)
    >>> data = vec.dataset(train_texts, batch_size=128, shuffle=True)   # tf.data, for fit
    >>> vec.save("vectorizer.json"); vec = DocumentVectorizer.load("vectorizer.json")

A :class:`DocumentVectorizer` wraps Keras's ``TextVectorization`` layer (lower-cased, punctuation
stripped, split on whitespace), adapted on the training texts: its vocabulary is the
``max_tokens - 1`` most frequent words (the layer's first slot is the out-of-vocabulary bucket,
which the vectors leave out). ``output_mode="count"`` gives each word's count in the document;
``"tf_idf"`` multiplies it by Keras's inverse document frequency ``log(1 + N / (1 + df))`` (N
training documents, df of them holding the word). The layer runs on TensorFlow whatever the
Keras backend: keep it in the input pipeline (:meth:`DocumentVectorizer.dataset`) or call it
on arrays before training, as Keras recommends for its preprocessing layers, never inside a
JAX or torch model.
"""

import json
import os

import keras
import numpy as np

from keras_ae.reporting import write_whole

__all__ = ["DocumentVectorizer", "vectorizer", "OUTPUT_MODES"]

OUTPUT_MODES = ("count", "tf_idf")
_FORMAT = 1  # the layout of a saved vectoriser


def _check_texts(texts, name="texts"):
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{name} must be a sequence of strings (documents), got one string: "
                        f"pass one document as [text].")
    if hasattr(texts, "numpy") or hasattr(texts, "as_numpy_iterator"):
        raise TypeError(f"{name} must be a list or array of Python strings, got "
                        f"{type(texts).__name__}.")
    try:
        texts = list(texts)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of strings, got "
                        f"{type(texts).__name__}.") from None
    if not texts:
        raise ValueError(f"{name} is empty: at least one document is needed.")
    for i, text in enumerate(texts):
        if not isinstance(text, (str, np.str_)):
            raise TypeError(f"{name}[{i}] must be a string, got {type(text).__name__}.")
    return [str(t) for t in texts]


class DocumentVectorizer:
    """Bag-of-words vectors of documents through ``keras.layers.TextVectorization``.

    Args:
        max_tokens: the layer's vocabulary size, its out-of-vocabulary slot included; the
            vectors have ``max_tokens - 1`` entries at most (fewer if the texts hold fewer
            distinct words).
        output_mode: ``"count"`` or ``"tf_idf"`` (see the module).
        ngrams: ``None`` (words) or an int: also count the word n-grams up to that length.
    """

    def __init__(self, max_tokens=2000, output_mode="tf_idf", ngrams=None):
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, (int, np.integer)) \
                or max_tokens < 2:
            raise ValueError(f"max_tokens must be an int >= 2 (the out-of-vocabulary slot and "
                             f"at least one word), got {max_tokens!r}.")
        if output_mode not in OUTPUT_MODES:
            raise ValueError(f"output_mode must be one of {', '.join(map(repr, OUTPUT_MODES))}, "
                             f"got {output_mode!r}.")
        if ngrams is not None and (isinstance(ngrams, bool) or not isinstance(
                ngrams, (int, np.integer)) or ngrams < 1):
            raise ValueError(f"ngrams must be None or an int >= 1, got {ngrams!r}.")
        self.max_tokens, self.output_mode = int(max_tokens), output_mode
        self.ngrams = None if ngrams is None else int(ngrams)
        self.layer = None

    def _new_layer(self, **kwargs):
        return keras.layers.TextVectorization(max_tokens=self.max_tokens,
                                              output_mode=self.output_mode, ngrams=self.ngrams,
                                              name="text_vectorization", **kwargs)

    def adapt(self, texts, batch_size=1024):
        """Learns the vocabulary (and the document frequencies) of ``texts``. Returns ``self``."""
        texts = _check_texts(texts)
        import tensorflow as tf

        self.layer = self._new_layer()
        self.layer.adapt(tf.data.Dataset.from_tensor_slices(texts).batch(batch_size))
        if not self.vocabulary:
            raise ValueError("texts hold no word: nothing to build a vocabulary from.")
        return self

    def _check_adapted(self):
        if self.layer is None:
            raise ValueError("this DocumentVectorizer is not adapted yet: call adapt(texts) "
                             "(or build it with keras_ae.text.vectorizer(texts)).")

    @property
    def vocabulary(self):
        """The words, in the order of the vectors' entries (most frequent first)."""
        self._check_adapted()
        return [str(w) for w in self.layer.get_vocabulary(include_special_tokens=False)]

    @property
    def vocabulary_size(self):
        """The length of the vectors: a text autoencoder's ``input_shape`` is
        ``(vocabulary_size,)``."""
        return len(self.vocabulary)

    @property
    def idf_weights(self):
        """The words' inverse document frequencies (``output_mode="tf_idf"``), else ``None``."""
        self._check_adapted()
        if self.output_mode != "tf_idf":
            return None
        store = {}
        self.layer.save_own_variables(store)
        return np.asarray(store["idf_weights"], dtype=np.float32)[1:]

    def __call__(self, texts, batch_size=1024):
        """The vectors of ``texts``: float32 ``(len(texts), vocabulary_size)``."""
        texts = _check_texts(texts)
        self._check_adapted()
        out = [np.asarray(keras.ops.convert_to_numpy(self.layer(texts[i:i + batch_size])),
                          dtype=np.float32)[:, 1:]
               for i in range(0, len(texts), batch_size)]
        return np.concatenate(out)

    def dataset(self, texts, labels=None, batch_size=128, shuffle=False, seed=0,
                targets="labels"):
        """A ``tf.data`` pipeline vectorising ``texts`` batch by batch (the layer runs in the
        pipeline). It yields vectors, or ``(vectors, labels)`` with ``labels``, or, with
        ``targets="vectors"``, ``(vectors, vectors)``: what ``fit`` on an autoencoder takes."""
        texts = _check_texts(texts)
        self._check_adapted()
        import tensorflow as tf

        if targets not in ("labels", "vectors"):
            raise ValueError(f"targets must be 'labels' or 'vectors', got {targets!r}.")
        if labels is not None:
            labels = np.asarray(labels)
            if len(labels) != len(texts):
                raise ValueError(f"{len(labels)} labels for {len(texts)} texts.")
        parts = texts if labels is None else (texts, labels)
        data = tf.data.Dataset.from_tensor_slices(parts)
        if shuffle:
            data = data.shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size)
        layer = self.layer

        def vectors(t):
            return tf.cast(layer(t), tf.float32)[:, 1:]

        if targets == "vectors":
            data = data.map(lambda *p: (vectors(p[0]),) * 2)
        elif labels is None:
            data = data.map(vectors)
        else:
            data = data.map(lambda t, y: (vectors(t), y))
        return data.prefetch(tf.data.AUTOTUNE)

    # ---------------------------------------------------------------------------------- files

    def get_config(self):
        return {"max_tokens": self.max_tokens, "output_mode": self.output_mode,
                "ngrams": self.ngrams}

    def save(self, path):
        """Writes the settings, the vocabulary and the idf weights to one JSON file at ``path``
        (its folder created if need be; through a temporary file renamed into place). Returns
        ``path``."""
        self._check_adapted()
        path = os.fspath(path)
        record = {"format": _FORMAT, "config": self.get_config(), "vocabulary": self.vocabulary}
        if self.output_mode == "tf_idf":
            record["idf_weights"] = [float(w) for w in self.idf_weights]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        write_whole({path: json.dumps(record)})  # ASCII: non-ASCII words as \u escapes
        return path

    @classmethod
    def load(cls, path):
        """The vectoriser saved at ``path`` (a ``ValueError`` naming it if it is not one)."""
        path = os.fspath(path)
        try:
            with open(path, encoding="utf-8") as f:
                record = json.load(f)
            config, vocabulary = record["config"], record["vocabulary"]
        except (ValueError, KeyError, TypeError) as e:
            raise ValueError(f"{path}: not a saved DocumentVectorizer ({e}).") from None
        vec = cls(**config)
        kwargs = {"vocabulary": vocabulary}
        if vec.output_mode == "tf_idf":
            if len(record.get("idf_weights", ())) != len(vocabulary):
                raise ValueError(f"{path}: not a saved DocumentVectorizer (idf_weights do not "
                                 f"match the vocabulary).")
            kwargs["idf_weights"] = np.asarray(record["idf_weights"], dtype=np.float32)
        vec.layer = vec._new_layer(**kwargs)
        return vec


def vectorizer(texts, max_tokens=2000, output_mode="tf_idf", ngrams=None):
    """A :class:`DocumentVectorizer` adapted on ``texts`` (the training documents)."""
    return DocumentVectorizer(max_tokens, output_mode, ngrams).adapt(texts)
