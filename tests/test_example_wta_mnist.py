"""The argument checks and the autoencoder training setup of ``examples/wta_mnist.py`` (the script
behind the WTA results)."""

import json
import os

import keras
import numpy as np
import pytest

from keras_ae.testing import load_script

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "wta_mnist.py")


@pytest.fixture(scope="module")
def script():
    return load_script(_PATH, "wta_mnist_example")


@pytest.mark.parametrize("argv, epochs, text", [
    (["--model", "fc_wta", "--epochs", "40"], 40, "40"),
    (["--model", "stacked_conv_wta", "--epochs", "3"], 3, "3 per stage"),
    (["--model", "stacked_conv_wta", "--epochs", "2", "10", "--lr-schedule", "cosine"],
     [2, 10], "2+10"),
])
def test_epochs_one_value_or_one_per_stage(script, argv, epochs, text):
    args = script.parse_args(argv)
    assert args.epochs == epochs and script.epochs_text(args) == text


def test_stage0_from_is_named_in_the_protocol(script, tmp_path):
    saved = tmp_path / "conv.keras"
    saved.write_bytes(b"")
    args = script.parse_args(["--model", "stacked_conv_wta", "--epochs", "0", "4",
                              "--stage0-from", str(saved)])
    assert script.epochs_text(args) == "(stage 0 from conv.keras) 0+4"


@pytest.mark.parametrize("argv, text", [
    ([], "Adam"),
    (["--optimizer", "sgd", "--momentum", "0.9"], "SGD, momentum 0.9"),
])
def test_optimizer_is_named_in_the_protocol(script, argv, text):
    args = script.parse_args(argv)
    assert script.describe_optimizer(args.optimizer, args.momentum) == text


