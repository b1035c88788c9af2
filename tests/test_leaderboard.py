"""The leaderboard (benchmarks/leaderboard.py), small: the shipped MNIST sample, 500 images, one
epoch, two models and the raw pixels, timed on one backend. Checks the files it writes, that
its figures are sane, and the pixel row's precision@10 against a NumPy brute-force cosine search
of the same images."""

import json
import os

import numpy as np
import pytest

from benchmarks import leaderboard
from keras_ae import catalog
from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images
from keras_ae.search import majority_vote

LIMIT = 500


def test_small_board_on_the_sample(tmp_path):
    stem = str(tmp_path / "board")
    assert leaderboard.main(["--dataset", SAMPLE_DIR, "--limit", str(LIMIT), "--epochs", "1",
                             "--models", "pixels", "linear_autoencoder", "dense_autoencoder",
                             "--timing-backends", "jax", "--timing-images", "128",
                             "--out-name", stem]) == 0
    for ext in (".json", ".md", ".png"):
        assert os.path.getsize(stem + ext) > 0, ext
    with open(stem + ".json") as f:
        record = json.load(f)
    rows = {row["model"]: row for row in record["rows"]}
    assert set(rows) == {"pixels", "linear_autoencoder", "dense_autoencoder"}
    assert not [row for row in rows.values() if "failed" in row]
    for row in rows.values():
        assert set(row["probe"]) == {"100", "all"}  # 1,000 labels: more than 500 images
        assert row["probe"]["all"]["num_labels"] == LIMIT
        for value in [r["accuracy_percent"] for r in row["probe"].values()] + [
                row["knn_accuracy_percent"], row["precision_at_k_percent"]]:
            assert 0.0 <= value <= 100.0
    # the raw pixels classify digits far above chance
    assert rows["pixels"]["knn_accuracy_percent"] > 60.0
    assert rows["pixels"]["code_size"] == 784 and rows["pixels"]["parameters"] == 0
    assert rows["linear_autoencoder"]["reconstruction_mse"] > 0
    assert rows["linear_autoencoder"]["passes"] == 1
    timed = record["timing"]["jax"]["models"]
    assert set(timed) == {"linear_autoencoder", "dense_autoencoder"}
    assert all(t["epoch_seconds"] > 0 for t in timed.values())
    # every registered model is on the board or listed with the reason it is not
    assert set(record["not_on_board"]) == set(catalog.names()) - set(rows)
    with open(stem + ".md") as f:
        text = f.read()
    assert "| `pixels` | 0 |" in text and "swwae_soft" in text

    # precision@10 of the pixels, by brute force: cosine similarity of the flattened images
    x_train, y_train = read_idx_folder(SAMPLE_DIR, "train")
    x_test, y_test = read_idx_folder(SAMPLE_DIR, "test")

    def unit(x):
        flat = to_float_images(x[:LIMIT]).reshape(min(LIMIT, len(x)), -1).astype(np.float64)
        return flat / np.linalg.norm(flat, axis=1, keepdims=True)

    similarity = unit(x_test) @ unit(x_train).T
    nearest = np.argsort(-similarity, axis=1, kind="stable")[:, :10]
    expected = 100.0 * np.mean(y_train[:LIMIT][nearest] == y_test[:LIMIT, None])
    assert rows["pixels"]["precision_at_k_percent"] == pytest.approx(expected, abs=1e-9)


def test_the_board_names_registered_models():
    # a registered model on neither list is still listed, with a generic reason (the first test)
    assert set(leaderboard.BOARD) | set(leaderboard.NOT_ON_BOARD) <= set(catalog.names())
    assert not set(leaderboard.BOARD) & set(leaderboard.NOT_ON_BOARD)


@pytest.mark.parametrize("argv, flag", [
    (["--epochs", "0"], "--epochs"),
    (["--limit", "0"], "--limit"),
    (["--seeds", "1", "1"], "--seeds"),
    (["--models", "pixels", "no_such_model"], "--models"),
    (["--model-seeds", "conv_wta=0"], "--model-seeds"),
    (["--models", "pixels", "--model-seeds", "conv_wta=1"], "--model-seeds"),
    (["--timing-backends", "numpy"], "--timing-backends"),
])
def test_bad_arguments_are_named(argv, flag):
    with pytest.raises(ValueError, match=flag):
        leaderboard.main(argv)


def test_pca_encoder_projects_on_the_principal_axes():
    rng = np.random.default_rng(0)
    images = rng.random((50, 4, 4, 1)).astype(np.float32)
    codes = np.asarray(leaderboard.pca_encoder(images, 3).predict(images, verbose=0))
    flat = images.reshape(50, -1).astype(np.float64)
    centred = flat - flat.mean(axis=0)
    axes = np.linalg.svd(centred, full_matrices=False)[2][:3]
    np.testing.assert_allclose(codes, centred @ axes.T, atol=1e-4)
    with pytest.raises(ValueError, match="--pca-components"):
        leaderboard.pca_encoder(images, 17)


def test_majority_vote_breaks_ties_by_rank():
    np.testing.assert_array_equal(majority_vote([[1, 2, 2, 3], [4, 5, 5, 4], [7, 7, 7, 7]]),
                                  [2, 4, 7])
    with pytest.raises(ValueError, match="result_labels"):
        majority_vote([1, 2, 3])
