"""What-where pooling: oracles are tf.nn.max_pool_with_argmax + tf.scatter_nd, loop-based NumPy
references written here, and closed-form cases; never the layers' own output."""

import keras
import numpy as np
import pytest
from keras import ops

from keras_ae.layers import MaxPoolWithArgmax2D, SoftMaxPoolWithArgmax2D, SoftUnpool2D, Unpool2D
from keras_ae.ops import whatwhere
from keras_ae.testing import run_layer_test

BACKEND = keras.backend.backend()

# (shape, pool_size, strides, padding): even, odd "same", odd "valid" (cropping), overlapping,
# rectangular.
CASES = [
    ((2, 6, 6, 3), 2, None, "valid"),
    ((2, 7, 5, 3), 2, None, "same"),
    ((2, 7, 5, 3), 2, None, "valid"),
    ((2, 7, 7, 2), 3, 2, "same"),
    ((2, 8, 9, 2), 3, 2, "valid"),
    ((1, 7, 7, 2), 3, None, "same"),
    ((2, 5, 6, 2), (2, 3), (1, 2), "same"),
]
IDS = [f"{s[1]}x{s[2]}-p{p}-s{st}-{pad}" for s, p, st, pad in CASES]
# Gradients: one case per code path (reshape fold, padded, cropped, segment-sum fold).
GRAD_CASES = [CASES[i] for i in (1, 2, 3, 6)]
GRAD_IDS = [IDS[i] for i in (1, 2, 3, 6)]


def _pair(v, default=None):
    if v is None:
        return default
    return tuple(v) if isinstance(v, (tuple, list)) else (v, v)


def _with_ties(shape, seed=0):
    """Small integers: many windows hold several equal maxima."""
    return np.random.default_rng(seed).integers(0, 4, shape).astype("float32")


