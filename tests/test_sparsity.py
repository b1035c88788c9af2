import math

import keras
import numpy as np
import pytest

from keras_ae.layers import LifetimeTopK, SpatialWTA
from keras_ae.layers.sparsity import lifetime_survivor_count, smallest_sparse_batch
from keras_ae.testing import gradients, run_layer_test


# ---- NumPy oracles ---------------------------------------------------------------------------

def lifetime_oracle(x, k):
    """Each unit keeps the entries >= its ceil(k·B)-th largest score (max over the map)."""
    count = max(1, math.ceil(round(k * len(x), 6)))
    scores = x.reshape(len(x), -1, x.shape[-1]).max(axis=1)  # (B, C)
    threshold = -np.sort(-scores, axis=0)[count - 1]  # (C,)
    keep = (scores >= threshold).astype(x.dtype)
    return x * keep.reshape((len(x),) + (1,) * (x.ndim - 2) + (x.shape[-1],))


def spatial_oracle(x):
    """Each (sample, channel) keeps its first maximum in row-major order of the map."""
    out = np.zeros_like(x)
    for b in range(x.shape[0]):
        for c in range(x.shape[-1]):
            index = np.unravel_index(np.argmax(x[b, ..., c]), x.shape[1:-1])
            out[(b,) + index + (c,)] = x[(b,) + index + (c,)]
    return out


def gradient(layer, x, weights):
    """d/dx of sum(layer(x, training=True) * weights), on whichever backend runs."""
    return gradients(lambda t: keras.ops.sum(keras.ops.multiply(layer(t, training=True), weights)),
                     x)[0]


def np_(t):
    return keras.ops.convert_to_numpy(t)


def distinct(shape, seed):
    """Random values with no ties (a random permutation scaled into (0, 1))."""
    rng = np.random.default_rng(seed)
    return ((rng.permutation(math.prod(shape)) + 1) / (math.prod(shape) + 1)).reshape(
        shape).astype("float32")


# ---- battery ---------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(8, 5), (8, 4, 4, 3)])
def test_lifetime_battery(shape):
    x = distinct(shape, 0)
    run_layer_test(LifetimeTopK, {"k": 0.25}, x, expected_output_shape=shape)


def test_spatial_battery():
    x = distinct((4, 5, 5, 3), 1)
    run_layer_test(SpatialWTA, {}, x, expected_output_shape=(4, 5, 5, 3))


@pytest.mark.parametrize("layer_cls, kwargs", [(LifetimeTopK, {"k": 0.25, "at_inference": True}),
                                                (SpatialWTA, {"at_inference": True})])
def test_at_inference_battery(layer_cls, kwargs):
    x = distinct((8, 4, 4, 3), 2)
    run_layer_test(layer_cls, kwargs, x, expected_output_shape=(8, 4, 4, 3))
    assert layer_cls.from_config(layer_cls(**kwargs).get_config()).at_inference is True


# ---- behaviour against the oracles -----------------------------------------------------------

@pytest.mark.parametrize("k, batch, expected", [
    (0.05, 100, 5), (0.07, 100, 7), (0.05, 10, 1), (0.3, 10, 3), (0.31, 10, 4), (1.0, 7, 7)])
def test_survivor_count(k, batch, expected):
    assert lifetime_survivor_count(k, batch) == expected


@pytest.mark.parametrize("k", [0.05, 0.1, 0.3])
def test_lifetime_dense_matches_oracle(k):
    x = distinct((40, 7), 2) - 0.3  # negatives included: the rule is about ranks, not signs
    out = np_(LifetimeTopK(k)(x, training=True))
    np.testing.assert_array_equal(out, lifetime_oracle(x, k))
    assert ((out != 0).sum(axis=0) == max(1, math.ceil(round(k * 40, 6)))).all()


def test_lifetime_maps_keep_whole_maps_of_winning_samples():
    x = distinct((20, 3, 3, 4), 3)
    out = np_(LifetimeTopK(0.1)(x, training=True))
    np.testing.assert_array_equal(out, lifetime_oracle(x, 0.1))
    survivors = (out != 0).any(axis=(1, 2))  # (B, C): which samples keep each channel
    assert (survivors.sum(axis=0) == 2).all()
    # a kept map is kept entirely
    assert ((out != 0).sum(axis=(1, 2))[survivors] == 9).all()


def test_conv_wta_rule_is_lifetime_on_spatial_winners():
    x = distinct((30, 4, 4, 3), 4)
    out = np_(LifetimeTopK(0.1)(SpatialWTA()(x, training=True), training=True))
    winners = spatial_oracle(x)
    np.testing.assert_array_equal(out, lifetime_oracle(winners, 0.1))
    assert ((out != 0).sum(axis=(0, 1, 2)) == 3).all()  # ceil(0.1·30) winners per channel


def test_lifetime_ties_at_threshold_all_survive():
    x = np.array([[3.0, 1.0], [2.0, 1.0], [2.0, 1.0], [1.0, 1.0], [0.0, 0.5]], "float32")
    out = np_(LifetimeTopK(0.4)(x, training=True))  # K = 2
    np.testing.assert_array_equal(out[:, 0], [3.0, 2.0, 2.0, 0.0, 0.0])  # tie at the 2nd -> 3
    np.testing.assert_array_equal(out[:, 1], [1.0, 1.0, 1.0, 1.0, 0.0])
    np.testing.assert_array_equal(out, lifetime_oracle(x, 0.4))