@pytest.mark.parametrize("argv, message", [
    (["--model", "fc_wta", "--epochs", "4", "5"], "one value for fc_wta"),
    (["--model", "stacked_conv_wta", "--epochs", "1", "2", "3"], "one per stage"),
    (["--model", "stacked_conv_wta", "--epochs", "-1"], "non-negative"),
    (["--load-model", "x.keras", "--lr-schedule", "cosine"], "trains a new model"),
    (["--model", "conv_wta", "--stage0-from", "x.keras"], "starts a new stacked_conv_wta"),
    (["--model", "stacked_conv_wta", "--stage0-from", "no/such.keras"], "no such file"),
    (["--model", "stacked_conv_wta", "--optimizer", "sgd"], "its own Adam"),
    (["--optimizer", "sgd", "--momentum", "1"], "[0, 1)"),
    (["--momentum", "0.9"], "momentum is SGD's"),
    (["--load-model", "x.keras", "--optimizer", "sgd"], "resumes with its saved optimizer"),
    (["--model", "stacked_conv_wta", "--decoder-kernel-size", "11", "7", "5"], "one per stage"),
    (["--model", "conv_wta", "--filters", "128", "--decoder-kernel-size", "11", "7"],
     "one value for conv_wta"),
    (["--model", "fc_wta", "--decoder-kernel-size", "7"], "for the conv models"),
    (["--model", "conv_wta", "--load-model", "x.keras", "--decoder-kernel-size", "7"],
     "builds a new model"),
    (["--model", "conv_wta", "--decoder-kernel-size", "0"], "must be positive"),
    (["--model", "conv_wta", "--probe-stages", "all"], "is for stacked_conv_wta"),
    (["--zca-epsilon", "0"], "--zca-epsilon must be positive"),
    (["--load-model", "x.keras", "--zca-epsilon", "0.1"], "whitens as its training run did"),
    (["--shift", "-1"], "--shift must be >= 0"),
    (["--model", "stacked_conv_wta", "--shift", "2"], "is for fc_wta / conv_wta"),
    (["--shift", "2", "--zca-epsilon", "0.1"], "whitened first"),
    (["--load-model", "x.keras", "--shift", "2"], "give it with --resume-epochs"),
    (["--probe-shift", "-1"], "--probe-shift must be >= 0"),
    (["--probe-shift", "2"], "needs --probe-copies"),
    (["--probe-copies", "2"], "is for --probe-shift"),
    (["--probe-shift", "2", "--probe-copies", "0"], "--probe-copies must be >= 1"),
])
def test_bad_arguments_are_usage_errors(script, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        script.parse_args(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize("argv, kernels, note", [
    (["--model", "stacked_conv_wta", "--filters", "4", "6"], [11, 11], ""),
    (["--model", "stacked_conv_wta", "--filters", "4", "6", "--decoder-kernel-size", "11", "7"],
     [11, 7], "decoder kernels 11+7 (the paper's: 11x11), "),
    (["--model", "stacked_conv_wta", "--filters", "4", "6", "--decoder-kernel-size", "9"],
     [9, 9], "decoder kernels 9 (the paper's: 11x11), "),
    (["--model", "conv_wta", "--filters", "8", "--decoder-kernel-size", "5"], [5],
     "decoder kernels 5 (the paper's: 11x11), "),
])
def test_decoder_kernel_sizes_build_and_are_named(script, argv, kernels, note):
    args = script.parse_args(argv)
    model = script.build(args)
    layers = [l for l in model.decoder.layers if isinstance(l, keras.layers.Conv2DTranspose)]
    assert sorted(l.kernel.shape[0] for l in layers) == sorted(kernels)
    assert script.decoder_note(args) == note


def test_sgd_trains_the_autoencoder(script):
    args = script.parse_args(["--model", "fc_wta", "--epochs", "1", "--batch-size", "10",
                              "--hidden-units", "8", "--optimizer", "sgd", "--momentum", "0.5",
                              "--learning-rate", "0.1"])
    model = script.build(args)
    images = np.random.default_rng(0).random((20, 28, 28, 1)).astype("float32")
    losses, _ = script.train(model, args, images, seed=0)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.momentum == 0.5 and np.isfinite(losses["final_mse"])
    assert int(model.optimizer.iterations) == 2  # 20 images, batches of 10, one epoch


@pytest.mark.parametrize("argv, stages", [
    (["--model", "fc_wta", "--hidden-units", "8", "--epochs", "2"], ["fit"]),
    (["--model", "stacked_conv_wta", "--filters", "3", "5", "--epochs", "1", "2"],
     ["stage0", "stage1"]),
])
def test_training_checkpoints_and_resumes(script, tmp_path, argv, stages):
    """train(..., checkpoint_dir) checkpoints every epoch (one folder per stage) and a second
    call with the same folder trains nothing more; checkpoint_progress reads what it holds."""
    folder = str(tmp_path / "seed0")
    args = script.parse_args(argv + ["--batch-size", "10"])
    images = np.random.default_rng(0).random((20, 28, 28, 1)).astype("float32")
    assert script.checkpoint_progress(folder) == {}
    trained = script.build(args)
    first, _ = script.train(trained, args, images, seed=0, checkpoint_dir=folder)
    done = {"fit": 2} if stages == ["fit"] else {"stage0": 1, "stage1": 2}
    assert script.checkpoint_progress(folder) == done
    keras.utils.set_random_seed(1)  # other initial weights
    model = script.build(args)
    again, _ = script.train(model, args, images, seed=0, checkpoint_dir=folder)
    assert again == first
    for a, b in zip(trained.get_weights(), model.get_weights()):  # loaded, not trained on
        np.testing.assert_array_equal(a, b)
    assert script.parse_args(argv + ["--checkpoint-dir", "d"]).checkpoint_dir == "d"


def test_shift_trains_on_a_shifting_pipeline_and_the_protocol_says_so(script, monkeypatch):
    """--shift N: the autoencoder's images come through make_dataset(shift=N) seeded by the
    run's seed, and are moved: the model sees (and reconstructs) translated copies of them."""
    calls = []
    real = script.make_dataset

    def spy(*a, **kw):
        calls.append(kw)
        return real(*a, **kw)

    monkeypatch.setattr(script, "make_dataset", spy)
    args = script.parse_args(["--model", "fc_wta", "--hidden-units", "8", "--epochs", "1",
                              "--batch-size", "10", "--shift", "2"])
    model = script.build(args)
    images = np.zeros((20, 28, 28, 1), "float32")
    images[:, 10:18, 10:18] = 1.0  # a square well inside: a shift keeps all of its 64 pixels
    script.train(model, args, images, seed=3)
    assert calls == [{"batch_size": 10, "seed": 3, "target": "image", "shift": 2}]
    batches = [x for x, y in real(images, np.zeros(20), batch_size=10, seed=3, target="image",
                                  shift=2)]
    moved = np.concatenate([np.asarray(x) for x in batches])
    assert np.all(moved.sum(axis=(1, 2, 3)) == 64)
    rows = np.argmax(moved[..., 0].max(axis=2) > 0, axis=1)  # the square's first row, per image
    assert set(rows) <= set(range(8, 13)) and len(set(rows)) > 1  # moved within +-2, not all alike
    assert script.shift_note(args) == ("autoencoder trained on images moved by up to 2 px at "
                                       "random every epoch (augmentation, not in the paper), ")
    assert script.shift_note(script.parse_args([])) == ""
    assert "shift" in script.TRAINING_ARGS  # a re-probe reads it from the training record


def test_probe_on_every_stage_concatenates_pooled_maps(script):
    # Oracle: NumPy max-pooling (about a 4x4 grid: 7-pixel windows at 28x28, 4-pixel ones at
    # 14x14) of each stage's maps, lowest stage first; the default probes the top stage alone.
    args = script.parse_args(["--model", "stacked_conv_wta", "--filters", "3", "5",
                              "--probe-stages", "all"])
    model = script.build(args)
    images = np.random.default_rng(0).random((6, 28, 28, 1)).astype("float32")
    stage0 = keras.ops.convert_to_numpy(model.encoder.get_layer("stage0_conv")(images))
    stage1 = keras.ops.convert_to_numpy(model.encoder(images))
    pooled0 = stage0.reshape(6, 4, 7, 4, 7, 3).max(axis=(2, 4)).reshape(6, -1)
    padded = np.pad(stage1, ((0, 0), (0, 2), (0, 2), (0, 0)), constant_values=-np.inf)
    pooled1 = padded.reshape(6, 4, 4, 4, 4, 5).max(axis=(2, 4)).reshape(6, -1)
    np.testing.assert_allclose(script.probe_features(model, args, images, "auto"),
                               np.concatenate([pooled0, pooled1], axis=1), rtol=1e-5, atol=1e-6)
    top = script.parse_args(["--model", "stacked_conv_wta", "--filters", "3", "5"])
    np.testing.assert_allclose(script.probe_features(model, top, images, "auto"), pooled1,
                               rtol=1e-5, atol=1e-6)
    assert script.probe_stages_note(top) == ""
    assert script.probe_stages_note(args) == ("probe on every stage's pooled features "
                                              "concatenated (not the top stage's alone), ")


def test_a_reprobe_reads_the_training_run_recorded_beside_the_model(script, tmp_path):
    model = tmp_path / "wta_stacked.keras"
    argv = ["--model", "stacked_conv_wta", "--filters", "128", "512", "--epochs", "0", "4",
            "--load-model", str(model)]
    args = script.parse_args(argv)
    assert script.training_args(args) is args  # no record beside it: the command's own words
    recorded = {"epochs": [0, 4], "stage0_from": "/m/wta_s0.keras", "lr_schedule": "cosine",
                "decoder_kernel_size": [11, 7], "train_limit": None, "probe_folds": 1}
    (tmp_path / "wta_stacked.json").write_text(json.dumps({"args": recorded}))
    trained = script.training_args(args)
    assert (trained.lr_schedule, trained.decoder_kernel_size, trained.stage0_from) == (
        "cosine", [11, 7], "/m/wta_s0.keras")
    assert trained.load_model == str(model) and trained.probe_folds == args.probe_folds
    assert script.epochs_text(trained) == "(stage 0 from wta_s0.keras) 0+4"
    assert script.decoder_note(trained) == "decoder kernels 11+7 (the paper's: 11x11), "
    resumed = script.parse_args(["--model", "conv_wta", "--load-model", str(model),
                                 "--resume-epochs", "2"])
    assert script.training_args(resumed) is resumed  # the resumed training is this run's own


def test_zca_whitening_is_fitted_on_autoencoder_images_and_kept_beside_the_model(script,
                                                                                  tmp_path):
    rng = np.random.default_rng(0)
    x_train = rng.random((50, 4, 4, 1))
    x_train[:20] *= 3.0  # the first 20 (the --train-limit ones) have another covariance
    args = script.parse_args(["--zca-epsilon", "0.05", "--train-limit", "20"])
    zca = script.input_whitening(args, x_train)
    flat = x_train[:20].reshape(20, -1)
    np.testing.assert_allclose(zca.mean, flat.mean(axis=0))  # fitted on those 20 only
    np.testing.assert_allclose(np.linalg.inv(zca.matrix @ zca.matrix) - 0.05 * np.eye(16),
                               np.cov(flat, rowvar=False), atol=1e-8)
    assert script.whitening_note(args) == (
        "inputs ZCA-whitened (epsilon 0.05, fitted on the autoencoder's training images; "
        "not in the paper), ")
    assert script.input_whitening(script.parse_args([]), x_train) is None
    assert script.whitening_note(script.parse_args([])) == ""
    # A loaded model takes the whitening saved beside it, and its epsilon goes into the record.
    zca.save(str(tmp_path / "wta_fc_zca.npz"))
    loaded_args = script.parse_args(["--load-model", str(tmp_path / "wta_fc.keras"),
                                     "--resume-epochs", "1"])
    loaded = script.input_whitening(loaded_args, x_train)
    np.testing.assert_array_equal(loaded.matrix, zca.matrix)
    assert loaded_args.zca_epsilon == 0.05
    unwhitened = script.parse_args(["--load-model", str(tmp_path / "other.keras")])
    assert script.input_whitening(unwhitened, x_train) is None


def test_probe_shift_fits_the_probe_on_moved_copies_and_the_protocol_says_so(script, tmp_path,
                                                                               monkeypatch):
    """--probe-shift N --probe-copies C: the probe gets, beside the training features, the
    features of C copies of the training images, each image moved by at most N px (the model
    encodes the moved images: a linear encoder's features of a moved image are the oracle)."""
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    seen = []
    real = script.evaluation.probe_features

    def spy(train_features, *a, **kw):
        seen.append((np.array(train_features), kw["train_copies"]))
        return real(train_features, *a, **kw)

    monkeypatch.setattr(script.evaluation, "probe_features", spy)
    record = script.main(["--model", "fc_wta", "--hidden-units", "6", "--epochs", "1",
                          "--data-dir", SAMPLE_DIR, "--labels", "100", "--probe-epochs", "1",
                          "--probe-shift", "1", "--probe-copies", "2", "--seeds", "3",
                          "--shift", "1", "--save-model", "--out-dir", str(tmp_path),
                          "--tag", "t"])
    (features, copies), = seen
    assert len(copies) == 2 and all(c.shape == features.shape for c in copies)
    assert not np.allclose(copies[0], features) and not np.allclose(copies[0], copies[1])
    probe = record["runs"][0]["probe"]["100"]
    assert probe["augmented_copies"] == 2 and probe["num_labels"] == 100
    assert "probe_copies_encode_seconds" in record["runs"][0]
    assert ("probe fitted on the labelled images plus 2 copies of each moved by up to 1 px at "
            "random (augmentation, not in the paper; its cross-validation scores unmoved "
            "images, the test set is unmoved), ") in record["protocol_gap"]
    assert record["args"]["probe_shift"] == 1 and record["args"]["probe_copies"] == 2
    assert script.probe_shift_note(script.parse_args([])) == ""
    # each copy's row i is the model's features of training image i moved by some (dy, dx)
    model = keras.saving.load_model(str(tmp_path / "wta_t.keras"))
    images = to_float_images(read_idx_folder(SAMPLE_DIR, "train")[0][:5])
    moves = [np.roll(np.roll(np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0))), dy, axis=1),
                     dx, axis=2)[:, 1:-1, 1:-1] for dy in (-1, 0, 1) for dx in (-1, 0, 1)]
    moved_features = np.stack([script.evaluation.extract_features(model, m) for m in moves])
    for copy in copies:
        for i in range(5):
            assert np.min(np.abs(moved_features[:, i] - copy[i]).max(axis=1)) < 1e-4
    # A re-probe of the saved model records the training run's arguments (its --shift) with
    # its own probe's, and the protocol names both.
    again = script.main(["--model", "fc_wta", "--load-model", str(tmp_path / "wta_t.keras"),
                         "--data-dir", SAMPLE_DIR, "--labels", "100", "--probe-epochs", "1",
                         "--seeds", "3", "--out-dir", str(tmp_path), "--tag", "re"])
    assert again["args"]["shift"] == 1 and again["args"]["hidden_units"] == 6
    assert again["args"]["probe_shift"] == 0 and again["args"]["load_model"].endswith("wta_t.keras")
    assert again["runs"][0]["probe"]["100"]["augmented_copies"] == 0
    assert "autoencoder trained on images moved by up to 1 px" in again["protocol_gap"]
    assert "probe fitted on" not in again["protocol_gap"]
