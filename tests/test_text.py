"""Text retrieval: the fortune-file loader, the document vectoriser and the text autoencoder.

The corpus is ``tests/fortunes_fixture``, written for these tests in the format of BSD fortune
files: three categories of nine texts (``cats`` holds one text twice, once with extra spaces;
``space`` and ``cooking`` share one text), a two-text category ``tiny``, and what the loader must
skip: an offensive-style ``cats-o``, a strfile index ``cats.dat``, a ``cats.u8`` link and an
``off/`` folder. Oracles: the texts as written here, TF-IDF computed in NumPy from Keras's
documented formula, the loss in NumPy; no result of the code under test serves as its own
reference.
"""

import math
import os
import re

import keras
import numpy as np
import pytest

from keras_ae import models
from keras_ae.data.fortunes import load_fortunes, read_fortune_file, stratified_split
from keras_ae.models.text import BagOfWordsCrossEntropy, TextAutoencoder
from keras_ae.search import CodeIndex
from keras_ae.text import DocumentVectorizer, vectorizer

FIXTURE = os.path.join(os.path.dirname(__file__), "fortunes_fixture")
SHARED = "Everything tastes better after a long day."


@pytest.fixture(scope="module")
def corpus():
    return load_fortunes(FIXTURE, min_texts=5)


# ------------------------------------------------------------------------------------ loader

def test_fortune_file_blocks_between_percent_lines():
    cats = read_fortune_file(os.path.join(FIXTURE, "cats"))
    # a leading "%" gives no empty text, the last text needs no closing "%"
    assert len(cats) == 10
    assert cats[0] == "The cat sleeps on the warm windowsill all afternoon."
    assert cats[2] == "My cat purrs loudly whenever the fish tin opens.\n\t\t-- a cat owner"
    assert cats[7] == "The old cat naps in the sunny garden\nand dreams of mice and birds."
    assert cats[-1] == "The cat sleeps on the warm windowsill   all afternoon."
    space = read_fortune_file(os.path.join(FIXTURE, "space"))  # no leading "%", a trailing one
    assert len(space) == 10 and space[0] == "The rocket launched toward the moon at dawn."
    assert space[-1] == SHARED


def test_load_fortunes_counts_labels_and_skips(corpus):
    texts, labels, categories = corpus
    assert categories == ["cats", "cooking", "space"]  # tiny (2 texts) is below min_texts
    assert labels.dtype == np.int64 and len(labels) == len(texts) == 27
    assert np.bincount(labels).tolist() == [9, 9, 9]  # the duplicate once, the shared text gone
    assert SHARED not in texts
    assert sum(t.startswith("The cat sleeps on the warm") for t in texts) == 1
    assert not any("offensive" in t or "off folder" in t for t in texts)
    assert texts[labels.tolist().index(2)] == "The rocket launched toward the moon at dawn."
    for text, label in zip(texts, labels):
        with open(os.path.join(FIXTURE, categories[label]), encoding="utf-8") as f:
            assert text in f.read()
    texts, labels, categories = load_fortunes(FIXTURE, min_texts=1)
    assert categories == ["cats", "cooking", "space", "tiny"]
    assert np.bincount(labels).tolist() == [9, 9, 9, 2]
    texts, labels, _ = load_fortunes(FIXTURE, min_texts=1, max_chars=45)
    assert texts and all(len(t) <= 45 for t in texts)
    assert "Mars is a cold red planet with dusty storms.\n\t\t-- a planetary scientist" not in texts


def test_load_fortunes_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        load_fortunes(tmp_path / "no_such_folder")
    with pytest.raises(ValueError, match="min_texts must be an int >= 1"):
        load_fortunes(FIXTURE, min_texts=0)
    with pytest.raises(ValueError, match="max_chars"):
        load_fortunes(FIXTURE, max_chars=-3)
    with pytest.raises(ValueError, match="no category with at least min_texts=100"):
        load_fortunes(FIXTURE, min_texts=100)


def test_stratified_split(corpus):
    _, labels, _ = corpus
    train, test = stratified_split(labels, test_fraction=0.2, seed=1)
    assert np.intersect1d(train, test).size == 0
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(27))
    assert np.bincount(labels[test]).tolist() == [2, 2, 2]  # round(0.2 * 9)
    again = stratified_split(labels, test_fraction=0.2, seed=1)
    assert all(np.array_equal(a, b) for a, b in zip((train, test), again))
    with pytest.raises(ValueError, match="test_fraction"):
        stratified_split(labels, test_fraction=1.0)
    with pytest.raises(ValueError, match="at least 2 per label"):
        stratified_split([0, 0, 1])


# ------------------------------------------------------------------------------- vectoriser

