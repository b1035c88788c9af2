"""Deconvnet projections (keras_ae.deconvnet). Oracles: convolutions, their transposes and max
pooling written as NumPy loops here, receptive fields from the layers' geometry; never the
module's own output. Runs under every backend (the projection is keras.ops code)."""

import keras
import numpy as np
import pytest

from keras_ae import models
from keras_ae.deconvnet import deconvnet_projection, invertible_chain, top_projections
from keras_ae.layers import MaxPoolWithArgmax2D, SoftMaxPoolWithArgmax2D


def _same_pad(size, out, kernel, stride):
    return max((out - 1) * stride + kernel - size, 0)


def numpy_conv(x, kernel, bias, stride, padding):
    """Keras's Conv2D (TensorFlow's padding convention) as loops: (N, H, W, Cin) -> (N, h, w, Cout)."""
    n, height, width, _ = x.shape
    k = kernel.shape[0]
    if padding == "same":
        oh, ow = -(-height // stride), -(-width // stride)
        ph, pw = _same_pad(height, oh, k, stride), _same_pad(width, ow, k, stride)
    else:
        oh, ow = (height - k) // stride + 1, (width - k) // stride + 1
        ph = pw = 0
    padded = np.zeros((n, height + ph, width + pw, x.shape[-1]))
    padded[:, ph // 2: ph // 2 + height, pw // 2: pw // 2 + width] = x
    y = np.zeros((n, oh, ow, kernel.shape[-1]))
    for i in range(oh):
        for j in range(ow):
            patch = padded[:, i * stride: i * stride + k, j * stride: j * stride + k, :]
            y[:, i, j, :] = np.einsum("nabc,abco->no", patch, kernel) + bias
    return y


def numpy_conv_transpose(a, kernel, stride, padding, size):
    """The transpose of :func:`numpy_conv` (no bias): every a[i, j, o] spreads kernel[..., o]
    over the input window it was computed from, padding cropped off."""
    n, oh, ow, _ = a.shape
    height, width = size
    k = kernel.shape[0]
    ph = _same_pad(height, oh, k, stride) if padding == "same" else 0
    pw = _same_pad(width, ow, k, stride) if padding == "same" else 0
    padded = np.zeros((n, height + ph + k, width + pw + k, kernel.shape[2]))
    for i in range(oh):
        for j in range(ow):
            padded[:, i * stride: i * stride + k, j * stride: j * stride + k, :] += np.einsum(
                "no,abco->nabc", a[:, i, j, :], kernel)
    return padded[:, ph // 2: ph // 2 + height, pw // 2: pw // 2 + width, :]


def keep_unit(maps, unit, keep):
    """Zeroes every channel but ``unit`` (and with keep='max' every position but its largest)."""
    kept = np.zeros_like(maps)
    kept[..., unit] = maps[..., unit]
    if keep == "max":
        for b in range(len(maps)):
            i, j = np.unravel_index(np.argmax(maps[b, ..., unit]), maps.shape[1:3])
            value = kept[b, i, j, unit]
            kept[b] = 0.0
            kept[b, i, j, unit] = value
    return kept


def _rng_images(shape, seed=0):
    return np.random.default_rng(seed).random(shape).astype("float32")


@pytest.mark.parametrize("kernel, stride, padding, size, keep", [
    (3, 1, "same", (8, 8), "all"),
    (4, 2, "same", (9, 8), "max"),
    (3, 2, "valid", (10, 9), "all"),
])
def test_one_conv_is_its_transposed_convolution(kernel, stride, padding, size, keep):
    """Without pooling the projection is the closed form: the transposed convolution of the
    kept (ReLU'd) activation, computed with NumPy loops from the layer's weights."""
    inputs = keras.Input((*size, 2))
    conv = keras.layers.Conv2D(3, kernel, strides=stride, padding=padding, activation="relu",
                               bias_initializer="random_normal", name="conv")
    model = keras.Model(inputs, conv(inputs))
    x = _rng_images((3, *size, 2)) - 0.5
    w, b = (keras.ops.convert_to_numpy(v) for v in (conv.kernel, conv.bias))
    acts = np.maximum(numpy_conv(x, w, b, stride, padding), 0.0)
    expected = numpy_conv_transpose(keep_unit(acts, 1, keep), w, stride, padding, size)
    got = deconvnet_projection(model, "conv", 1, x, keep=keep)
    assert got.shape == x.shape and got.dtype == np.float32
    assert np.abs(expected).max() > 0
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def numpy_unpooled_max(x, pool):
    """Max pooling (non-overlapping, 'valid') and unpooling with NumPy: each window's (first)
    maximum in place, zeros elsewhere."""
    out = np.zeros_like(x)
    n, height, width, channels = x.shape
    for b in range(n):
        for i in range(0, height - pool + 1, pool):
            for j in range(0, width - pool + 1, pool):
                for c in range(channels):
                    window = x[b, i: i + pool, j: j + pool, c]
                    r, s = np.unravel_index(np.argmax(window), window.shape)
                    out[b, i + r, j + s, c] = window[r, s]
    return out


@pytest.mark.parametrize("pooling", ["zoo", "keras"])
def test_one_pooling_unpools_to_the_argmax_positions(pooling):
    """Through one max pooling the projection is the unit's unpooled map: its maxima at the
    positions NumPy's argmax finds in each window, zeros everywhere else (the rows/columns
    'valid' pooling drops included)."""
    layer = (MaxPoolWithArgmax2D(2, name="pool") if pooling == "zoo"
             else keras.layers.MaxPooling2D(2, name="pool"))
    inputs = keras.Input((7, 6, 3))
    model = keras.Model(inputs, layer(inputs)[0] if pooling == "zoo" else layer(inputs))
    x = _rng_images((2, 7, 6, 3), seed=1)
    got = deconvnet_projection(model, "pool", 2, x, keep="all")
    expected = numpy_unpooled_max(x, 2)
    expected[..., :2] = 0.0
    np.testing.assert_array_equal(got != 0, expected != 0)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    # keep="max": only the single largest pooled value of the unit survives.
    single = deconvnet_projection(model, "pool", 2, x, keep="max")
    for b in range(len(x)):
        assert np.count_nonzero(single[b]) == 1
        assert single[b].max() == pytest.approx(x[b, :6, :6, 2].max())


def test_soft_pooling_unpools_to_its_positions():
    """Soft what-where pooling at a high beta, on values far apart, is hard pooling: the
    projection through its soft unpooling is NumPy's unpooled map."""
    inputs = keras.Input((6, 6, 2))
    model = keras.Model(inputs, SoftMaxPoolWithArgmax2D(1e4, 2, name="pool")(inputs)[0])
    x = (np.random.default_rng(5).permutation(72) / 72.0).reshape(1, 6, 6, 2).astype("float32")
    expected = numpy_unpooled_max(x, 2)
    expected[..., 0] = 0.0
    np.testing.assert_allclose(deconvnet_projection(model, "pool", 1, x, keep="all"), expected,
                               atol=1e-5)


def receptive_rows(first, last, geometry):
    """Input rows (or columns) that output rows ``first..last`` depend on, through layers given
    top-down as (kernel, stride, pad_before)."""
    for kernel, stride, pad in geometry:
        first, last = first * stride - pad, last * stride - pad + kernel - 1
    return first, last


def _assert_zero_outside(projection, rows, cols):
    inside = np.zeros(projection.shape[:2], bool)
    inside[max(rows[0], 0): rows[1] + 1, max(cols[0], 0): cols[1] + 1] = True
    assert np.abs(projection[inside]).max() > 0
    assert np.all(projection[~inside] == 0)


def test_projection_is_zero_outside_the_receptive_field():
    """conv 3x3 -> pool 2 -> conv 3x3: the strongest unit at (i, j) of the top map sees input
    rows 2(i-1)-1 .. 2(i+1)+2 (and columns alike); the projection is zero everywhere else."""
    inputs = keras.Input((16, 16, 1))
    h = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="c1")(inputs)
    h, _ = MaxPoolWithArgmax2D(2, name="p1")(h)
    top = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="c2")(h)
    model = keras.Model(inputs, top)
    x = np.zeros((3, 16, 16, 1), "float32")
    x[:, 3:13, 3:13] = _rng_images((3, 10, 10, 1), seed=2)  # the maximum lies well inside
    maps = keras.ops.convert_to_numpy(model(x))
    unit = int(np.argmax(maps.max(axis=(0, 1, 2))))
    got = deconvnet_projection(model, "c2", unit, x, keep="max")
    geometry = [(3, 1, 1), (2, 2, 0), (3, 1, 1)]  # c2, p1, c1
    for b in range(len(x)):
        i, j = np.unravel_index(np.argmax(maps[b, ..., unit]), maps.shape[1:3])
        _assert_zero_outside(got[b, ..., 0], receptive_rows(i, i, geometry),
                             receptive_rows(j, j, geometry))


@pytest.fixture(scope="module")
def swwae():
    """A small SWWAE (16x16 images, two stages), built once: building one takes seconds."""
    return models.build("swwae", input_shape=(16, 16, 1), filters=[3, 4], head_units=[])


def test_swwae_encoder_projects_through_both_stages(swwae):
    """SWWAE's encoder (conv_0, pool_0, conv_1, pool_1): a unit of pool_1 projects to an image
    that is zero outside the receptive field of its strongest position; its layers chain."""
    model = swwae
    assert [layer.name for layer in invertible_chain(model, "pool_1")] == [
        "conv_0", "pool_0", "conv_1", "pool_1"]
    x = np.zeros((2, 16, 16, 1), "float32")
    x[:, 4:12, 4:12] = _rng_images((2, 8, 8, 1), seed=3)
    maps = keras.ops.convert_to_numpy(model.encoder(x)["what"])
    unit = int(np.argmax(maps.max(axis=(0, 1, 2))))
    got = deconvnet_projection(model, "pool_1", unit, x)
    assert got.shape == x.shape
    geometry = [(2, 2, 0), (3, 1, 1), (2, 2, 0), (3, 1, 1)]  # pool_1, conv_1, pool_0, conv_0
    for b in range(len(x)):
        i, j = np.unravel_index(np.argmax(maps[b, ..., unit]), maps.shape[1:3])
        _assert_zero_outside(got[b, ..., 0], receptive_rows(i, i, geometry),
                             receptive_rows(j, j, geometry))


def test_top_projections_rank_images_by_the_units_maximum():
    inputs = keras.Input((8, 8, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(2, 3, activation="relu", name="c",
                                                   bias_initializer="ones")(inputs))
    x = _rng_images((12, 8, 8, 1), seed=4)
    strongest = keras.ops.convert_to_numpy(model(x)).max(axis=(1, 2))
    results = top_projections(model, "c", [1, 0], x, k=4)
    assert [r["unit"] for r in results] == [1, 0]
    for r in results:
        np.testing.assert_array_equal(r["indices"], np.argsort(-strongest[:, r["unit"]])[:4])
        np.testing.assert_allclose(r["activations"], np.sort(strongest[:, r["unit"]])[::-1][:4],
                                   rtol=1e-5)
        assert r["projections"].shape == (4, 8, 8, 1)


def test_bad_arguments_are_named(swwae):
    inputs = keras.Input((8, 8, 1))
    h = keras.layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    h = keras.layers.BatchNormalization(name="bn")(h)
    h = keras.layers.Conv2D(2, 3, padding="same", name="after_bn")(h)
    model = keras.Model(inputs, h)
    x = _rng_images((2, 8, 8, 1))
    with pytest.raises(ValueError, match=r"layer_name 'nope' is not a layer .* conv, bn"):
        deconvnet_projection(model, "nope", 0, x)
    for unit in (3, -1, True, 1.0):
        with pytest.raises(ValueError, match=r"unit must be a channel of layer 'conv': an int in \[0, 3\)"):
            deconvnet_projection(model, "conv", unit, x)
    with pytest.raises(ValueError, match=r"images must have shape \(N, 8, 8, 1\)"):
        deconvnet_projection(model, "conv", 0, x[..., 0])
    with pytest.raises(ValueError, match=r"images must have shape"):
        deconvnet_projection(model, "conv", 0, x[:0])
    with pytest.raises(ValueError, match="keep must be one of 'max', 'all'"):
        deconvnet_projection(model, "conv", 0, x, keep="top")
    with pytest.raises(ValueError, match=r"cannot invert layer 'bn' \(BatchNormalization\)"):
        deconvnet_projection(model, "after_bn", 0, x)
    with pytest.raises(TypeError, match="model must be a keras.Model"):
        deconvnet_projection("model.keras", "conv", 0, x)
    with pytest.raises(ValueError, match=r"cannot invert layer 'flatten' \(Flatten\)"):
        deconvnet_projection(swwae, "flatten", 0, np.zeros((1, 16, 16, 1), "float32"))
    # A branch: the residual sum has two inputs.
    a = keras.layers.Conv2D(1, 3, padding="same", name="a")(inputs)
    summed = keras.layers.Add(name="add")([inputs, a])
    branched = keras.Model(inputs, keras.layers.ReLU(name="relu")(summed))
    with pytest.raises(ValueError, match=r"cannot invert layer 'add' \(Add\)"):
        deconvnet_projection(branched, "relu", 0, x)
