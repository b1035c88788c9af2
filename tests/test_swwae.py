import os
import tempfile

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.export import export_saved_model
from keras_ae.models import SWWAE, SWWAESoft, SWWAEWhatOnly
from keras_ae.testing import call_saved_model, run_model_test

SMALL = dict(filters=[4, 8], head_units=[16])
LABELS = np.array([3, 1, -1, 7, -1, 0, 2, -1])


def _compile(model, optimizer=None):
    # XLA compiling costs more than it saves on the tests' tiny batches.
    kwargs = {"jit_compile": False} if keras.backend.backend() == "tensorflow" else {}
    model.compile(optimizer=optimizer, **kwargs)
    return model


@pytest.mark.parametrize("name, extra", [
    ("swwae", {}), ("swwae_what_only", {}), ("swwae_soft", {}),
    pytest.param("swwae", {"middle_terms": "pre_pool"}, id="swwae-pre_pool"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_battery(name, extra, images):
    model = _compile(keras_ae.models.build(name, **SMALL, **extra))
    # The encoder's SavedModel export is checked once (it is slow); the variants share its code.
    run_model_test(model, images, fit_y=LABELS, run_export=name == "swwae" and not extra,
                   export_full_model=False)


def test_registry_and_variants():
    assert {"swwae", "swwae_what_only", "swwae_soft"} <= set(keras_ae.models.names())
    what_only = SWWAEWhatOnly(**SMALL)
    assert not any(isinstance(l, keras_ae.layers.Unpool2D) for l in what_only.decoder.layers)
    assert any(isinstance(l, keras.layers.UpSampling2D) for l in what_only.decoder.layers)
    soft = SWWAESoft(beta=50.0, **SMALL)
    assert soft.get_layer("encoder").get_layer("pool_0").beta == 50.0
    assert tuple(soft.encoder.output["where_0"].shape) == (None, 14, 14, 4, 2)


def test_odd_sizes_and_stage_configuration():
    model = SWWAE(input_shape=(13, 11, 2), filters=[3, 5, 6], kernel_sizes=[5, 3, 3],
                  pool_sizes=[2, 3, 2], head_units=[])
    assert tuple(model.encoder.output["what"].shape) == (None, 2, 1, 6)
    x = np.random.default_rng(0).random((2, 13, 11, 2)).astype("float32")
    assert tuple(model.decoder.output["reconstruction"].shape) == (None, 13, 11, 2)
    assert tuple(model(x).shape) == (2, 10)  # runs the decoder and its loss terms too


def test_loss_is_nll_plus_weighted_reconstruction_terms(images):
    """Oracle: the loss evaluate() reports = NumPy NLL over labelled examples
    + lambda_rec * mean squared input error + lambda_m * mean squared error of the middle what."""
    model = _compile(SWWAE(dropout=0.0, lambda_rec=0.7, lambda_m=0.3, **SMALL))
    enc = model.encoder(images, training=False)
    dec = model.decoder({k: enc[k] for k in ("what", "where_0", "where_1")}, training=False)
    probs = keras.ops.convert_to_numpy(enc["probabilities"])
    labelled = LABELS >= 0
    nll = -np.log(probs[labelled, LABELS[labelled]]).mean()
    rec = np.mean((images - keras.ops.convert_to_numpy(dec["reconstruction"])) ** 2)
    mid = np.mean((keras.ops.convert_to_numpy(enc["what_1"])
                   - keras.ops.convert_to_numpy(dec["what_1"])) ** 2)
    got = model.evaluate(images, LABELS, batch_size=len(images), verbose=0)
    np.testing.assert_allclose(got, nll + 0.7 * rec + 0.3 * mid, rtol=1e-4)


def _unpool_oracle(values, pre_pool, p=2):
    """NumPy: each value of ``values`` at the first maximum of its p×p window of ``pre_pool``."""
    out = np.zeros_like(pre_pool)
    n, h, w, c = pre_pool.shape
    for b in range(n):
        for i in range(h // p):
            for j in range(w // p):
                for k in range(c):
                    window = pre_pool[b, i * p:(i + 1) * p, j * p:(j + 1) * p, k]
                    di, dj = np.unravel_index(np.argmax(window), window.shape)
                    out[b, i * p + di, j * p + dj, k] = values[b, i, j, k]
    return out


def test_pre_pool_middle_terms_follow_the_paper(images):
    """Oracle: with middle_terms="pre_pool" the loss is NLL + lambda_rec * input error
    + lambda_m * sum over stages of mean (x_m - unpool(decoder map above))^2, the unpooling done
    in NumPy; at the top stage that is the mean square of x's non-max entries."""
    model = _compile(SWWAE(dropout=0.0, lambda_rec=0.7, lambda_m=0.3, middle_terms="pre_pool",
                           **SMALL))
    assert [l.name for l in model.loss_layers()["middle"]] == ["middle_loss_0", "middle_loss_1"]
    enc = {k: keras.ops.convert_to_numpy(v) for k, v in model.encoder(images).items()}
    dec = {k: keras.ops.convert_to_numpy(v) for k, v in model.decoder(
        {k: enc[k] for k in ("what", "where_0", "where_1")}).items()}
    labelled = LABELS >= 0
    nll = -np.log(enc["probabilities"][labelled, LABELS[labelled]]).mean()
    rec = np.mean((images - dec["reconstruction"]) ** 2)
    x1 = enc["pre_pool_1"]
    top = np.mean((x1 - _unpool_oracle(enc["what"], x1)) ** 2)
    is_max = _unpool_oracle(np.ones_like(enc["what"]), x1) > 0
    np.testing.assert_allclose(top, np.mean(np.where(is_max, 0.0, x1) ** 2), rtol=1e-6)
    x0 = enc["pre_pool_0"]
    low = np.mean((x0 - _unpool_oracle(dec["what_1"], x0)) ** 2)
    got = model.evaluate(images, LABELS, batch_size=len(images), verbose=0)
    np.testing.assert_allclose(got, nll + 0.7 * rec + 0.3 * (top + low), rtol=1e-4)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model))
    assert restored.get_config()["middle_terms"] == "pre_pool"


def _one_sgd_step(images, labels, weights, lambda_rec=0.0, lambda_m=0.0):
    model = SWWAE(dropout=0.0, **SMALL)
    model.set_weights(weights)
    model.set_loss_weights(lambda_rec=lambda_rec, lambda_m=lambda_m)
    _compile(model, keras.optimizers.SGD(0.1))
    model.train_on_batch(images, labels)
    return [keras.ops.convert_to_numpy(w) for w in model.trainable_weights]


def test_unlabelled_examples_give_no_nll_gradient(images):
    initial = SWWAE(dropout=0.0, **SMALL)
    weights = initial.get_weights()
    trainable = [keras.ops.convert_to_numpy(w) for w in initial.trainable_weights]
    unlabelled = LABELS < 0
    # Replacing the unlabelled images changes nothing when only the NLL is on...
    other = images.copy()
    other[unlabelled] = np.random.default_rng(1).random(other[unlabelled].shape)
    for a, b in zip(_one_sgd_step(images, LABELS, weights), _one_sgd_step(other, LABELS, weights)):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # ...an all-unlabelled batch moves no weight...
    none = np.full_like(LABELS, -1)
    for a, b in zip(_one_sgd_step(images, none, weights), trainable):
        np.testing.assert_allclose(a, b, atol=1e-7)
    # ...and with the reconstruction on, the unlabelled images do matter (unsupervised mode).
    changed = [not np.allclose(a, b) for a, b in
               zip(_one_sgd_step(images, none, weights, lambda_rec=1.0), trainable)]
    assert any(changed)


def test_set_loss_weights_switches_modes(images):
    model = SWWAE(**SMALL)
    model(images)
    assert all(float(keras.ops.convert_to_numpy(l)) > 0 for l in model.losses)
    model.set_loss_weights(lambda_rec=0.0, lambda_m=0.0)
    model(images)
    assert all(float(keras.ops.convert_to_numpy(l)) == 0 for l in model.losses)
    with pytest.raises(ValueError, match="weight"):
        model.set_loss_weights(lambda_rec=-1.0)


def test_feature_extractor_exports_what_and_probabilities(images):
    model = SWWAE(**SMALL)
    view = model.feature_extractor()
    want = view(images, training=False)
    np.testing.assert_allclose(model.encode(images), keras.ops.convert_to_numpy(want["what"]),
                               atol=1e-6)
    if keras.backend.backend() == "torch":
        pytest.skip("torch exports through a TensorFlow subprocess, covered by test_battery")
    with tempfile.TemporaryDirectory() as tmp:
        got = call_saved_model(export_saved_model(view, os.path.join(tmp, "features")), images)
    assert sorted(got) == ["probabilities", "what"]
    for key in got:
        np.testing.assert_allclose(got[key], keras.ops.convert_to_numpy(want[key]), atol=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    ({"filters": []}, "filters"),
    ({"kernel_sizes": [3]}, "kernel_sizes"),
    ({"pool_sizes": 0}, "pool_sizes"),
    ({"lambda_m": -0.1}, "lambda_m"),
    ({"lambda_rec": "1"}, "lambda_rec"),
    ({"decoder": "deconv"}, "decoder"),
    ({"pooling": "avg"}, "pooling"),
    ({"dropout": 1.0}, "dropout"),
    ({"input_shape": (28, 28)}, "input_shape"),
    ({"beta": 0}, "beta"),
    ({"middle_terms": "pooled"}, "middle_terms"),
])
def test_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SWWAE(**kwargs)