def numpy_pool_with_argmax(x, pool_size, strides, padding):
    """Loop reference: TF's geometry, first maximum in row-major order wins."""
    n, h, w, c = x.shape
    (ph, pw) = _pair(pool_size)
    (sh, sw) = _pair(strides, (ph, pw))
    if padding == "valid":
        oh, ow, top, left = (h - ph) // sh + 1, (w - pw) // sw + 1, 0, 0
    else:
        oh, ow = -(-h // sh), -(-w // sw)
        top = max((oh - 1) * sh + ph - h, 0) // 2
        left = max((ow - 1) * sw + pw - w, 0) // 2
    pooled = np.zeros((n, oh, ow, c), x.dtype)
    where = np.zeros((n, oh, ow, c), np.int64)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    best, best_at = -np.inf, None
                    for dy in range(ph):
                        for dx in range(pw):
                            y, xx = i * sh + dy - top, j * sw + dx - left
                            if 0 <= y < h and 0 <= xx < w and x[b, y, xx, ch] > best:
                                best, best_at = x[b, y, xx, ch], (y * w + xx) * c + ch
                    pooled[b, i, j, ch], where[b, i, j, ch] = best, best_at
    return pooled, where


def numpy_scatter(values, where, shape):
    out = np.zeros((shape[0], int(np.prod(shape[1:]))), values.dtype)
    for b in range(shape[0]):
        np.add.at(out[b], where[b].reshape(-1), values[b].reshape(-1))
    return out.reshape(shape)


def tf_pool_and_unpool(x, pool_size, strides, padding):
    import tensorflow as tf

    pool = _pair(pool_size)
    pooled, where = tf.nn.max_pool_with_argmax(x, pool, _pair(strides, pool), padding.upper(),
                                               include_batch_in_index=False)
    n, per = x.shape[0], int(np.prod(x.shape[1:]))
    flat = where.numpy().reshape(n, -1) + np.arange(n)[:, None] * per
    unpooled = tf.scatter_nd(flat.reshape(-1, 1), tf.reshape(pooled, [-1]), [n * per])
    return pooled.numpy(), where.numpy(), tf.reshape(unpooled, x.shape).numpy()


def gradient(fn, x):
    """d fn(x) / dx on the running backend (fn returns a scalar)."""
    if BACKEND == "tensorflow":
        import tensorflow as tf

        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = fn(xt)
        return tape.gradient(y, xt).numpy()
    if BACKEND == "jax":
        import jax

        return np.asarray(jax.grad(fn)(jax.numpy.asarray(x)))
    import torch

    xt = torch.tensor(x, requires_grad=True)
    fn(xt).backward()
    return xt.grad.numpy()


def _np(t):
    return ops.convert_to_numpy(t)


# --------------------------------------------------------------------------------------------
# Shared battery


def test_battery_max_pool_with_argmax():
    x = np.random.default_rng(0).random((2, 6, 6, 3)).astype("float32")
    pooled, where = run_layer_test(MaxPoolWithArgmax2D, {"pool_size": 2}, x,
                                   expected_output_shape=[(2, 3, 3, 3), (2, 3, 3, 3)])
    assert "int32" in str(where.dtype)


def test_battery_unpool():
    x = np.random.default_rng(0).random((2, 6, 6, 3)).astype("float32")
    _, where, _ = tf_pool_and_unpool(x, 2, None, "valid")
    values = np.random.default_rng(1).random((2, 3, 3, 3)).astype("float32")
    run_layer_test(Unpool2D, {"pool_size": 2}, [values, where.astype("int32")],
                   expected_output_shape=(2, 6, 6, 3))


def test_battery_soft_pair():
    x = np.random.default_rng(0).random((2, 7, 7, 2)).astype("float32")
    run_layer_test(SoftMaxPoolWithArgmax2D, {"beta": 20.0, "pool_size": 2, "padding": "same"}, x,
                   expected_output_shape=[(2, 4, 4, 2), (2, 4, 4, 2, 2)])
    positions = np.random.default_rng(1).uniform(0, 6, (2, 4, 4, 2, 2)).astype("float32")
    values = np.random.default_rng(2).random((2, 4, 4, 2)).astype("float32")
    run_layer_test(SoftUnpool2D, {"pool_size": 2, "padding": "same", "output_size": (7, 7)},
                   [values, positions], expected_output_shape=(2, 7, 7, 2))


# --------------------------------------------------------------------------------------------
# Hard pair: values, positions, gradients


@pytest.mark.parametrize("shape,pool,strides,padding", CASES, ids=IDS)
def test_pool_and_unpool_match_tensorflow_and_numpy(shape, pool, strides, padding):
    x = _with_ties(shape)
    tf_pooled, tf_where, tf_unpooled = tf_pool_and_unpool(x, pool, strides, padding)
    np_pooled, np_where = numpy_pool_with_argmax(x, pool, strides, padding)
    np.testing.assert_array_equal(np_where, tf_where)  # the two oracles agree (ties included)

    pooled, where = MaxPoolWithArgmax2D(pool, strides, padding)(x)
    np.testing.assert_array_equal(_np(pooled), tf_pooled)
    np.testing.assert_array_equal(_np(where), tf_where)
    assert "int32" in str(where.dtype)

    unpool = Unpool2D(pool, strides, padding, output_size=shape[1:3])
    np.testing.assert_array_equal(_np(unpool([pooled, where])), tf_unpooled)
    # TensorFlow's own int64 switches work too.
    np.testing.assert_array_equal(_np(unpool([tf_pooled, tf_where])), tf_unpooled)
    np.testing.assert_array_equal(
        _np(whatwhere.unpool_scatter(tf_pooled, tf_where, shape[1:3])),
        numpy_scatter(tf_pooled, tf_where, shape))


@pytest.mark.parametrize("shape,pool,strides,padding", GRAD_CASES, ids=GRAD_IDS)
def test_pool_gradient_reaches_only_the_max(shape, pool, strides, padding):
    x = _with_ties(shape, seed=1)
    pooled, where = numpy_pool_with_argmax(x, pool, strides, padding)
    upstream = np.random.default_rng(2).normal(size=pooled.shape).astype("float32")
    layer = MaxPoolWithArgmax2D(pool, strides, padding)
    got = gradient(lambda t: ops.sum(layer(t)[0] * ops.convert_to_tensor(upstream)), x)
    np.testing.assert_allclose(got, numpy_scatter(upstream, where, shape), atol=1e-6)


@pytest.mark.parametrize("shape,pool,strides,padding", GRAD_CASES, ids=GRAD_IDS)
def test_unpool_gradient_gathers(shape, pool, strides, padding):
    x = np.random.default_rng(3).random(shape).astype("float32")
    values, where = numpy_pool_with_argmax(x, pool, strides, padding)
    upstream = np.random.default_rng(4).normal(size=shape).astype("float32")
    layer = Unpool2D(pool, strides, padding, output_size=shape[1:3])
    got = gradient(
        lambda v: ops.sum(layer([v, ops.convert_to_tensor(where)]) * ops.convert_to_tensor(upstream)),
        values)
    gathered = np.stack([upstream[b].reshape(-1)[where[b]] for b in range(shape[0])])
    np.testing.assert_allclose(got, gathered, atol=1e-6)


def test_ties_go_to_the_first_maximum():
    x = np.zeros((1, 2, 2, 1), "float32")  # all four equal: row 0, column 0 wins
    _, where = MaxPoolWithArgmax2D(2)(x)
    assert int(_np(where).item()) == 0
    x = np.array([[0, 5], [5, 5]], "float32").reshape(1, 2, 2, 1)
    _, where = MaxPoolWithArgmax2D(2)(x)
    assert int(_np(where).item()) == 1


def test_valid_crops_odd_sizes_and_unpool_restores_zeros():
    x = np.arange(1, 26, dtype="float32").reshape(1, 5, 5, 1)
    pooled, where = MaxPoolWithArgmax2D(2, padding="valid")(x)
    np.testing.assert_array_equal(_np(pooled)[0, :, :, 0], [[7, 9], [17, 19]])
    restored = _np(Unpool2D(2, output_size=(5, 5))([pooled, where]))[0, :, :, 0]
    assert restored.shape == (5, 5) and not restored[4].any() and not restored[:, 4].any()
    # Without output_size the smallest consistent size (4x4) is inferred.
    assert tuple(Unpool2D(2).compute_output_shape(((1, 2, 2, 1), (1, 2, 2, 1)))) == (1, 4, 4, 1)


def test_same_pads_odd_sizes():
    x = -np.arange(1, 10, dtype="float32").reshape(1, 3, 3, 1)  # negative: padding must not win
    pooled, where = MaxPoolWithArgmax2D(2, padding="same")(x)
    np.testing.assert_array_equal(_np(pooled)[0, :, :, 0], [[-1, -3], [-7, -9]])
    np.testing.assert_array_equal(_np(where)[0, :, :, 0], [[0, 2], [6, 8]])
    unpooled = Unpool2D(2, padding="same", output_size=(3, 3))([pooled, where])
    assert tuple(unpooled.shape) == (1, 3, 3, 1)


NON_OVERLAPPING = [c for c in CASES if _pair(c[2], _pair(c[1])) == _pair(c[1])]


@pytest.mark.skipif(BACKEND != "torch", reason="the native fast path exists under torch only")
@pytest.mark.parametrize("shape,pool,strides,padding", NON_OVERLAPPING)
def test_torch_fast_path_matches_portable(shape, pool, strides, padding):
    x = np.random.default_rng(5).random(shape).astype("float32")
    native = whatwhere.max_pool_with_argmax(x, pool, strides, padding, implementation="native")
    portable = whatwhere.max_pool_with_argmax(x, pool, strides, padding, implementation="portable")
    for a, b in zip(native, portable):
        np.testing.assert_array_equal(_np(a), _np(b))
    for impl in ("native", "portable"):
        def loss(t, impl=impl):
            pooled, where = whatwhere.max_pool_with_argmax(t, pool, strides, padding,
                                                           implementation=impl)
            out = whatwhere.unpool_with_argmax(pooled * 2.0, where, shape[1:3], pool, strides,
                                               padding, implementation=impl)
            return ops.sum(out * ops.arange(out.shape[-1], dtype="float32"))
        if impl == "native":
            native_grad = gradient(loss, x)
        else:
            np.testing.assert_allclose(native_grad, gradient(loss, x), atol=1e-6)


# --------------------------------------------------------------------------------------------
# Soft pair


def numpy_soft_pool(x, beta, pool):
    """Non-overlapping "valid" windows: softmax-weighted value and (row, col) position."""
    n, h, w, c = x.shape
    oh, ow = h // pool, w // pool
    pooled = np.zeros((n, oh, ow, c))
    pos = np.zeros((n, oh, ow, c, 2))
    for i in range(oh):
        for j in range(ow):
            win = x[:, i * pool:(i + 1) * pool, j * pool:(j + 1) * pool, :].astype("float64")
            e = np.exp(beta * (win - win.max(axis=(1, 2), keepdims=True)))
            wts = e / e.sum(axis=(1, 2), keepdims=True)
            rows = (i * pool + np.arange(pool))[None, :, None, None]
            cols = (j * pool + np.arange(pool))[None, None, :, None]
            pooled[:, i, j] = (wts * win).sum(axis=(1, 2))
            pos[:, i, j, :, 0] = (wts * rows).sum(axis=(1, 2))
            pos[:, i, j, :, 1] = (wts * cols).sum(axis=(1, 2))
    return pooled, pos


def test_soft_pool_matches_numpy():
    x = np.random.default_rng(6).random((2, 4, 6, 3)).astype("float32")
    pooled, positions = SoftMaxPoolWithArgmax2D(beta=5.0, pool_size=2)(x)
    ref_pooled, ref_positions = numpy_soft_pool(x, 5.0, 2)
    np.testing.assert_allclose(_np(pooled), ref_pooled, atol=1e-5)
    np.testing.assert_allclose(_np(positions), ref_positions, atol=1e-5)


def test_soft_unpool_closed_form():
    # One 2x2 window, value 4 at position (0.25, 0.5): bilinear weights .375/.375/.125/.125.
    values = np.full((1, 1, 1, 1), 4.0, "float32")
    positions = np.array([0.25, 0.5], "float32").reshape(1, 1, 1, 1, 2)
    out = _np(SoftUnpool2D(2)([values, positions]))[0, :, :, 0]
    np.testing.assert_allclose(out, [[1.5, 1.5], [0.5, 0.5]], atol=1e-6)


@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "same")])
def test_soft_pair_converges_to_hard_pair(pool, strides, padding):
    shape = (2, 7, 7, 3)
    x = np.random.default_rng(7).permutation(np.prod(shape)).reshape(shape).astype("float32") / 100
    hard_pooled, hard_where = numpy_pool_with_argmax(x, pool, strides, padding)
    hard_rows, hard_cols = hard_where // (shape[2] * shape[3]), (hard_where // shape[3]) % shape[2]
    hard_unpooled = numpy_scatter(hard_pooled, hard_where, shape)
    errors = []
    for beta in (10.0, 100.0, 1e4):
        pooled, positions = SoftMaxPoolWithArgmax2D(beta, pool, strides, padding)(x)
        unpooled = SoftUnpool2D(pool, strides, padding, output_size=shape[1:3])([pooled, positions])
        errors.append((np.abs(_np(pooled) - hard_pooled).max(),
                       np.abs(_np(positions)[..., 0] - hard_rows).max()
                       + np.abs(_np(positions)[..., 1] - hard_cols).max(),
                       np.abs(_np(unpooled) - hard_unpooled).max()))
    errors = np.array(errors)
    assert (np.diff(errors, axis=0) <= 1e-6).all(), errors  # monotone in beta
    assert errors[-1].max() < 1e-3, errors


