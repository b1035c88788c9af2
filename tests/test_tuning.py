import json
import pytest

keras_tuner = pytest.importorskip("keras_tuner")

from keras_ae.models import DenseAutoencoder  # noqa: E402
from keras_ae.tuning import RegistryHyperModel  # noqa: E402


def test_random_search_over_registry_model(tmp_path, images):
    hypermodel = RegistryHyperModel(
        "dense_autoencoder",
        space={"code_size": [2, 3], "hidden_units": [[8], [12, 6]], "learning_rate": (1e-3, 1e-2, "log")},
        input_shape=(28, 28, 1))
    tuner = keras_tuner.RandomSearch(hypermodel, objective="val_loss", max_trials=2, seed=0,
                                     directory=str(tmp_path), project_name="t", overwrite=True)
    tuner.search(images, images, validation_data=(images, images), epochs=1, batch_size=4, verbose=0)
    best_hp = tuner.get_best_hyperparameters(1)[0]
    assert best_hp.get("code_size") in (2, 3)
    assert best_hp.get("hidden_units") in ('[8]', '[12, 6]')
    assert 1e-3 <= best_hp.get("learning_rate") <= 1e-2
    (best,) = tuner.get_best_models(1)
    assert isinstance(best, DenseAutoencoder)
    assert best.get_config()["code_size"] == best_hp.get("code_size")
    assert best.get_config()["hidden_units"] == json.loads(best_hp.get("hidden_units"))
    assert len(tuner.oracle.trials) == 2 and all(t.status == "COMPLETED" for t in tuner.oracle.trials.values())


@pytest.mark.parametrize("space, match", [
    ({"code_size": []}, "empty list"),
    ({"code_size": (8, 2)}, "below high"),
    ({"code_size": (2, 8, "cubic")}, "sampling"),
])
def test_bad_spaces(space, match):
    import keras_tuner as kt

    with pytest.raises(ValueError, match=match):
        RegistryHyperModel("dense_autoencoder", space=space).build(kt.HyperParameters())


def test_searched_and_fixed_clash():
    with pytest.raises(ValueError, match="both searched and fixed"):
        RegistryHyperModel("dense_autoencoder", space={"code_size": [2]}, code_size=3)


def test_unknown_model():
    with pytest.raises(ValueError, match="Unknown model"):
        RegistryHyperModel("nope")


# ---------------------------------------------------------------- default spaces, every model

import keras  # noqa: E402

from keras_ae import catalog, tuning  # noqa: E402
from keras_ae.models import config_fields, get  # noqa: E402


def test_every_model_has_a_space_of_its_config_fields():
    assert sorted(tuning.SPACES) == catalog.names()
    for name, space in tuning.SPACES.items():
        fields = config_fields(get(name)) | {tuning.LEARNING_RATE}
        assert space and set(space) <= fields, (name, set(space) - fields)
        for field, spec in space.items():
            kind = spec[0]
            assert kind in ("choice", "float", "int"), (name, field, spec)
            if kind == "choice":
                assert spec[1] and len(spec) == 2
            else:
                assert spec[1] < spec[2] and len(spec) == (4 if kind == "float" else 3)
    mae = tuning.SPACES["mae"]
    assert all(w % h == 0 and w % 4 == 0 for w in mae["width"][1] for h in mae["num_heads"][1])


def _corner(spec):
    """The other end of a spec from keras-tuner's default: the last choice, the high end."""
    return spec[1][-1] if spec[0] == "choice" else spec[2]


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the spaces are backend-independent data; building 26 models costs "
                           "about a minute under JAX, 2 s under torch")
def test_hypermodel_builds_every_model():
    """Every model builds (at 8 x 8) from its space's default values and from its other end
    (last choices, high ends): one test, as a test per model costs more in teardown than in
    building."""
    for name in catalog.names():
        hp = keras_tuner.HyperParameters()
        model = tuning.hypermodel(name, input_shape=(8, 8, 1)).build(hp)
        assert isinstance(model, get(name))
        assert set(hp.values) == set(tuning.SPACES[name])
        corner = {f: _corner(s) for f, s in tuning.SPACES[name].items() if f != "learning_rate"}
        model = tuning.hypermodel(name, input_shape=(8, 8, 1), **corner).build(
            keras_tuner.HyperParameters())
        config = model.get_config()
        assert all(config[f] == v for f, v in corner.items()), name