DOCS = ["The cat sat on the mat.", "The cat ate the fish!", "A dog, a cat; the dog barked.",
        "Fish swim.", "THE END", "Café au lait, the end."]


def tokens(text):
    """Keras's default standardisation, independently: lower case, punctuation removed,
    split on whitespace."""
    return re.sub(r"[^\w\s]", "", text.lower()).split()


def numpy_vectors(train, texts, mode):
    """Counts, or counts times log(1 + N / (1 + df)) over the N training documents (Keras's
    formula, index_lookup.py), as a dict word -> column."""
    words = sorted({w for t in train for w in tokens(t)})
    counts = np.array([[tokens(t).count(w) for w in words] for t in texts], np.float64)
    if mode == "tf_idf":
        df = np.array([sum(w in tokens(t) for t in train) for w in words], np.float64)
        counts = counts * np.log(1.0 + len(train) / (1.0 + df))
    return {w: counts[:, j] for j, w in enumerate(words)}


@pytest.mark.parametrize("mode", ["count", "tf_idf"])
def test_vectors_match_numpy(mode):
    vec = vectorizer(DOCS, max_tokens=100, output_mode=mode)
    expected = numpy_vectors(DOCS, DOCS, mode)
    assert sorted(vec.vocabulary) == sorted(expected) and vec.vocabulary_size == len(expected)
    got = vec(DOCS)
    assert got.dtype == np.float32 and got.shape == (len(DOCS), len(expected))
    for j, word in enumerate(vec.vocabulary):
        np.testing.assert_allclose(got[:, j], expected[word], rtol=1e-6, err_msg=word)
    # new texts: the training documents' frequencies; unknown words are left out
    queries = ["the dog and the unicorn", "fish fish fish"]
    expected = numpy_vectors(DOCS, queries, mode)
    got = vec(queries)
    for j, word in enumerate(vec.vocabulary):
        np.testing.assert_allclose(got[:, j], expected[word], rtol=1e-6, err_msg=word)
    if mode == "tf_idf":
        df = {w: sum(w in tokens(t) for t in DOCS) for w in vec.vocabulary}
        np.testing.assert_allclose(vec.idf_weights, [math.log(1 + len(DOCS) / (1 + df[w]))
                                                     for w in vec.vocabulary], rtol=1e-6)


def test_vocabulary_is_the_most_frequent_words():
    # frequencies: the 7, cat 3, a 2, dog 2, fish 2, end 2, then 1s: max_tokens=4 keeps 3
    # words, "the" and "cat" first and one of the words seen twice
    vec = vectorizer(DOCS, max_tokens=4, output_mode="count")
    assert vec.vocabulary[:2] == ["the", "cat"]
    assert vec.vocabulary[2] in ("a", "dog", "fish", "end")
    assert vec(["the cat the"]).tolist()[0][:2] == [2.0, 1.0]


def test_vectoriser_file_and_pipeline(tmp_path):
    vec = vectorizer(DOCS, max_tokens=50)
    path = vec.save(tmp_path / "sub" / "vectorizer.json")
    again = DocumentVectorizer.load(path)
    assert again.vocabulary == vec.vocabulary and again.get_config() == vec.get_config()
    assert "café" in again.vocabulary
    np.testing.assert_array_equal(again(DOCS), vec(DOCS))
    batches = list(vec.dataset(DOCS, labels=np.arange(6), batch_size=2).as_numpy_iterator())
    np.testing.assert_allclose(np.concatenate([b[0] for b in batches]), vec(DOCS), rtol=1e-6)
    assert np.concatenate([b[1] for b in batches]).tolist() == [0, 1, 2, 3, 4, 5]
    x, y = next(iter(vec.dataset(DOCS, batch_size=6, targets="vectors").as_numpy_iterator()))
    np.testing.assert_array_equal(x, y)
    bad = tmp_path / "bad.json"
    bad.write_text('{"config": {}}')
    with pytest.raises(ValueError, match="bad.json: not a saved DocumentVectorizer"):
        DocumentVectorizer.load(bad)


def test_vectoriser_bad_inputs():
    with pytest.raises(TypeError, match="texts must be a sequence of strings.*one string"):
        vectorizer("one document")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a string, got int"):
        vectorizer(["fine", 3])
    with pytest.raises(ValueError, match="texts is empty"):
        vectorizer([])
    with pytest.raises(ValueError, match="output_mode must be one of 'count', 'tf_idf'"):
        DocumentVectorizer(output_mode="multi_hot")
    with pytest.raises(ValueError, match="max_tokens must be an int >= 2"):
        DocumentVectorizer(max_tokens=1)
    with pytest.raises(ValueError, match="not adapted yet"):
        DocumentVectorizer()(["a text"])
    with pytest.raises(ValueError, match="targets must be"):
        vectorizer(DOCS).dataset(DOCS, targets="images")
    with pytest.raises(ValueError, match="3 labels for 6 texts"):
        vectorizer(DOCS).dataset(DOCS, labels=[0, 1, 2])


