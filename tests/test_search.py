"""keras_ae.search against independent oracles: codes computed from the encoder's weights in
NumPy, neighbours by a brute-force argsort of every similarity or distance."""

import json
import os

import keras
import numpy as np
import pytest

from keras_ae import cli
from keras_ae.data import write_idx
from keras_ae.search import CodeIndex, encoder_fingerprint, precision_at_k, recall_at_k


def dense_encoder(seed=0, shape=(8, 8, 1), units=12):
    keras.utils.set_random_seed(seed)
    images = keras.Input(shape)
    return keras.Model(images, keras.layers.Dense(units)(keras.layers.Flatten()(images)))


def numpy_codes(encoder, images):
    """The oracle's codes: the Dense layer's affine map, in float64."""
    kernel, bias = (np.asarray(keras.ops.convert_to_numpy(w), np.float64) for w in encoder.weights)
    return images.reshape(len(images), -1).astype(np.float64) @ kernel + bias


def brute_force(database, queries, metric, k):
    if metric == "cosine":
        unit = lambda c: c / np.linalg.norm(c, axis=1, keepdims=True)  # noqa: E731
        scores = unit(queries) @ unit(database).T
        order = np.argsort(-scores, axis=1, kind="stable")
    else:
        scores = np.sqrt(((queries[:, None, :] - database[None, :, :]) ** 2).sum(-1))
        order = np.argsort(scores, axis=1, kind="stable")
    order = order[:, :k]
    return order, np.take_along_axis(scores, order, 1)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return (rng.random((300, 8, 8, 1)).astype("float32"), rng.integers(0, 5, 300),
            rng.random((25, 8, 8, 1)).astype("float32"))


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_exact_search_is_brute_force(data, metric):
    x, _, queries = data
    encoder = dense_encoder()
    # blocks of 16: the index spans 19 blocks (the last one partly filled), the queries two
    index = CodeIndex(encoder, metric=metric, block_size=16, verbose=0).add(x)
    assert len(index) == 300 and index.codes.shape == (300, 12)
    # the codes are the encoder's (float32, to its precision); the neighbours are exact for them
    np.testing.assert_allclose(index.codes, numpy_codes(encoder, x), rtol=1e-4, atol=1e-5)
    q = CodeIndex(encoder, verbose=0).encode(queries)[0]
    np.testing.assert_allclose(q, numpy_codes(encoder, queries), rtol=1e-4, atol=1e-5)
    database, q = index.codes.astype(np.float64), q.astype(np.float64)
    for k in (1, 7, 300):
        indices, scores = index.search(queries, k)
        want_i, want_s = brute_force(database, q, metric, k)
        assert indices.shape == scores.shape == (25, k)
        np.testing.assert_array_equal(indices, want_i)
        np.testing.assert_allclose(scores, want_s, rtol=1e-5, atol=1e-5)
    # every indexed image is its own nearest neighbour
    self_i, self_s = index.search(x, 1)
    np.testing.assert_array_equal(self_i[:, 0], np.arange(300))
    np.testing.assert_allclose(self_s[:, 0], 1.0 if metric == "cosine" else 0.0, atol=1e-5)
    # precomputed codes, without an encoder, block size larger than everything
    codes_only = CodeIndex(None, metric=metric, block_size=1000).add_codes(database)
    np.testing.assert_array_equal(codes_only.search_codes(q, 7)[0], brute_force(
        database, q, metric, 7)[0])
    # copies of an item: all three are its nearest (their order is within rounding of BLAS)
    thrice = CodeIndex(None, metric=metric, block_size=16).add_codes(np.tile(database, (3, 1)))
    np.testing.assert_array_equal(np.sort(thrice.search_codes(database[:40], 3)[0], axis=1),
                                  np.arange(40)[:, None] + [0, 300, 600])


def test_equal_scores_lowest_index_first():
    """Small integer codes: every distance is exact, and many are equal, within a block and
    across blocks; the order is a stable sort's."""
    codes = np.random.default_rng(2).integers(0, 3, (200, 4)).astype(np.float64)
    index = CodeIndex(None, metric="euclidean", block_size=16).add_codes(codes)
    for k in (1, 5, 40, 200):
        got_i, got_s = index.search_codes(codes[:30], k)
        want_i, want_s = brute_force(codes, codes[:30], "euclidean", k)
        np.testing.assert_array_equal(got_i, want_i)
        np.testing.assert_allclose(got_s, want_s, atol=1e-6)


