import argparse
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_ae import cli
from keras_ae.data import write_idx
from keras_ae.testing import call_saved_model


@pytest.fixture(scope="module")
def bars_folder(tmp_path_factory):
    """A non-MNIST IDX folder: 16x16 images of bars and squares in 3 classes."""
    folder = tmp_path_factory.mktemp("bars")
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 96), ("t10k", 24)):
        images = np.zeros((n, 16, 16), np.uint8)
        labels = (np.arange(n) % 3).astype(np.uint8)
        for i, label in enumerate(labels):
            r, c = rng.integers(1, 8, 2)
            rows, cols = [(slice(r, r + 6), slice(c, c + 6)), (slice(r + 2, r + 4), slice(c, c + 8)),
                          (slice(r, r + 8), slice(c + 2, c + 4))][label]
            images[i, rows, cols] = 255
        write_idx(str(folder / f"{prefix}-images-idx3-ubyte.gz"), images)
        write_idx(str(folder / f"{prefix}-labels-idx1-ubyte.gz"), labels)
    return str(folder)


def test_train_writes_everything(bars_folder, tmp_path, capsys):
    out = str(tmp_path / "run")
    code = cli.main(["train", "conv_autoencoder", "--dataset", bars_folder, "--epochs", "2",
                     "--batch-size", "16", "--out", out, "--set", "filters=[4,8]",
                     "--validation-size", "20"])
    assert code == 0
    assert sorted(os.listdir(out)) == ["encoder_savedmodel", "history.json", "metrics.json",
                                       "model.keras", "reconstructions.png"]
    history = json.load(open(os.path.join(out, "history.json")))
    assert len(history["loss"]) == 2 and len(history["val_loss"]) == 2
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["config"]["input_shape"] == [16, 16, 1] and metrics["config"]["filters"] == [4, 8]
    assert metrics["test"]["examples"] == 24 and 0 <= metrics["test"]["reconstruction_mse"] < 1
    # The last 20 of the 96 training images were held out for validation, not the test split.
    assert metrics["train_examples"] == 76 and metrics["validation"]["examples"] == 20
    import keras

    from keras_ae.data import load_arrays, to_float_images

    model = keras.saving.load_model(os.path.join(out, "model.keras"))
    # val_loss is the (binary cross-entropy) loss on exactly those 20 images, after the last epoch.
    held = to_float_images(load_arrays(bars_folder, "train")[0])[-20:]
    p = np.clip(model.predict(held, verbose=0), 1e-7, 1 - 1e-7)
    bce = -np.mean(held * np.log(p) + (1 - held) * np.log(1 - p))
    np.testing.assert_allclose(history["val_loss"][-1], bce, rtol=1e-3)
    assert open(os.path.join(out, "reconstructions.png"), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    # The exported encoder agrees with the saved model's encoder.
    x = np.random.default_rng(1).random((3, 16, 16, 1)).astype("float32")
    got = call_saved_model(os.path.join(out, "encoder_savedmodel"), x)["code"]
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(model.encoder(x)), atol=1e-5)
    assert "Epoch 2/2" in capsys.readouterr().out  # Keras's progress output is shown

    # evaluate and export on the written model
    assert cli.main(["evaluate", os.path.join(out, "model.keras"), "--dataset", bars_folder]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["examples"] == 24
    np.testing.assert_allclose(result["reconstruction_mse"], metrics["test"]["reconstruction_mse"], rtol=1e-4)
    export_dir = str(tmp_path / "exported")
    assert cli.main(["export", os.path.join(out, "model.keras"), export_dir]) == 0
    assert os.path.isfile(os.path.join(export_dir, "saved_model.pb"))


def test_probe_reports_each_label_budget(bars_folder, tmp_path, capsys):
    """``keras-ae probe`` is the library's linear probe on the saved model's encoder: the same
    numbers as ``evaluation.linear_probe`` with the same settings, written whole to --out."""
    import keras

    from keras_ae import evaluation
    from keras_ae.data import load_arrays, to_float_images

    out = str(tmp_path / "run")
    assert cli.main(["train", "conv_autoencoder", "--dataset", bars_folder, "--epochs", "1",
                     "--batch-size", "16", "--out", out, "--set", "filters=[4,8]",
                     "--no-export"]) == 0
    capsys.readouterr()
    model_file = os.path.join(out, "model.keras")
    report_file = str(tmp_path / "probe.json")
    assert cli.main(["probe", model_file, "--dataset", bars_folder, "--labels", "all", "30",
                     "--l2", "0.001", "--epochs", "5", "--out", report_file]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == json.load(open(report_file))
    assert (report["train_examples"], report["test_examples"]) == (96, 24)
    assert report["probes"]["30"]["num_labels"] == 30
    assert report["probes"]["all"]["num_labels"] == 96
    x_train, y_train = load_arrays(bars_folder, "train")
    x_test, y_test = load_arrays(bars_folder, "test")
    expected = evaluation.linear_probe(
        keras.saving.load_model(model_file), to_float_images(x_train), y_train,
        to_float_images(x_test), y_test, num_labels=30, epochs=5, l2=0.001)
    assert report["probes"]["30"]["test_error_percent"] == pytest.approx(
        100 * expected["test_error"])
    assert report["feature_dim"] == expected["feature_dim"]
    # Images of another size than the model's are one usage error, for probe as for evaluate.
    small = tmp_path / "small"
    small.mkdir()
    for prefix in ("train", "t10k"):
        write_idx(str(small / f"{prefix}-images-idx3-ubyte"), np.zeros((6, 8, 8), np.uint8))
        write_idx(str(small / f"{prefix}-labels-idx1-ubyte"), np.arange(6, dtype=np.uint8) % 3)
    for command in ("probe", "evaluate"):
        assert cli.main([command, model_file, "--dataset", str(small)]) == 2
        assert ("the data's images have shape (8, 8, 1) but the model expects (16, 16, 1)"
                in capsys.readouterr().err)


@pytest.mark.parametrize("argv, message", [
    (["probe", "m.keras", "--labels", "0"], "a label budget must be 'all' or an int >= 1"),
    (["probe", "m.keras", "--l2", "-1"], "expected 'auto' or a finite number >= 0"),
    (["probe", "m.keras", "--folds", "0"], "expected an int >= 1"),
    (["probe", "m.keras", "--pool", "big"], "expected 'auto', 'none' or an int >= 1"),
    (["probe", "/no/such/model.keras"], "model file not found"),
    (["train", "no_such_model"], "unknown model 'no_such_model'"),
    (["train", "conv_autoencoder", "--dataset", "/no/such/folder"], "Data folder not found: /no/such/folder"),
    (["train", "conv_autoencoder", "--epochs", "zero"], "invalid int value"),
    (["train", "conv_autoencoder", "--epochs", "0"], "--epochs and --batch-size must be positive"),
    (["train", "conv_autoencoder", "--set", "filters"], "--set expects KEY=VALUE"),
    (["train", "conv_autoencoder", "--validation-size", "-1"], "--validation-size must be >= 0"),
    (["train", "conv_autoencoder", "--unsupervised-epochs", "1"],
     "--unsupervised-epochs applies to drsae only, not conv_autoencoder"),
    (["train", "drsae", "--epochs", "3", "--unsupervised-epochs", "4"],
     "unsupervised_epochs must be an int between 0 and epochs (3), got 4"),
    (["train", "fc_wta", "--fine-tune-epochs", "2"],
     "--fine-tune-epochs applies to stacked_autoencoder, stacked_conv_wta only, not fc_wta"),
    (["train", "stacked_conv_wta", "--fine-tune-epochs", "-1"],
     "fine_tune_epochs must be a non-negative int, got -1"),
    (["train", "conv_autoencoder", "--set", "codesize=30"],
     "--set: ConvAutoencoder has no config field 'codesize'; its fields are: activation, "
     "code_size,"),
    (["train", "conv_autoencoder", "--out", "/proc/no_such_folder"], "--out /proc/no_such_folder: "
     "cannot write there"),
    (["train", "conv_autoencoder", "--labels", "10"],
     "--labels needs a classifier that ignores unlabelled examples; conv_autoencoder has none "
     "(models that have one: drsae, swwae, swwae_soft, swwae_what_only)"),
    (["train", "conv_autoencoder", "--lr-schedule", "linear"], "invalid choice: 'linear'"),
    (["train", "conv_autoencoder", "--shift", "-1"], "--shift must be >= 0, got -1"),
    (["evaluate", "/no/such/model.keras"], "model file not found"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_arguments_one_line(argv, message, capsys):
    code = cli.main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0
    assert len(err) == 1 and err[0].startswith("keras-ae: error:") and message in err[0], err


def test_validation_size_must_leave_a_batch(bars_folder, capsys):
    assert cli.main(["train", "conv_autoencoder", "--dataset", bars_folder, "--batch-size", "16",
                     "--validation-size", "90"]) == 2
    assert ("--validation-size must leave at least --batch-size (16) of the 96 training images, "
            "got 90") in capsys.readouterr().err


def test_labels_must_fit_the_training_set(bars_folder, capsys):
    assert cli.main(["train", "swwae", "--dataset", bars_folder, "--batch-size", "16",
                     "--labels", "500"]) == 2
    assert "--labels must be between 0 and the 96 training images, got 500" in capsys.readouterr().err


def test_corrupt_data_folder_one_line(bars_folder, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(bars_folder, bad)
    (bad / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b garbage")
    code = cli.main(["train", "conv_autoencoder", "--dataset", str(bad), "--epochs", "1"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1 and "t10k-images-idx3-ubyte.gz" in err[0], err


def test_console_entry_point_lists_models():
    out = subprocess.run([sys.executable, "-m", "keras_ae.cli", "list"], capture_output=True,
                         text=True, check=True).stdout
    assert "conv_autoencoder" in out and "dense_autoencoder" in out


def test_train_label_model_reports_accuracy(bars_folder, tmp_path):
    """A classifier-headed model (SWWAE) trains on labels from the CLI and reports accuracy,
    with the number of classes taken from the data (3 here)."""
    out = str(tmp_path / "swwae")
    assert cli.main(["train", "swwae", "--dataset", bars_folder, "--epochs", "1", "--batch-size", "16",
                     "--out", out, "--set", "filters=[4,8]", "--set", "head_units=[8]", "--no-export"]) == 0
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert metrics["config"]["num_classes"] == 3
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0
    assert metrics["test"]["error_percent"] == pytest.approx(100 * (1 - metrics["test"]["accuracy"]))


def _classifier_kernel(path):
    import keras

    model = keras.saving.load_model(path)
    return keras.ops.convert_to_numpy(model.get_layer("classifier").kernel)


def test_train_drsae_in_two_phases(bars_folder, tmp_path):
    """`train drsae` follows the paper's two phases: in the unsupervised epochs the cross-entropy
    has weight 0, so the classifier C gets no gradient and keeps its initial weights (those of
    the same config built under the same seed); once the discriminative phase runs, C moves."""
    import keras

    from keras_ae.models import DrSAE

    base = ["train", "drsae", "--dataset", bars_folder, "--batch-size", "16", "--no-export",
            "--set", "units=12", "--set", "steps=3"]
    unsup = str(tmp_path / "unsup")
    assert cli.main(base + ["--epochs", "2", "--unsupervised-epochs", "2", "--out", unsup]) == 0
    keras.utils.set_random_seed(0)  # the CLI's default --seed, before it builds the model
    initial = keras.ops.convert_to_numpy(DrSAE(input_shape=(16, 16, 1), units=12, steps=3,
                                               num_classes=3).get_layer("classifier").kernel)
    # Unchanged but for MaxNorm's rescaling w·n / (n + 1e-7) of each column after every step.
    np.testing.assert_allclose(_classifier_kernel(os.path.join(unsup, "model.keras")), initial,
                               rtol=1e-5, atol=1e-6)

    # Semi-supervised with no label kept: the discriminative epochs see only unlabelled
    # examples, so the classifier stays as it was built, as in the unsupervised phase.
    none = str(tmp_path / "none")
    assert cli.main(base + ["--epochs", "2", "--unsupervised-epochs", "1", "--labels", "0",
                            "--out", none]) == 0
    np.testing.assert_allclose(_classifier_kernel(os.path.join(none, "model.keras")), initial,
                               rtol=1e-5, atol=1e-6)
    assert json.load(open(os.path.join(none, "metrics.json")))["labels_kept"] == 0

    both = str(tmp_path / "both")
    assert cli.main(base + ["--epochs", "3", "--out", both]) == 0  # default: 1 + 2 epochs
    assert np.abs(_classifier_kernel(os.path.join(both, "model.keras")) - initial).max() > 1e-3
    metrics = json.load(open(os.path.join(both, "metrics.json")))
    assert metrics["procedure"]["kind"] == "two_phase"
    assert (metrics["procedure"]["unsupervised_epochs"], metrics["procedure"]["discriminative_epochs"]) == (1, 2)
    assert len(json.load(open(os.path.join(both, "history.json")))["loss"]) == 3
    assert 0.0 <= metrics["test"]["accuracy"] <= 1.0


@pytest.mark.parametrize("model, overrides", [
    ("stacked_conv_wta", ["--set", "filters=[4,6]", "--set", "decoder_kernel_size=3"]),
    ("stacked_autoencoder", ["--set", "units=[32,8]"]),
])
def test_train_stacked_models_greedily(model, overrides, bars_folder, tmp_path):
    """The stacked models train stage by stage (--epochs each), then end to end for
    --fine-tune-epochs: history.json has one entry per stage and one for fine-tuning (what each
    greedy step trains is tested on the library functions themselves)."""
    import keras

    out = str(tmp_path / model)
    assert cli.main(["train", model, "--dataset", bars_folder, "--batch-size", "16",
                     "--epochs", "2", "--fine-tune-epochs", "1", "--out", out, "--no-export",
                     *overrides]) == 0
    history = json.load(open(os.path.join(out, "history.json")))
    assert sorted(history) == ["fine_tune", "stage0", "stage1"]
    assert [len(history[k]["loss"]) for k in ("stage0", "stage1", "fine_tune")] == [2, 2, 1]
    assert all(np.isfinite(v) for seg in history.values() for v in seg["loss"])
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    tuned = ("1 end-to-end epoch(s) of the decoders (encoder frozen)"
             if model == "stacked_conv_wta" else "1 end-to-end epoch(s)")
    assert metrics["procedure"] == {
        "kind": "greedy", "epochs_per_stage": 2, "fine_tune_epochs": 1,
        "description": f"greedily, 2 epoch(s) per stage, then {tuned}"}
    assert 0 <= metrics["test"]["reconstruction_mse"] < 1
    keras.saving.load_model(os.path.join(out, "model.keras"))


@pytest.mark.parametrize("model, overrides", [
    ("stacked_conv_wta", ["--set", "filters=[4,6]", "--set", "decoder_kernel_size=3"]),
    ("stacked_autoencoder", ["--set", "units=[32,8]"]),
])
def test_train_stacked_models_resume_stage_by_stage(model, overrides, bars_folder, tmp_path,
                                                    capsys):
    """With --checkpoint-dir each stage checkpoints in a folder of its own; a run with
    --fine-tune-epochs 0 (greedy stages only), rerun with --fine-tune-epochs 1, loads the
    finished stages, does not train them again, and only fine-tunes. (That the resumed weights
    equal an uninterrupted run's is tested on the library functions.)"""
    out, ckpt = str(tmp_path / "run"), tmp_path / "ckpt"
    base = ["train", model, "--dataset", bars_folder, "--batch-size", "16", "--epochs", "2",
            "--out", out, "--no-export", "--checkpoint-dir", str(ckpt), *overrides]
    assert cli.main(base + ["--fine-tune-epochs", "0"]) == 0
    assert sorted(os.listdir(ckpt)) == ["stage0", "stage1"]
    first = json.load(open(os.path.join(out, "history.json")))
    capsys.readouterr()
    assert cli.main(base + ["--fine-tune-epochs", "1"]) == 0
    printed = capsys.readouterr().out
    assert "Epoch 1/2" not in printed and "Epoch 2/2" not in printed  # no stage trained again
    history = json.load(open(os.path.join(out, "history.json")))
    assert {k: history[k] for k in ("stage0", "stage1")} == first
    assert len(history["fine_tune"]["loss"]) == 1
    assert sorted(os.listdir(ckpt)) == ["fine_tune", "stage0", "stage1"]


@pytest.mark.parametrize("name, config, expected", [
    ("conv_autoencoder", dict(filters=[4, 8]), {"reconstructions", "filters", "codes"}),
    ("fc_wta", dict(hidden_units=16), {"reconstructions", "filters", "codes"}),
    ("drsae", dict(units=12, steps=3, num_classes=3), {"filters", "codes", "activity"}),
])
def test_plot_draws_each_picture_the_model_has(name, config, expected, bars_folder, tmp_path,
                                               capsys):
    """`plot` writes the pictures a model has (DrSAE adds its unit analysis) and says why it
    skips any: an untrained DrSAE may have no categorical units to draw."""
    from keras_ae import models

    model_file = str(tmp_path / "m.keras")
    models.build(name, input_shape=[16, 16, 1], **config).save(model_file)
    out = tmp_path / "plots"
    assert cli.main(["plot", model_file, "--dataset", bars_folder, "--examples", "20",
                     "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert expected <= set(report["files"])
    if name == "drsae":
        assert {"prototypes", "part_units"} <= set(report["files"]) | set(report["skipped"])
    else:
        assert report["skipped"] == {}
    assert sorted(os.listdir(out)) == sorted(f"{key}.png" for key in report["files"])
    for path in report["files"].values():
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_plot_refuses_what_it_cannot_draw(bars_folder, tmp_path, capsys):
    import keras

    plain = str(tmp_path / "plain.keras")
    inputs = keras.Input((16, 16, 1))
    keras.Model(inputs, keras.layers.Flatten()(inputs)).save(plain)
    assert cli.main(["plot", plain, "--dataset", bars_folder]) == 2
    assert "holds a Functional, not a keras-ae model" in capsys.readouterr().err
    from keras_ae import models

    model_file = str(tmp_path / "m.keras")
    models.build("conv_autoencoder", input_shape=[16, 16, 1], filters=[4]).save(model_file)
    assert cli.main(["plot", model_file, "--dataset", bars_folder, "--examples", "0"]) == 2
    assert "--examples must be >= 1, got 0" in capsys.readouterr().err


def test_plot_codes_draws_the_code_map_alone(bars_folder, tmp_path, capsys):
    """`plot codes` writes only codes.png, for a zoo model or any encoder saved alone."""
    import keras

    from keras_ae import models

    model = models.build("dense_autoencoder", input_shape=[16, 16, 1], hidden_units=[8],
                         code_size=2)
    for name, saved in (("zoo", model), ("encoder", model.encoder)):
        model_file = str(tmp_path / f"{name}.keras")
        saved.save(model_file)
        out = tmp_path / f"plots_{name}"
        assert cli.main(["plot", "codes", model_file, "--dataset", bars_folder, "--out",
                         str(out)]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report == {"files": {"codes": str(out / "codes.png")}, "skipped": {}}
        assert os.listdir(out) == ["codes.png"]
        assert open(out / "codes.png", "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    keras.backend.clear_session()


def test_plot_deconvnet_draws_each_unit(bars_folder, tmp_path, capsys):
    from keras_ae import models

    model_file = str(tmp_path / "swwae.keras")
    models.build("swwae", input_shape=[16, 16, 1], filters=[3, 4], head_units=[],
                 num_classes=3).save(model_file)
    out = tmp_path / "plots"
    assert cli.main(["plot", "deconvnet", model_file, "--layer", "pool_1", "--units", "0", "3",
                     "--top", "4", "--dataset", bars_folder, "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert sorted(report["files"]) == ["deconvnet_pool_1_unit0", "deconvnet_pool_1_unit3"]
    assert sorted(os.listdir(out)) == ["deconvnet_pool_1_unit0.png", "deconvnet_pool_1_unit3.png"]
    for path in report["files"].values():
        assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    base = ["plot", "deconvnet", model_file, "--dataset", bars_folder, "--out", str(out)]
    assert cli.main(base) == 2
    assert "plot deconvnet needs --layer" in capsys.readouterr().err
    assert cli.main(base + ["--layer", "conv_9"]) == 1
    assert "layer_name 'conv_9' is not a layer of 'encoder'" in capsys.readouterr().err
    assert cli.main(base + ["--layer", "conv_1", "--units", "4"]) == 1
    assert "an int in [0, 4), got 4" in capsys.readouterr().err
    assert cli.main(["plot", model_file, "--layer", "conv_1", "--dataset", bars_folder]) == 2
    assert "--layer apply to `plot deconvnet` only" in capsys.readouterr().err
    assert cli.main(["plot", "filters", model_file]) == 2
    assert "invalid choice: 'filters'" in capsys.readouterr().err


def test_train_resumes_from_its_checkpoint(bars_folder, tmp_path, capsys):
    """Rerun with more --epochs and the same --checkpoint-dir, `train` continues after the saved
    epochs: only the new epochs run, the history keeps the old ones, and the optimizer has taken
    every epoch's steps (96 images in batches of 16: 6 a epoch)."""
    import keras

    out, ckpt = tmp_path / "run", tmp_path / "ckpt"
    base = ["train", "drsae", "--dataset", bars_folder, "--batch-size", "16", "--no-export",
            "--set", "units=12", "--set", "steps=3", "--unsupervised-epochs", "1",
            "--checkpoint-dir", str(ckpt), "--out", str(out)]
    assert cli.main(base + ["--epochs", "2"]) == 0
    first = json.load(open(out / "history.json"))
    capsys.readouterr()
    assert cli.main(base + ["--epochs", "3"]) == 0
    printed = capsys.readouterr().out
    assert "Resuming from the checkpoint" in printed and "2 of 3 epoch(s) done" in printed
    assert "Epoch 3/3" in printed and "Epoch 1/3" not in printed
    history = json.load(open(out / "history.json"))
    assert history["loss"][:2] == first["loss"] and len(history["loss"]) == 3
    model = keras.saving.load_model(str(out / "model.keras"))
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 3 * 6

    assert cli.main(base[:-4] + ["--set", "units=13", "--checkpoint-dir", str(ckpt),
                                 "--out", str(tmp_path / "other"), "--epochs", "3"]) == 1
    assert "is of a model with another configuration" in capsys.readouterr().err


@pytest.mark.parametrize("schedule, final_rate", [("constant", 0.005), ("cosine", 0.0)])
def test_train_learning_rate_schedule(schedule, final_rate, bars_folder, tmp_path):
    """A cosine rate reaches zero exactly at the run's last step (Keras's CosineDecay over
    epochs × 6 whole batches of 16 of the 96 images); a constant one stays where it started."""
    import keras

    out = str(tmp_path / schedule)
    assert cli.main(["train", "conv_autoencoder", "--dataset", bars_folder, "--batch-size", "16",
                     "--epochs", "2", "--learning-rate", "0.005", "--lr-schedule", schedule,
                     "--set", "filters=[4]", "--no-export", "--out", out]) == 0
    optimizer = keras.saving.load_model(os.path.join(out, "model.keras")).optimizer
    assert int(keras.ops.convert_to_numpy(optimizer.iterations)) == 2 * 6
    rate = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    assert rate == pytest.approx(final_rate, abs=1e-9)
    assert json.load(open(os.path.join(out, "metrics.json")))["lr_schedule"] == schedule


def test_probe_every_stage_of_a_stacked_model(bars_folder, tmp_path, capsys):
    """--stages all probes both stages' maps, each max-pooled to a 4x4 grid: 16x16 maps of 4
    channels and 8x8 maps of 6 channels give 16 * (4 + 6) features. A model without stages is
    a usage error."""
    from keras_ae import models

    stacked = str(tmp_path / "stacked.keras")
    models.build("stacked_conv_wta", input_shape=[16, 16, 1], filters=[4, 6],
                 decoder_kernel_size=3).save(stacked)
    assert cli.main(["probe", stacked, "--dataset", bars_folder, "--stages", "all",
                     "--labels", "all", "--l2", "0", "--epochs", "1"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["feature_dim"] == 16 * (4 + 6) and report["stages"] == "all"
    assert cli.main(["probe", stacked, "--dataset", bars_folder, "--labels", "all", "--l2", "0",
                     "--epochs", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["feature_dim"] == 16 * 6   # top stage: 8x8 -> 4x4
    plain = str(tmp_path / "plain.keras")
    models.build("conv_autoencoder", input_shape=[16, 16, 1], filters=[4]).save(plain)
    assert cli.main(["probe", plain, "--dataset", bars_folder, "--stages", "all"]) == 2
    assert ("--stages all: every stage's features need a stacked model with stage_encoder()"
            in capsys.readouterr().err)


def test_train_shift_augments_the_training_pipeline(bars_folder, tmp_path, monkeypatch, capsys):
    """--shift N reaches the training pipeline (make_dataset(shift=N), seeded by --seed) and
    metrics.json; validation images are not moved; a shift too large for the images is a
    one-line error naming it."""
    import keras_ae.data

    calls = []
    real = keras_ae.data.make_dataset

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(keras_ae.data, "make_dataset", spy)
    out = str(tmp_path / "run")
    assert cli.main(["train", "dense_autoencoder", "--dataset", bars_folder, "--epochs", "1",
                     "--batch-size", "16", "--out", out, "--no-export", "--shift", "2",
                     "--seed", "4", "--validation-size", "16"]) == 0
    assert [c.get("shift", 0) for c in calls] == [2, 0]  # training, then validation
    assert calls[0]["seed"] == 4
    assert json.load(open(os.path.join(out, "metrics.json")))["shift"] == 2
    capsys.readouterr()
    assert cli.main(["train", "dense_autoencoder", "--dataset", bars_folder, "--epochs", "1",
                     "--batch-size", "16", "--out", out, "--no-export", "--shift", "8"]) == 1
    assert "shift=8 would move whole 16x16 images out of the frame" in capsys.readouterr().err


def test_probe_shift_fits_moved_copies(bars_folder, tmp_path, capsys):
    """probe --shift 1 --copies 2 is evaluation.linear_probe(shift=1, copies=2) on the saved
    model (its moved copies drawn from --seed), and the report says so; --copies without
    --shift, a bad count, and a shift too large for the images are one-line usage errors,
    raised before anything is encoded."""
    import keras

    from keras_ae import evaluation, models
    from keras_ae.data import load_arrays, to_float_images

    model_file = str(tmp_path / "dense.keras")
    models.build("dense_autoencoder", input_shape=[16, 16, 1], hidden_units=[8],
                 code_size=4).save(model_file)
    assert cli.main(["probe", model_file, "--dataset", bars_folder, "--labels", "30",
                     "--l2", "0.001", "--epochs", "2", "--shift", "1", "--copies", "2"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["shift"], report["copies"]) == (1, 2)
    x_train, y_train = load_arrays(bars_folder, "train")
    x_test, y_test = load_arrays(bars_folder, "test")
    expected = evaluation.linear_probe(
        keras.saving.load_model(model_file), to_float_images(x_train), y_train,
        to_float_images(x_test), y_test, num_labels=30, epochs=2, l2=0.001, shift=1, copies=2)
    assert expected["augmented_copies"] == 2
    assert report["probes"]["30"]["test_error_percent"] == pytest.approx(
        100 * expected["test_error"])
    assert report["probes"]["30"]["train_error_percent"] == pytest.approx(
        100 * expected["train_error"])
    for extra, code, message in (
            (["--copies", "2"], 2, "--copies is for --shift N >= 1"),
            (["--shift", "1", "--copies", "0"], 2, "copies must be a whole number >= 1"),
            (["--shift", "-1"], 2, "shift must be a whole number of pixels >= 0"),
            (["--shift", "8"], 1, "--shift=8 would move whole 16x16 images out of the frame")):
        assert cli.main(["probe", model_file, "--dataset", bars_folder] + extra) == code
        assert message in capsys.readouterr().err


def test_label_and_folds_arguments_for_argparse():
    assert [cli.label_argument(t) for t in ("all", "100", " 7")] == ["all", "100", "7"]
    assert cli.folds_argument("5") == 5 and cli.folds_argument("1") == 1
    for bad in ("0", "x", "-1"):
        with pytest.raises(argparse.ArgumentTypeError, match="label budget"):
            cli.label_argument(bad)
        with pytest.raises(argparse.ArgumentTypeError, match="int >= 1"):
            cli.folds_argument(bad)
        with pytest.raises(argparse.ArgumentTypeError, match="'auto', 'none' or an int >= 1"):
            cli.pool_argument(bad)
    assert [cli.pool_argument(t) for t in ("auto", "none", "7")] == ["auto", "none", 7]


@pytest.mark.parametrize("text, expected", [("auto", "auto"), ("0", 0.0), ("1e-4", 1e-4),
                                            ("0.01", 0.01)])
def test_l2_argument_reads_auto_or_a_weight_decay(text, expected):
    assert cli.l2_argument(text) == expected


@pytest.mark.parametrize("text", ["", "automatic", "-1e-3", "nan", "inf", "1e-3,1e-2"])
def test_l2_argument_rejects_anything_else(text):
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="'auto' or a finite number >= 0"):
        cli.l2_argument(text)


def test_train_reads_a_folder_of_class_subfolders(tmp_path, capsys):
    """A folder of PNGs in class sub-folders trains like an IDX folder; mixed sizes are refused
    before any training unless --image-size resizes them."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    root = tmp_path / "pngs"
    for split, n in (("train", 12), ("test", 4)):
        for name in ("circle", "square"):
            os.makedirs(root / split / name)
            for i in range(n):
                size = (10, 10) if i else (12, 9)  # one odd size per class
                image = rng.integers(0, 256, size=(*size, 1), dtype=np.uint8)
                tf.io.write_file(str(root / split / name / f"{i}.png"), tf.io.encode_png(image))
    argv = ["train", "dense_autoencoder", "--dataset", str(root), "--epochs", "1",
            "--batch-size", "4", "--set", "hidden_units=[8]", "--set", "code_size=2",
            "--no-export", "--out", str(tmp_path / "run")]
    assert cli.main(argv) == 1
    assert "2 different sizes (10x10, 12x9)" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "run" / "model.keras")
    assert cli.main(argv + ["--image-size", "10x10"]) == 0
    metrics = json.load(open(tmp_path / "run" / "metrics.json"))
    assert metrics["config"]["input_shape"] == [10, 10, 1] and metrics["test"]["examples"] == 8
    assert cli.main(argv + ["--image-size", "ten"]) == 2
    assert "expected HxW" in capsys.readouterr().err


def test_non_finite_images_are_refused_by_the_command_line(tmp_path, capsys, monkeypatch):
    """IDX and image files hold integers; a float source (TFDS) with NaN stops at the boundary,
    before any training."""
    from keras_ae import data

    images = np.zeros((8, 4, 4, 1), np.float32)
    images[3, 1, 1] = np.nan
    monkeypatch.setattr(data, "load_arrays", lambda *a, **k: (images, np.zeros(8, np.int64)))
    assert cli.main(["train", "dense_autoencoder", "--epochs", "1", "--batch-size", "4",
                     "--out", str(tmp_path / "run")]) == 1
    assert "1 NaN or infinite value(s), in 1 image(s) (first at index 3)" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "run" / "model.keras")


def test_long_work_shows_progress(bars_folder, tmp_path, capsys):
    """Greedy stages and the probe's encoding and cross-validation say where they are."""
    out = str(tmp_path / "stack")
    assert cli.main(["train", "stacked_autoencoder", "--dataset", bars_folder, "--epochs", "1",
                     "--batch-size", "16", "--set", "units=[8,4]", "--fine-tune-epochs", "1",
                     "--no-export", "--out", out]) == 0
    printed = capsys.readouterr().out
    assert "Greedy stage 1/2" in printed and "Greedy stage 2/2" in printed
    assert "Fine-tuning end to end: 1 epoch(s)" in printed
    assert cli.main(["probe", os.path.join(out, "model.keras"), "--dataset", bars_folder,
                     "--labels", "all", "--folds", "3", "--epochs", "1"]) == 0
    err = capsys.readouterr().err
    for line in ("encoded 96 training images", "encoded 24 test images",
                 "all labels: weight decay, split 3/3", "all labels: test error"):
        assert line in err, err


def test_export_errors_name_the_path_and_the_reason(tmp_path, capsys):
    from keras_ae import models

    model_file = str(tmp_path / "m.keras")
    models.build("dense_autoencoder", input_shape=[4, 4, 1], hidden_units=[3],
                 code_size=2).save(model_file)
    (tmp_path / "a_file").write_text("")
    cases = [(str(tmp_path / "a_file" / "served"), f"{tmp_path / 'a_file'} is a file, not a folder"),
             ("/proc/no_such/served", "/proc/no_such: cannot write there"),
             (model_file, "already exists; overwrite it (overwrite=True, keras-ae export "
                          "--overwrite) or choose another path")]
    for out, message in cases:
        assert cli.main(["export", model_file, out]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err


def test_train_probe_and_export_a_masked_autoencoder(bars_folder, tmp_path, capsys):
    """keras-ae train / probe / export take MAE like any model: its reconstruction MSE is that of
    the masked patches (visible ones are the input's), the encoder's mean token is probed and
    exported."""
    out = str(tmp_path / "mae")
    small = ["--set", "patch_size=4", "--set", "width=12", "--set", "depth=1",
             "--set", "num_heads=2", "--set", "decoder_width=8", "--set", "decoder_num_heads=2"]
    assert cli.main(["train", "mae", "--dataset", bars_folder, "--epochs", "1",
                     "--batch-size", "16", "--out", out, *small]) == 0
    assert {"reconstructions.png", "encoder_savedmodel", "model.keras"} <= set(os.listdir(out))
    metrics = json.load(open(os.path.join(out, "metrics.json")))
    assert 0 < metrics["test"]["reconstruction_mse"] < 1
    capsys.readouterr()
    model_file = os.path.join(out, "model.keras")
    assert cli.main(["probe", model_file, "--dataset", bars_folder, "--labels", "all", "--l2",
                     "0", "--epochs", "1"]) == 0
    assert json.loads(capsys.readouterr().out)["feature_dim"] == 12  # the encoder's mean token
    import keras

    x = np.random.default_rng(2).random((3, 16, 16, 1)).astype("float32")
    got = call_saved_model(os.path.join(out, "encoder_savedmodel"), x)["code"]
    encoder = keras.saving.load_model(model_file).encoder
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(encoder(x)), atol=1e-5)


def test_export_for_tf_serving(tmp_path, capsys):
    """--serving-dir writes DIR/NAME/<next version>/ and prints the signature; OUT and
    --serving-dir together, or --version without it, are usage errors."""
    from keras_ae import models

    model_file = str(tmp_path / "m.keras")
    models.build("dense_autoencoder", hidden_units=[8], code_size=3).save(model_file)
    serving = tmp_path / "serving"
    os.makedirs(serving / "digits" / "1")
    assert cli.main(["export", model_file, "--serving-dir", str(serving), "--name", "digits"]) == 0
    out = capsys.readouterr().out
    assert str(serving / "digits" / "2") in out
    signature = json.loads(out[out.index("{"):])
    assert signature["outputs"]["code"]["shape"] == [None, 3]
    assert os.path.isfile(serving / "digits" / "2" / "saved_model.pb")
    for argv in (["export", model_file, str(tmp_path / "x"), "--serving-dir", str(serving)],
                 ["export", model_file, str(tmp_path / "x"), "--version", "3"],
                 ["export", model_file]):
        assert cli.main(argv) == 2
        assert "keras-ae: error:" in capsys.readouterr().err