def test_hypermodel_overrides():
    hm = tuning.hypermodel("mae", space={"depth": ("choice", [1]), "patch_size": [2, 4]},
                           input_shape=(8, 8, 1), width=32, num_heads=2)
    assert "width" not in hm.space and "num_heads" not in hm.space
    hp = keras_tuner.HyperParameters()
    config, rate = hm.values(hp)
    assert config["depth"] == 1 and config["patch_size"] in (2, 4) and config["width"] == 32
    assert 1e-4 <= rate <= 1e-2
    only = tuning.hypermodel("fc_wta", space={"k": ("float", 0.1, 0.2, False)}, defaults=False)
    assert list(only.space) == ["k"]
    with pytest.raises(ValueError, match="no config field"):
        tuning.hypermodel("fc_wta", space={"sparsity": ("float", 0.1, 0.2, True)})
    with pytest.raises(ValueError, match="objective"):
        tuning.hypermodel("fc_wta", objective="accuracy")
    with pytest.raises(ValueError, match="'int' takes 2"):
        tuning.hypermodel("fc_wta", space={"hidden_units": ("int", 2)}).build(
            keras_tuner.HyperParameters())


def test_probe_objective_search(tmp_path):
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    x, y = read_idx_folder(SAMPLE_DIR, "train")
    x = to_float_images(x[:300])
    y = y[:300]
    probe = {"epochs": 1, "min_steps": 20}
    hm = tuning.hypermodel("dense_autoencoder", objective="probe_accuracy", num_labels=50,
                           batch_size=50, probe=probe, space={"code_size": ("choice", [4, 8])},
                           hidden_units=[16])
    tuner = keras_tuner.RandomSearch(hm, objective=hm.objective, max_trials=2, seed=0,
                                     directory=str(tmp_path), project_name="p", overwrite=True)
    tuner.search(x[:200], y[:200], validation_data=(x[200:], y[200:]), epochs=1, verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials)
    best = tuner.oracle.get_best_trials(1)[0]
    score = best.score
    assert 0.0 <= score <= 1.0
    assert score == max(t.score for t in trials)
    assert {"val_loss", "probe_accuracy"} <= set(best.metrics.metrics)
    (model,) = tuner.get_best_models(1)
    again = tuning.probe_accuracy(model, x[:200], y[:200], x[200:], y[200:], num_labels=50,
                                  **probe)
    assert again == pytest.approx(score, abs=0.011)  # the probe's fit: 1 of 100 images at most
    config, _ = hm.values(best.hyperparameters)
    assert model.get_config()["code_size"] == config["code_size"]


@pytest.mark.skipif(keras.backend.backend() != "torch",
                    reason="the command line is tested under one backend (torch)")
def test_cli_tune_writes_what_train_config_reads(tmp_path, capsys):
    from keras_ae.cli import main

    tuned = tmp_path / "tune"
    data = ["--limit", "200", "--batch-size", "50"]
    assert main(["tune", "dense_autoencoder", "--trials", "2", "--epochs", "1",
                 "--objective", "val_loss", "--set", "hidden_units=[8]", "--out", str(tuned),
                 *data]) == 0
    out = capsys.readouterr().out
    assert "Trial 2 Complete" in out and "Best val_loss" in out  # the tuner's own progress
    best = json.loads((tuned / "best_config.json").read_text())
    assert best["model"] == "dense_autoencoder" and len(best["trials"]) == 2
    assert best["config"]["hidden_units"] == [8] and best["config"]["code_size"] in (16, 32, 64)
    assert best["score"] == min(t["score"] for t in best["trials"])
    assert 1e-4 <= best["learning_rate"] <= 1e-2

    run = tmp_path / "run"
    assert main(["train", "dense_autoencoder", "--config", str(tuned / "best_config.json"),
                 "--set", "code_size=5", "--epochs", "1", "--no-export", "--out", str(run),
                 *data]) == 0
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["config"]["hidden_units"] == [8] and metrics["config"]["code_size"] == 5
    assert metrics["learning_rate"] == best["learning_rate"]

    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"config": {"sparsity": 0.1}}))
    assert main(["train", "dense_autoencoder", "--config", str(bad), "--out",
                 str(tmp_path / "x")]) == 2
    assert "no config field 'sparsity'" in capsys.readouterr().err
    assert main(["train", "fc_wta", "--config", str(tuned / "best_config.json"), "--out",
                 str(tmp_path / "x")]) == 2
    assert "configuration of dense_autoencoder, not fc_wta" in capsys.readouterr().err
