"""The quality floor, small: every registered model, trained for one epoch through
``keras-ae train``'s own code path (:func:`benchmarks.quality_floor.train_and_measure`) on the
shipped MNIST sample, learns something: its test reconstruction error is below the untrained
model's and near or below the mean-image baseline (NumPy), and its classifier, if it has one,
is far better than chance.

A loose floor: it separates "learns" from "does not learn" (a decoder fed codes it was never
trained on, units that never fire), not good from very good. For time (about a minute in all)
it runs on TensorFlow only, in batches of 32 on the first 1,000 images of each split (more for
the two convolutional autoencoders, which start slower), and shrinks the slowest models with
``--set`` (``SMALL`` below); every other setting is the model's default.

``stacked_conv_wta`` only has to stay within 3 times the mean image's error: its default
procedure fine-tunes the stack end to end through every stage's sparsity after the greedy
stages, but in one epoch of 1,000 images, small, that reaches 1.35 times the mean image's error
(1.5 with the greedy stages alone); the floor still catches a decoder fed dense codes (errors
of tens to hundreds). ``tests/test_wta.py`` checks the default fine-tuning where it separates.
"""

import json
import os

import keras
import numpy as np
import pytest

from benchmarks import quality_floor  # the suite runs from the repository root
from keras_ae import catalog
from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

LIMIT = 1000
#: more training images (one epoch) for the models that start slower
LIMITS = {"conv_autoencoder": 2000, "conv_wta": 5000}
BATCH = 32
#: ``--set`` overrides of the slowest models (fewer maps; the WTA models keep a larger fraction
#: k of each batch, so that 32-image batches keep several winners per image); the rest train
#: with their defaults.
SMALL = {
    "conv_autoencoder": ["filters=[16,32]"],
    "conv_wta": ["filters=[32]", "decoder_kernel_size=7", "k=0.2"],
    "stacked_conv_wta": ["filters=[32,32]", "decoder_kernel_size=[7,5]", "k=0.2"],
    "mae": ["depth=1", "width=64", "decoder_depth=1"],
    "swwae": ["filters=[16,32]"],
    "swwae_soft": ["filters=[16,32]"],
    "swwae_what_only": ["filters=[16,32]"],
}
#: a classifier's test error must be below this (chance: 90 % on ten classes)
ERROR_FLOOR = 50.0
#: reconstruction error at most this many times the mean image's
MEAN_IMAGE_FACTOR = {"stacked_conv_wta": 3.0}


def _split(split, limit):
    x, y = read_idx_folder(SAMPLE_DIR, split)
    return to_float_images(x[:limit]), y[:limit]


def _untrained_mse(name, config, x_test):
    """The reconstruction error of the same model, built as the CLI builds it, untrained."""
    from keras_ae import models

    keras.utils.set_random_seed(0)  # the CLI's default --seed, before it builds the model
    model = models.build(name, **config)
    target = model.reconstruction_target(x_test)
    return float(np.mean((model.reconstruct(x_test, batch_size=BATCH) - target) ** 2))


@pytest.mark.parametrize("name", catalog.names())
def test_every_model_learns_in_one_epoch(name, tmp_path):
    out = str(tmp_path / name)
    limit = LIMITS.get(name, LIMIT)
    row = quality_floor.train_and_measure(
        name, 1, out, dataset=SAMPLE_DIR, limit=limit, overrides=SMALL.get(name, ()),
        probe=False, cli_args=["--batch-size", str(BATCH)])
    x_train, _ = _split("train", limit)
    x_test, _ = _split("test", limit)
    assert row["train_examples"] == len(x_train) == limit
    assert row["test_examples"] == len(x_test)

    with open(os.path.join(out, "metrics.json")) as f:
        config = json.load(f)["config"]
    config = {k: v for k, v in config.items() if k not in ("name", "trainable")}
    if row["reconstruction_mse"] is not None:
        mse = row["reconstruction_mse"]
        assert np.isfinite(mse)
        if name != "stacked_conv_wta":
            untrained = _untrained_mse(name, config, x_test)
            assert mse < 0.9 * untrained, (name, mse, untrained)
        # NumPy baseline: the mean training target for every test image (DrSAE's targets are
        # the images scaled to unit norm)
        if name == "drsae":
            def unit(x):
                flat = x.reshape(len(x), -1)
                return flat / np.linalg.norm(flat, axis=1, keepdims=True)
        elif name == "text_autoencoder":  # a distribution over the pixels: each image / its sum
            def unit(x):
                flat = x.reshape(len(x), -1)
                return flat / flat.sum(axis=1, keepdims=True)
        else:
            def unit(x):
                return x.reshape(len(x), -1)
        baseline = float(np.mean((unit(x_test) - unit(x_train).mean(axis=0)) ** 2))
        assert mse < MEAN_IMAGE_FACTOR.get(name, 1.2) * baseline, (name, mse, baseline)
    if row["error_percent"] is not None:
        assert row["error_percent"] < ERROR_FLOOR, (name, row["error_percent"])
    assert row["reconstruction_mse"] is not None or row["error_percent"] is not None