def test_zoo_model_is_searched_through_its_encoder(data):
    from keras_ae import models

    x, _, queries = data
    model = models.build("dense_autoencoder", input_shape=(8, 8, 1), hidden_units=[16],
                         code_size=6)
    index = CodeIndex(model, verbose=0).add(x[:50])
    assert index.encoder is model.encoder and index.dim == 6
    assert index.fingerprint == encoder_fingerprint(model.encoder)
    codes = keras.ops.convert_to_numpy(model.encoder(queries))
    np.testing.assert_array_equal(index.search(queries, 3)[0], index.search_codes(codes, 3)[0])


def test_save_load_round_trip_and_other_encoder_refused(data, tmp_path):
    x, y, queries = data
    encoder = dense_encoder()
    index = CodeIndex(encoder, metric="euclidean", verbose=0).add(x, labels=y)
    path = str(tmp_path / "index.npz")
    assert index.save(path) == path and os.listdir(tmp_path) == ["index.npz"]
    again = CodeIndex.load(path, encoder, verbose=0)
    assert len(again) == 300 and again.metric == "euclidean"
    np.testing.assert_array_equal(again.labels, y)
    for got, want in zip(again.search(queries, 5), index.search(queries, 5)):
        np.testing.assert_array_equal(got, want)
    # the same weights in another model object: accepted
    twin = keras.models.clone_model(encoder)
    twin.set_weights(encoder.get_weights())
    assert len(CodeIndex.load(path, twin, verbose=0)) == 300
    # the same architecture, other weights: refused, naming the file
    with pytest.raises(ValueError, match="another encoder") as err:
        CodeIndex.load(path, dense_encoder(seed=1))
    assert path in str(err.value)
    with pytest.raises(ValueError, match="another encoder"):
        CodeIndex.load(path, None)


def test_failed_save_leaves_no_file(data, tmp_path, monkeypatch):
    x, _, _ = data
    index = CodeIndex(dense_encoder(), verbose=0).add(x[:20])
    path = str(tmp_path / "index.npz")

    def broken(file, **arrays):
        file.write(b"PK\x03\x04 half an archive")
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError, match="disk full"):
        index.save(path)
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    index.save(path)
    before = open(path, "rb").read()
    monkeypatch.setattr(np, "savez", broken)
    with pytest.raises(OSError):
        CodeIndex(dense_encoder(), verbose=0).add(x[:30]).save(path)
    assert os.listdir(tmp_path) == ["index.npz"] and open(path, "rb").read() == before


def test_dataset_input_equals_array_input(data):
    import tensorflow as tf

    x, y, queries = data
    encoder = dense_encoder()
    from_array = CodeIndex(encoder, verbose=0).add(x, labels=y)
    pairs = CodeIndex(encoder, verbose=1).add(tf.data.Dataset.from_tensor_slices((x, y)).batch(64))
    images = CodeIndex(encoder, verbose=0).add(tf.data.Dataset.from_tensor_slices(x).batch(100))
    for index in (pairs, images):
        np.testing.assert_allclose(index.codes, from_array.codes, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(pairs.labels, y)
    assert images.labels is None
    want = from_array.search(queries, 4)
    got = pairs.search(tf.data.Dataset.from_tensor_slices(queries).batch(10), 4)
    np.testing.assert_array_equal(got[0], want[0])
    # uint8 images are scaled to [0, 1], as everywhere in the package
    as_bytes = np.round(x[:10] * 255).astype(np.uint8)
    np.testing.assert_allclose(CodeIndex(encoder, verbose=0).add(as_bytes).codes,
                               numpy_codes(encoder, as_bytes / 255.0), rtol=1e-4, atol=1e-4)


def test_bad_arguments_are_named(data):
    x, _, queries = data
    encoder = dense_encoder()
    with pytest.raises(ValueError, match="metric"):
        CodeIndex(encoder, metric="manhattan")
    with pytest.raises(ValueError, match="block_size"):
        CodeIndex(encoder, block_size=0)
    index = CodeIndex(encoder, verbose=0)
    with pytest.raises(ValueError, match="empty"):
        index.search(queries, 1)
    index.add(x[:20])
    for k in (0, -1, 21, 2.5, True):
        with pytest.raises(ValueError, match="k"):
            index.search(queries, k)
    with pytest.raises(ValueError, match=r"queries must be a batch of images of shape \(N, 8, 8, 1\)"):
        index.search(np.zeros((3, 9, 9, 1), "float32"), 1)
    with pytest.raises(ValueError, match=r"x\[None\]"):
        index.search(queries[0], 1)
    with pytest.raises(ValueError, match="values each"):
        index.search_codes(np.zeros((2, 5)), 1)


def test_recall_and_precision_oracles():
    exact = np.array([[0, 1, 2, 3], [4, 5, 6, 7]])
    approx = np.array([[3, 2, 9, 8], [4, 5, 6, -1]])
    assert recall_at_k(exact, approx) == pytest.approx((2 / 4 + 3 / 4) / 2)
    assert recall_at_k(exact, exact[:, ::-1]) == 1.0
    with pytest.raises(ValueError, match="approx_indices"):
        recall_at_k(exact, approx[:, :2])
    assert precision_at_k([1, 2], [[1, 1, 0], [2, 0, 0]]) == pytest.approx(3 / 6)


def test_faiss_missing_says_how_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "faiss", None)  # makes `import faiss` fail
    with pytest.raises(ImportError, match=r'pip install "keras-ae\[faiss\]"'):
        CodeIndex(None, backend="faiss")
    with pytest.raises(ImportError, match="faiss"):
        CodeIndex(None).add_codes(np.ones((3, 2))).approximate("hnsw")


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_faiss_recall_at_10(metric):
    pytest.importorskip("faiss")
    rng = np.random.default_rng(1)
    centres = rng.normal(size=(20, 16))
    codes = (centres[rng.integers(0, 20, 1000)] + 0.5 * rng.normal(size=(1000, 16)))
    queries = centres[rng.integers(0, 20, 100)] + 0.5 * rng.normal(size=(100, 16))
    index = CodeIndex(None, metric=metric).add_codes(codes)
    exact, exact_scores = index.search_codes(queries, 10)
    for kind in ("hnsw", "ivf"):
        approx, scores = index.approximate(kind).search_codes(queries, 10)
        assert approx.shape == scores.shape == (100, 10)
        assert recall_at_k(exact, approx) >= 0.9, kind
        # the scores are in the exact search's units where the items agree
        agree = approx[:, 0] == exact[:, 0]
        np.testing.assert_allclose(scores[agree, 0], exact_scores[agree, 0], rtol=1e-4, atol=1e-4)
    via_backend = CodeIndex(None, metric=metric, backend="faiss", faiss_index="ivf")
    assert recall_at_k(exact, via_backend.add_codes(codes).search_codes(queries, 10)[0]) >= 0.9


