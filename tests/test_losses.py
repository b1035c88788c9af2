"""The add_loss layers (``ReconstructionLoss``, ``ActivityL1``): the layer battery, the terms they
add and their gradients against NumPy closed forms, weights changed in place, bad arguments."""

import keras
import numpy as np
import pytest

from keras_ae.layers.losses import ActivityL1, ReconstructionLoss
from keras_ae.testing import gradients, run_layer_test

RNG = np.random.default_rng(0)
T = RNG.random((3, 4, 4, 2)).astype("float32")
P = RNG.random((3, 4, 4, 2)).astype("float32")
Z = RNG.standard_normal((5, 6)).astype("float32")


def _term(layer, *inputs):
    out = layer(list(inputs) if len(inputs) > 1 else inputs[0])
    (loss,) = layer.losses
    return out, float(keras.ops.convert_to_numpy(loss))


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_reconstruction_loss_battery(reduction):
    run_layer_test(ReconstructionLoss, dict(weight=0.5, reduction=reduction, scale=2.0),
                   [T, P], expected_output_shape=P.shape)


def test_activity_l1_battery():
    run_layer_test(ActivityL1, dict(weight=0.1), Z, expected_output_shape=Z.shape)


@pytest.mark.parametrize("reduction, weight, scale", [("mean", 1.0, 1.0), ("mean", 0.3, 2.0),
                                                      ("sum", 1.0, 0.5), ("sum", 4.0, 1.0)])
def test_reconstruction_term_and_gradient(reduction, weight, scale):
    """mean: w·s·mean over everything of (t − p)²; sum: w·s·mean over the batch of the per-image
    sum. The output is the prediction itself; d/dp = 2·w·s·(p − t) / count."""
    layer = ReconstructionLoss(weight=weight, reduction=reduction, scale=scale)
    out, term = _term(layer, T, P)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), P)
    sq = (T - P) ** 2
    per_image = sq.mean(axis=(1, 2, 3)) if reduction == "mean" else sq.sum(axis=(1, 2, 3))
    np.testing.assert_allclose(term, weight * scale * per_image.mean(), rtol=1e-5)

    def loss(t, p):
        layer([t, p])
        return layer.losses[0]

    grad_t, grad_p = gradients(loss, T, P)
    count = T.size if reduction == "mean" else len(T)
    np.testing.assert_allclose(grad_p, 2 * weight * scale * (P - T) / count, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grad_t, -grad_p, rtol=1e-4, atol=1e-7)


def test_stop_target_gradient():
    layer = ReconstructionLoss(stop_target_gradient=True)

    def loss(t, p):
        layer([t, p])
        return layer.losses[0]

    grad_t, grad_p = gradients(loss, T, P)
    np.testing.assert_array_equal(grad_t, 0.0)
    np.testing.assert_allclose(grad_p, 2 * (P - T) / T.size, rtol=1e-4, atol=1e-7)


def test_activity_l1_term_and_gradient():
    layer = ActivityL1(weight=0.2)
    out, term = _term(layer, Z)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out), Z)
    np.testing.assert_allclose(term, 0.2 * np.abs(Z).sum(axis=1).mean(), rtol=1e-5)

    def loss(z):
        layer(z)
        return layer.losses[0]

    (grad,) = gradients(loss, Z)
    np.testing.assert_allclose(grad, 0.2 * np.sign(Z) / len(Z), rtol=1e-5)


def test_set_weight_changes_the_term_in_place():
    """A callback switches phases by set_weight: the next call adds the new weight's term, and
    the layer keeps its variable (no rebuild)."""
    layer = ReconstructionLoss(weight=1.0)
    _, full = _term(layer, T, P)
    variable = layer.loss_weight
    layer.set_weight(0.25)
    _, quarter = _term(layer, T, P)
    assert layer.loss_weight is variable
    np.testing.assert_allclose(quarter, 0.25 * full, rtol=1e-6)
    layer.set_weight(0)
    assert _term(layer, T, P)[1] == 0.0


def test_terms_are_the_trained_loss_and_survive_saving(tmp_path):
    """In a functional model compiled with loss=None, the added terms are the whole loss that
    evaluate reports; after a .keras round trip the weights and the terms are the same."""
    t_in, p_in = keras.Input((4, 4, 2)), keras.Input((4, 4, 2))
    out = ReconstructionLoss(weight=0.5, reduction="sum", scale=0.5, name="rec")([t_in, p_in])
    out = ActivityL1(weight=0.1, name="l1")(out)
    model = keras.Model([t_in, p_in], out)
    model.compile(optimizer="sgd", loss=None)
    expected = (0.5 * 0.5 * ((T - P) ** 2).sum(axis=(1, 2, 3)).mean()
                + 0.1 * np.abs(P).sum(axis=(1, 2, 3)).mean())
    np.testing.assert_allclose(model.evaluate([T, P], batch_size=3, verbose=0), expected, rtol=1e-5)
    path = str(tmp_path / "losses.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    assert reloaded.get_layer("rec").get_config()["reduction"] == "sum"
    np.testing.assert_allclose(reloaded.evaluate([T, P], batch_size=3, verbose=0), expected,
                               rtol=1e-5)


@pytest.mark.parametrize("make, message", [
    (lambda: ReconstructionLoss(weight=-1.0), "weight must be a non-negative number"),
    (lambda: ReconstructionLoss(weight=True), "weight must be a non-negative number"),
    (lambda: ReconstructionLoss(reduction="max"), "reduction must be one of"),
    (lambda: ActivityL1(weight="1"), "weight must be a non-negative number"),
    (lambda: ActivityL1().set_weight(-0.5), "weight must be a non-negative number"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()