# ------------------------------------------------------------------------------------ model

def test_loss_matches_numpy():
    rng = np.random.default_rng(0)
    y_true = rng.poisson(1.0, (4, 7)).astype("float32")
    y_true[3] = 0.0  # an empty document: loss 0
    logits = rng.normal(size=(4, 7))
    y_pred = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype("float32")
    t = y_true / np.maximum(y_true.sum(1, keepdims=True), 1e-7)
    per_doc = -(t * np.log(y_pred)).sum(1)
    got = keras.ops.convert_to_numpy(BagOfWordsCrossEntropy()(y_true, y_pred))
    np.testing.assert_allclose(got, per_doc.mean(), rtol=1e-5)
    loss = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(BagOfWordsCrossEntropy(epsilon=1e-5)))
    assert loss.epsilon == 1e-5
    with pytest.raises(ValueError, match="epsilon must be a float in"):
        BagOfWordsCrossEntropy(epsilon=0)


def test_model_builds_trains_and_round_trips(corpus, tmp_path):
    texts, labels, _ = corpus
    vec = vectorizer(texts, max_tokens=200)
    x = vec(texts)
    v = vec.vocabulary_size
    model = models.build("text_autoencoder", input_shape=[v])
    assert isinstance(model, TextAutoencoder)
    # vocabulary -> 500 -> 250 -> 125 -> 10 and back
    sizes = [v, 500, 250, 125, 10]
    expected = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    assert model.encoder.count_params() == expected
    assert model.decoder.count_params() == sum(a * b + b for a, b in
                                               zip(sizes[::-1], sizes[::-1][1:]))
    assert model.encoder.output.shape == (None, 10)
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)  # a word distribution
    np.testing.assert_allclose(model.reconstruction_target(x), x / x.sum(1, keepdims=True),
                               rtol=1e-6)

    model.compile()
    # the compiled loss is the NumPy cross-entropy of the untrained model's predictions
    numpy_loss = -(model.reconstruction_target(x) * np.log(np.maximum(out, 1e-7))).sum(1).mean()
    np.testing.assert_allclose(model.evaluate(x, x, batch_size=27, verbose=0), numpy_loss,
                               rtol=1e-4)
    before = [keras.ops.convert_to_numpy(w).copy() for w in model.trainable_weights]
    history = model.fit(vec.dataset(texts, batch_size=9, targets="vectors"), epochs=3,
                        shuffle=False, verbose=0)
    losses = history.history["loss"]
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]
    after = [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))

    path = tmp_path / "text.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded) is TextAutoencoder and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    np.testing.assert_array_equal(loaded.encode(x), model.encode(x))
    assert isinstance(loaded.loss, BagOfWordsCrossEntropy)


def test_every_document_finds_itself(corpus):
    texts, labels, _ = corpus
    vec = vectorizer(texts, max_tokens=200)
    x = vec(texts)
    model = TextAutoencoder(input_shape=x.shape[1:], hidden_units=[64, 32], code_size=16)
    index = CodeIndex(model, verbose=0).add(x, labels=labels)
    indices, scores = index.search(x, k=3)
    assert indices[:, 0].tolist() == list(range(len(texts)))
    np.testing.assert_allclose(scores[:, 0], 1.0, rtol=1e-6)
    # the raw TF-IDF vectors through the same index
    raw = CodeIndex(None, verbose=0).add_codes(x, labels=labels)
    indices, _ = raw.search_codes(x, k=1)
    assert indices[:, 0].tolist() == list(range(len(texts)))


def test_model_bad_config():
    with pytest.raises(ValueError, match=r"input_shape must be \(vocabulary_size,\)"):
        TextAutoencoder(input_shape=[0])
    with pytest.raises(ValueError, match="code_size must be a positive int"):
        TextAutoencoder(input_shape=[20], code_size=0)
    with pytest.raises(ValueError, match="hidden_units must be a list of positive ints"):
        TextAutoencoder(input_shape=[20], hidden_units=[8, -1])
    with pytest.raises(TypeError, match="log_inputs must be True or False"):
        TextAutoencoder(input_shape=[20], log_inputs="yes")
    with pytest.raises(ValueError, match="TextAutoencoder has no config field 'vocab_size'"):
        models.build("text_autoencoder", vocab_size=20)
    assert TextAutoencoder(input_shape=20, hidden_units=[4], code_size=2).get_config()[
        "input_shape"] == [20]
