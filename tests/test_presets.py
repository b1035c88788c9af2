"""Presets (keras-hub layout): the shipped ones load on every backend and give the encoder
outputs recorded when they were saved (under TensorFlow); corrupt, foreign or missing files are
clear errors; a preset is written whole or not at all."""

import json
import os
import shutil

import keras
import numpy as np
import pytest

from keras_ae import models
from keras_ae.models import presets

SHIPPED = presets.preset_names()


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_preset_loads_and_matches_its_recorded_outputs(name):
    metadata = presets.read_metadata(name)
    model = models.from_preset(name)
    assert models.registry.get(metadata["registered_name"]) is type(model)
    assert model.count_params() == metadata["parameter_count"]
    # the record was taken under the backend that trained it; this backend must agree
    presets.verify_output_check(model, metadata["output_check"])
    with open(os.path.join(presets.BUILTIN_DIR, name, presets.CARD_FILE)) as f:
        card = f.read()
    assert metadata["files"][presets.WEIGHTS_FILE] in card
    assert metadata["training"]["command"] in card


def test_the_shipped_presets_fit_the_size_budget():
    total = sum(os.path.getsize(os.path.join(root, f))
                for root, _, files in os.walk(presets.BUILTIN_DIR) for f in files)
    assert total < 20 * 2**20


@pytest.fixture
def small_preset(tmp_path):
    model = models.build("conv_autoencoder", input_shape=[28, 28, 1], filters=[4, 8])
    folder = tmp_path / "tiny_conv"
    metadata = models.save_preset(model, folder, description="tiny", metrics={"mse": 0.5},
                                  training={"command": "keras-ae train conv_autoencoder"})
    return model, folder, metadata


def test_round_trip_gives_identical_outputs(small_preset, images):
    model, folder, metadata = small_preset
    assert sorted(os.listdir(folder)) == ["README.md", "config.json", "metadata.json",
                                          "model.weights.h5"]
    loaded = models.from_preset(folder)
    np.testing.assert_array_equal(loaded.predict(images, verbose=0),
                                  model.predict(images, verbose=0))
    assert metadata["parameter_count"] == model.count_params()
    assert metadata["keras_version"] == keras.__version__


def test_output_check_is_the_norm_and_sum_of_the_features(small_preset):
    model, _, metadata = small_preset
    features = model.encoder.predict(presets.check_images(), verbose=0)
    flat = features.reshape(len(features), -1).astype(np.float64)
    np.testing.assert_allclose(metadata["output_check"]["l2_norm"],
                               np.sqrt((flat ** 2).sum(axis=1)), rtol=1e-6)
    np.testing.assert_allclose(metadata["output_check"]["sum"], flat.sum(axis=1), rtol=1e-6,
                               atol=1e-6)


def test_fresh_weights_fail_the_output_check(small_preset):
    _, folder, metadata = small_preset
    fresh = models.from_preset(folder, load_weights=False)
    keras.utils.set_random_seed(123)
    fresh = models.build("conv_autoencoder", input_shape=[28, 28, 1], filters=[4, 8])
    with pytest.raises(ValueError, match="differ from the preset's record"):
        presets.verify_output_check(fresh, metadata["output_check"])


def test_the_weights_file_holds_no_optimizer_state(tmp_path, images):
    model = models.build("conv_autoencoder", input_shape=[28, 28, 1], filters=[4, 8])
    model.compile()
    model.fit(images, images, epochs=1, verbose=0)
    models.save_preset(model, tmp_path / "trained")
    bare = models.build("conv_autoencoder", input_shape=[28, 28, 1], filters=[4, 8])
    models.save_preset(bare, tmp_path / "bare")
    size = os.path.getsize
    assert size(tmp_path / "trained" / "model.weights.h5") == \
        size(tmp_path / "bare" / "model.weights.h5")


def test_corrupt_weights_are_refused(small_preset):
    _, folder, _ = small_preset
    path = folder / "model.weights.h5"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="model.weights.h5 has sha256 .* corrupt or not"):
        models.from_preset(folder)


def test_foreign_weights_are_refused(small_preset, tmp_path):
    _, folder, _ = small_preset
    other = models.build("conv_autoencoder", input_shape=[28, 28, 1], filters=[4, 8])
    other.save_weights(str(tmp_path / "other.weights.h5"))
    shutil.copy(tmp_path / "other.weights.h5", folder / "model.weights.h5")
    with pytest.raises(ValueError, match="corrupt or not this preset's"):
        models.from_preset(folder)


def test_an_edited_config_is_refused(small_preset):
    _, folder, _ = small_preset
    config = json.loads((folder / "config.json").read_text())
    config["config"]["filters"] = [8, 8]
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="config.json has sha256"):
        models.from_preset(folder)


def test_missing_files_and_unknown_names_are_clear_errors(small_preset, tmp_path):
    _, folder, _ = small_preset
    os.remove(folder / "model.weights.h5")
    with pytest.raises(ValueError, match="lacks model.weights.h5: not a keras-ae preset"):
        models.from_preset(folder)
    with pytest.raises(ValueError, match="neither a shipped preset"):
        models.from_preset("no_such_preset")
    with pytest.raises(TypeError, match="preset must be a preset name or a folder path"):
        models.from_preset(3)


def test_save_refuses_an_existing_folder_and_unregistered_models(small_preset, tmp_path):
    model, folder, _ = small_preset
    with pytest.raises(FileExistsError, match="overwrite=True"):
        models.save_preset(model, folder)
    plain = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="registered zoo model"):
        models.save_preset(plain, tmp_path / "plain")
    with pytest.raises(TypeError, match="metrics must be a dict"):
        models.save_preset(model, tmp_path / "m", metrics=[1])


def test_a_failed_save_leaves_nothing(small_preset, tmp_path, monkeypatch):
    model, folder, metadata = small_preset
    before = {f: (folder / f).read_bytes() for f in os.listdir(folder)}

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(presets, "output_check", broken)
    with pytest.raises(OSError, match="disk full"):
        models.save_preset(model, tmp_path / "new")
    with pytest.raises(OSError, match="disk full"):
        models.save_preset(model, folder, overwrite=True)
    assert sorted(os.listdir(tmp_path)) == ["tiny_conv"]  # no new folder, no temporary left
    assert {f: (folder / f).read_bytes() for f in os.listdir(folder)} == before


def test_cli_lists_the_shipped_presets(capsys):
    from keras_ae import cli

    assert cli.main(["list", "--presets"]) == 0
    out = capsys.readouterr().out
    for name in SHIPPED:
        assert name in out
    if not SHIPPED:
        assert "no presets" in out
