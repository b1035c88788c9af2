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