def test_pca_mse_closed_forms():
    rng = np.random.default_rng(0)
    # data on a 3-dimensional affine subspace of R^10: 3 components reconstruct it exactly
    basis = np.linalg.qr(rng.normal(size=(10, 3)))[0]
    train = rng.normal(size=(200, 3)) @ basis.T + 5.0
    test = rng.normal(size=(50, 3)) @ basis.T + 5.0
    assert quality_floor.pca_mse(train, test, 3) < 1e-20
    # zero components: the error of the training mean
    np.testing.assert_allclose(quality_floor.pca_mse(train, test, 0),
                               np.mean((test - train.mean(axis=0)) ** 2), rtol=1e-12)
    # on the training set, keeping k axes leaves the smallest eigenvalues of the covariance
    # (population normalisation), averaged over the coordinates
    cloud = rng.normal(size=(300, 6)) * np.array([5.0, 4.0, 3.0, 2.0, 1.0, 0.5])
    eigenvalues = np.sort(np.linalg.eigvalsh(np.cov(cloud.T, bias=True)))[::-1]
    for k in range(7):
        np.testing.assert_allclose(quality_floor.pca_mse(cloud, cloud, k),
                                   eigenvalues[k:].sum() / 6, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(quality_floor.mean_image_mse(train, test),
                               np.mean((test - train.mean(axis=0)) ** 2), rtol=1e-12)
    with pytest.raises(ValueError, match="components must be an int in \\[0, 6\\]"):
        quality_floor.pca_mse(cloud, cloud, 7)


def test_model_limits_flag():
    assert quality_floor.parse_model_limits(["conv_wta=20000", "swwae=5"]) == {
        "conv_wta": 20000, "swwae": 5}
    for bad in ("conv_wta", "conv_wta=0", "=5", "conv_wta=x"):
        with pytest.raises(ValueError, match="--model-limit expects NAME=N"):
            quality_floor.parse_model_limits([bad])


def test_update_replaces_only_the_named_rows(tmp_path):
    record = {"epochs": 3, "data": "d", "probe_pool": 5000, "command": "first",
              "rows": [{"model": "a", "mse": 1.0}, {"model": "b", "mse": 2.0}]}
    rerun = {"model": "b", "mse": 0.5, "command": "again", "date": "today", "machine": "here"}
    updated = quality_floor.replace_row(record, rerun)
    assert updated["rows"] == [{"model": "a", "mse": 1.0}, rerun]
    assert updated["command"] == "first" and record["rows"][1]["mse"] == 2.0
    assert quality_floor.replace_row(record, {"model": "c"})["rows"][-1] == {"model": "c"}
    # a rerun must match the file's budget, data and probe pool; checked before any training
    stem = tmp_path / "floor"
    stem.with_suffix(".json").write_text(json.dumps(record))
    with pytest.raises(SystemExit):
        quality_floor.main(["--update", "--out-name", str(stem), "--epochs", "2",
                            "--models", "linear_autoencoder"])
    with pytest.raises(SystemExit):
        quality_floor.main(["--update", "--out-name", str(tmp_path / "none"),
                            "--models", "linear_autoencoder"])