def test_spatial_matches_oracle_and_ties_keep_first():
    x = distinct((3, 4, 5, 2), 5)
    np.testing.assert_array_equal(np_(SpatialWTA()(x, training=True)), spatial_oracle(x))
    tied = np.zeros((1, 3, 3, 1), "float32")
    tied[0, 1, 2, 0] = tied[0, 2, 0, 0] = tied[0, 2, 2, 0] = 5.0
    out = np_(SpatialWTA()(tied, training=True))
    expected = np.zeros_like(tied)
    expected[0, 1, 2, 0] = 5.0  # the first of the tied maxima in row-major order
    np.testing.assert_array_equal(out, expected)
    constant = np.full((2, 3, 3, 2), 0.7, "float32")  # a flat background: one survivor, not 9
    assert (np_(SpatialWTA()(constant, training=True)) != 0).sum() == 4


def test_spatial_on_sequences():
    x = distinct((3, 6, 2), 6)
    np.testing.assert_array_equal(np_(SpatialWTA()(x, training=True)), spatial_oracle(x))


def test_gradients_flow_only_through_kept_entries():
    rng = np.random.default_rng(7)
    x = distinct((12, 3, 3, 2), 7)
    w = rng.normal(size=x.shape).astype("float32")
    g = gradient(SpatialWTA(), x, w)
    np.testing.assert_allclose(g, w * (spatial_oracle(x) != 0), atol=1e-6)
    dense = distinct((12, 4), 8)
    wd = rng.normal(size=dense.shape).astype("float32")
    g = gradient(LifetimeTopK(0.25), dense, wd)
    np.testing.assert_allclose(g, wd * (lifetime_oracle(dense, 0.25) != 0), atol=1e-6)
    g = gradient(LifetimeTopK(0.25), x, w)
    np.testing.assert_allclose(g, w * (lifetime_oracle(x, 0.25) != 0), atol=1e-6)


def test_identity_at_inference():
    x = distinct((6, 3, 3, 2), 9)
    np.testing.assert_array_equal(np_(SpatialWTA()(x)), x)
    np.testing.assert_array_equal(np_(LifetimeTopK(0.2)(x)), x)
    np.testing.assert_array_equal(np_(LifetimeTopK(1.0)(x, training=True)), x)


@pytest.mark.parametrize("shape", [(12, 5), (12, 3, 3, 2)])
def test_at_inference_applies_the_training_rule(shape):
    x = distinct(shape, 10)
    for training in (False, True):
        np.testing.assert_array_equal(
            np_(LifetimeTopK(0.25, at_inference=True)(x, training=training)),
            lifetime_oracle(x, 0.25))
    if len(shape) > 2:
        np.testing.assert_array_equal(np_(SpatialWTA(at_inference=True)(x)), spatial_oracle(x))
    # in a functional model run by predict (training=False), the layer stays active
    inputs = keras.Input(shape[1:])
    model = keras.Model(inputs, LifetimeTopK(0.25, at_inference=True)(inputs))
    np.testing.assert_array_equal(model.predict(x, batch_size=len(x), verbose=0),
                                  lifetime_oracle(x, 0.25))


@pytest.mark.parametrize("k", [0.05, 0.25, 0.5, 0.51, 0.6, 0.9, 0.95, 1.0])
def test_smallest_sparse_batch(k):
    # oracle: the first batch size whose survivor count (the NumPy formula) is below it
    brute = 1 if k == 1.0 else next(b for b in range(2, 1000)
                                    if max(1, math.ceil(round(k * b, 6))) < b)
    assert smallest_sparse_batch(k) == brute


def test_unknown_batch_in_a_tensorflow_graph():
    if keras.backend.backend() != "tensorflow":
        pytest.skip("graphs with an unknown batch size are a TensorFlow case")
    import tensorflow as tf

    layer = LifetimeTopK(0.1)
    fn = tf.function(lambda t: layer(t, training=True),
                     input_signature=[tf.TensorSpec((None, 5), tf.float32)])
    for batch in (20, 31):
        x = distinct((batch, 5), batch)
        np.testing.assert_array_equal(fn(x).numpy(), lifetime_oracle(x, 0.1))


# ---- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [0, -0.1, 1.5, "0.1", True, None])
def test_bad_k(k):
    with pytest.raises(ValueError, match="k must be a number in \\(0, 1\\]"):
        LifetimeTopK(k)


@pytest.mark.parametrize("layer_cls, kwargs", [(LifetimeTopK, {"k": 0.5}), (SpatialWTA, {})])
def test_bad_at_inference(layer_cls, kwargs):
    with pytest.raises(TypeError, match="at_inference must be True or False, got 1"):
        layer_cls(at_inference=1, **kwargs)


def test_wrong_rank():
    with pytest.raises(ValueError, match="rank >= 2"):
        LifetimeTopK(0.1)(np.ones((4,), "float32"), training=True)
    with pytest.raises(ValueError, match="rank >= 3"):
        SpatialWTA()(np.ones((4, 5), "float32"), training=True)


@pytest.mark.parametrize("k, batch", [(0.05, 1), (0.6, 2), (0.9, 9)])
def test_batch_too_small_to_be_sparse(k, batch):
    with pytest.raises(ValueError, match=f"batch of size {batch}"):
        LifetimeTopK(k)(np.ones((batch, 3), "float32"), training=True)
    with pytest.raises(ValueError, match=f"batch of size {batch}.*at least {batch + 1}"):
        LifetimeTopK(k, at_inference=True)(np.ones((batch, 3), "float32"))