def test_soft_where_is_differentiable():
    x = np.random.default_rng(8).random((1, 4, 4, 2)).astype("float32")
    pool = SoftMaxPoolWithArgmax2D(beta=3.0)
    g = gradient(lambda t: ops.sum(pool(t)[1]), x)  # positions alone carry a gradient
    assert np.abs(g).sum() > 0


# --------------------------------------------------------------------------------------------
# Bad input


@pytest.mark.parametrize("kwargs,match", [
    ({"pool_size": 0}, "pool_size"), ({"pool_size": (2, 2, 2)}, "pool_size"),
    ({"strides": -1}, "strides"), ({"padding": "full"}, "padding"),
])
def test_bad_arguments(kwargs, match):
    for cls in (MaxPoolWithArgmax2D, Unpool2D, SoftUnpool2D):
        with pytest.raises(ValueError, match=match):
            cls(**kwargs)


def test_bad_inputs():
    with pytest.raises(ValueError, match="beta"):
        SoftMaxPoolWithArgmax2D(beta=0)
    with pytest.raises(ValueError, match="output_size"):
        Unpool2D(output_size=(0, 4))
    with pytest.raises(ValueError, match="padding='valid' needs an input of at least"):
        MaxPoolWithArgmax2D(3)(np.zeros((1, 2, 2, 1), "float32"))
    values = np.zeros((1, 2, 2, 1), "float32")
    with pytest.raises(TypeError, match="where must be an integer"):
        Unpool2D(2)([values, values])
    with pytest.raises(ValueError, match="check output_size"):
        Unpool2D(2, output_size=(8, 8))([values, np.zeros((1, 2, 2, 1), "int32")])
