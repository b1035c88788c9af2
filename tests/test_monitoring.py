"""``keras_ae.training.MonitorCallback`` and ``keras-ae train --tensorboard``: the event files are
read back with TensorBoard's own reader (``EventAccumulator``) and every logged value is checked
against one recomputed another way (NumPy on the model's outputs, explicit tile placement)."""

import io
import os

import keras
import numpy as np
import pytest
from PIL import Image  # (pillow comes with matplotlib)
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.util import tensor_util

from keras_ae import cli, models
from keras_ae.data import make_dataset, write_idx
from keras_ae.training import MonitorCallback


def read_run(folder):
    """``{tag: {step: value}}`` of one run: scalars as floats, images as uint8 arrays."""
    events = EventAccumulator(folder, size_guidance={"tensors": 0})
    events.Reload()
    out = {}
    for tag in events.Tags()["tensors"]:
        for event in events.Tensors(tag):
            value = tensor_util.make_ndarray(event.tensor_proto)
            if value.dtype == object:  # an image summary: [width, height, png, ...]
                value = [np.atleast_3d(np.asarray(Image.open(io.BytesIO(png)))) for png in value[2:]]
            else:
                value = float(value)
            out.setdefault(tag, {})[event.step] = value
    return out


def test_loss_terms_and_reconstructions(images, tmp_path):
    """DrSAE (two add_loss layers, no conv): each term and their total at each epoch, the
    reconstruction picture; filters skipped, saying why."""
    model = models.build("drsae", input_shape=(28, 28, 1), units=16, steps=2)
    log_dir = str(tmp_path / "tb")
    monitor = MonitorCallback(log_dir, images)
    data = make_dataset(images, np.arange(8) % 10, batch_size=4, seed=0)
    model.fit_procedure(data, 2, callbacks=[monitor], verbose=0)
    assert monitor.skipped == {"filters": "the encoder has no Conv2D layer"}
    logged = read_run(os.path.join(log_dir, "monitor"))
    assert sorted(logged) == ["loss_terms/reconstruction_loss", "loss_terms/sparsity",
                              "loss_terms/total", "reconstructions"]
    assert all(sorted(steps) == [0, 1] for steps in logged.values())

    # The last epoch's entries are of the trained weights: recompute them in NumPy from the
    # model's outputs, sparsity * mean ||z||_1 and 0.5 * mean ||x/||x|| - x_hat||^2.
    out = model.predict(images, verbose=0)
    flat = images.reshape(8, -1)
    target = flat / np.linalg.norm(flat, axis=1, keepdims=True)
    sparsity = 0.01 * np.abs(out["code"]).sum(1).mean()
    reconstruction = 0.5 * ((target - out["reconstruction"].reshape(8, -1)) ** 2).sum(1).mean()
    np.testing.assert_allclose(logged["loss_terms/sparsity"][1], sparsity, rtol=1e-4)
    np.testing.assert_allclose(logged["loss_terms/reconstruction_loss"][1], reconstruction,
                               rtol=1e-4)
    np.testing.assert_allclose(logged["loss_terms/total"][1], sparsity + reconstruction, rtol=1e-4)
    assert logged["loss_terms/total"][0] != logged["loss_terms/total"][1]  # a new pass per epoch

    # One picture per epoch: the 8 inputs (unit-norm, DrSAE's target) above their reconstructions,
    # 28x28 tiles one white pixel apart, on the inputs' scale.
    [picture] = logged["reconstructions"][1]
    assert picture.shape == (2 * 29 + 1, 8 * 29 + 1, 1)
    scale = target.max()
    recs = np.clip(out["reconstruction"].reshape(8, 28, 28) / scale, 0, 1)
    for i in range(8):
        cols = slice(1 + 29 * i, 29 + 29 * i)
        np.testing.assert_allclose(picture[1:29, cols, 0] / 255,
                                   target[i].reshape(28, 28) / scale, atol=1 / 255 + 1e-6)
        np.testing.assert_allclose(picture[30:58, cols, 0] / 255, recs[i], atol=1 / 255 + 1e-6)


def test_unwritable_log_dir_fails_before_training(images, tmp_path, capsys):
    (tmp_path / "a_file").write_text("")
    blocked = str(tmp_path / "a_file" / "tb")
    with pytest.raises(ValueError, match="a_file is a file, not a folder"):
        MonitorCallback(blocked, images)
    with pytest.raises(ValueError, match="images must be a non-empty"):
        MonitorCallback(str(tmp_path / "tb"), images[0])
    # The command line refuses it before reading any data (the dataset does not even exist).
    assert cli.main(["train", "conv_autoencoder", "--dataset", str(tmp_path / "none"),
                     "--tensorboard", blocked, "--out", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert f"--tensorboard {blocked}: {tmp_path / 'a_file'} is a file" in err, err
    assert not os.path.exists(str(tmp_path / "run" / "model.keras"))


def test_cli_tensorboard(tmp_path, capsys):
    """keras-ae train --tensorboard: Keras's scalars, the reconstructions and the first conv
    layer's filters of a conv autoencoder on a tiny synthetic IDX folder."""
    folder = tmp_path / "squares"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 40), ("t10k", 8)):
        x = np.zeros((n, 12, 12), np.uint8)
        for i, (r, c) in enumerate(rng.integers(0, 7, (n, 2))):
            x[i, r:r + 5, c:c + 5] = 255
        write_idx(str(folder / f"{prefix}-images-idx3-ubyte.gz"), x)
        write_idx(str(folder / f"{prefix}-labels-idx1-ubyte.gz"), (np.arange(n) % 2).astype(np.uint8))
    log_dir = str(tmp_path / "tb")
    assert cli.main(["train", "conv_autoencoder", "--dataset", str(folder), "--epochs", "2",
                     "--batch-size", "8", "--set", "filters=[4,4]", "--validation-size", "8",
                     "--no-export", "--out", str(tmp_path / "run"), "--tensorboard", log_dir]) == 0
    assert f"tensorboard --logdir {log_dir}" in capsys.readouterr().out
    assert sorted(os.listdir(log_dir)) == ["monitor", "train", "validation"]
    assert sorted(read_run(os.path.join(log_dir, "train"))["epoch_loss"]) == [0, 1]
    assert sorted(read_run(os.path.join(log_dir, "validation"))["epoch_loss"]) == [0, 1]
    logged = read_run(os.path.join(log_dir, "monitor"))
    model = keras.saving.load_model(str(tmp_path / "run" / "model.keras"))
    conv = [layer for layer in model.encoder.layers if isinstance(layer, keras.layers.Conv2D)][0]
    assert sorted(logged) == ["filters/" + conv.name, "reconstructions"]  # no add_loss terms
    [picture] = logged["reconstructions"][1]
    assert picture.shape == (2 * 13 + 1, 8 * 13 + 1, 1)
    # The filters: the 4 kernels of the first conv (one input channel), each rescaled to [0, 1]
    # on its own, tiled 2 x 2.
    [filters] = logged["filters/" + conv.name][1]
    kernel = keras.ops.convert_to_numpy(conv.kernel)
    kh, kw, _, count = kernel.shape
    assert count == 4 and filters.shape == (2 * (kh + 1) + 1, 2 * (kw + 1) + 1, 1)
    for i in range(count):
        r, c = divmod(i, 2)
        k = kernel[:, :, 0, i]
        np.testing.assert_allclose(
            filters[1 + r * (kh + 1):1 + r * (kh + 1) + kh, 1 + c * (kw + 1):1 + c * (kw + 1) + kw, 0]
            / 255, (k - k.min()) / (k.max() - k.min()), atol=1 / 255 + 1e-6)