@pytest.fixture
def squares_folder(tmp_path):
    """A tiny IDX folder: 12x12 images of a square in one of 3 places, the place its label."""
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 60), ("t10k", 12)):
        labels = (np.arange(n) % 3).astype(np.uint8)
        images = rng.integers(0, 60, (n, 12, 12)).astype(np.uint8)  # no two alike: no ties
        for i, label in enumerate(labels):
            r = 1 + 4 * label + rng.integers(0, 2)
            images[i, r:r + 3, 2:10] = 255
        write_idx(str(tmp_path / f"{prefix}-images-idx3-ubyte.gz"), images)
        write_idx(str(tmp_path / f"{prefix}-labels-idx1-ubyte.gz"), labels)
    return str(tmp_path)


def test_cli_search_writes_picture_and_json(squares_folder, tmp_path, capsys):
    from keras_ae import models
    from keras_ae.data import load_arrays, to_float_images

    model = models.build("dense_autoencoder", input_shape=(12, 12, 1), hidden_units=[16],
                         code_size=4)
    model_file = str(tmp_path / "model.keras")
    model.save(model_file)
    out = str(tmp_path / "search")
    assert cli.main(["search", model_file, "--index", squares_folder, "--queries", "6",
                     "--k", "3", "--limit", "40", "--out", out, "--metric", "euclidean"]) == 0
    summary = capsys.readouterr().out.strip().splitlines()[-1]
    assert summary.startswith("search: 6 test queries against 40 train images, k=3, euclidean")
    assert sorted(os.listdir(out)) == ["search.json", "search.png"]
    assert open(os.path.join(out, "search.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    report = json.load(open(os.path.join(out, "search.json")))
    x_train, y_train = load_arrays(squares_folder, "train")
    x_test, y_test = load_arrays(squares_folder, "test")
    database = keras.ops.convert_to_numpy(model.encoder(to_float_images(x_train[:40])))
    queries = keras.ops.convert_to_numpy(model.encoder(to_float_images(x_test[:6])))
    want, _ = brute_force(database.astype(np.float64), queries.astype(np.float64), "euclidean", 3)
    assert [r["indices"] for r in report["results"]] == want.tolist()
    assert [r["labels"] for r in report["results"]] == y_train[want].tolist()
    assert [r["label"] for r in report["results"]] == y_test[:6].tolist()
    assert report["precision_at_k"] == pytest.approx(np.mean(y_train[want] == y_test[:6, None]))
    assert report["index"]["images"] == 40 and report["k"] == 3
    assert cli.main(["search", model_file, "--index", squares_folder, "--k", "41",
                     "--limit", "40", "--out", out]) == 2
    assert "--k 41" in capsys.readouterr().err
