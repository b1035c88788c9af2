"""What-where pooling math: max pooling that also returns the argmax ("where"), unpooling that
puts values back at those positions, and the soft (differentiable) pair of SWWAE §3.1.

Conventions
-----------
* Images are NHWC. ``where`` follows ``tf.nn.max_pool_with_argmax(..., include_batch_in_index=
  False)``: the flat index ``(y * W + x) * C + c`` into the *pre-pool* input of one sample, as
  int32. Unpooling accepts int32 or int64.
* Ties go to the first maximum in row-major window order (what TensorFlow and PyTorch do).
* ``padding="same"`` pads like TensorFlow: output size ``ceil(H / s)``, the extra row/column of
  an odd total padding at the bottom/right; padded cells never win. ``padding="valid"`` crops
  like TensorFlow: output size ``floor((H - p) / s) + 1``, the rows/columns past the last
  window are ignored by pooling and come back as zeros from unpooling.

Implementations
---------------
The portable code (``keras.ops`` only) gathers each window's cells on a last axis of size
``K = ph * pw``, takes the argmax there and selects with a one-hot mask: the pooled value is
``sum(window * one_hot(argmax))`` rather than ``max(window)`` because JAX differentiates the
product much faster. Unpooling turns ``where`` back into an in-window position, multiplies a
one-hot by the values and "folds" the windows back into the image: a reshape when windows do not
overlap, a segment sum (whose gradient is a gather) when they do. ``unpool_scatter`` places
values at arbitrary positions with no window geometry at all and is the plain reference.

PyTorch eager runs this portable code several times slower than its own kernels
(``benchmarks/bench_pooling.py``), so under the torch backend non-overlapping pooling uses
``torch.nn.functional.max_pool2d(return_indices=True)`` with the indices converted to the
convention above, and unpooling one ``scatter_add`` per sample. ``implementation="portable"`` forces the
reference; ``tests/test_pooling.py`` checks the two agree.
"""

import math

import keras
import numpy as np
from keras import ops

__all__ = [
    "PoolGeometry",
    "pool_geometry",
    "max_pool_with_argmax",
    "unpool_with_argmax",
    "unpool_scatter",
    "soft_max_pool_with_argmax",
    "soft_unpool",
    "where_to_coordinates",
]

_PADDINGS = ("valid", "same")
_IMPLEMENTATIONS = ("auto", "portable", "native")


def _pair(name, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (int(value), int(value))
    if (not isinstance(value, (list, tuple)) or len(value) != 2
            or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v > 0
                       for v in value)):
        raise ValueError(f"{name} must be a positive int or a pair of positive ints, got {value!r}.")
    return tuple(int(v) for v in value)


def normalize_pool_args(pool_size, strides, padding):
    """Validates and standardises ``(pool_size, strides, padding)``; strides default to pool_size."""
    pool_size = _pair("pool_size", pool_size)
    strides = _pair("strides", strides, allow_none=True) or pool_size
    if not isinstance(padding, str) or padding.lower() not in _PADDINGS:
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}.")
    return pool_size, strides, padding.lower()


class PoolGeometry:
    """Static facts of one pooling: sizes, padding, and whether windows tile the input exactly."""

    def __init__(self, height, width, pool_size, strides, padding):
        self.height, self.width = int(height), int(width)
        self.pool_size, self.strides = pool_size, strides
        self.padding = padding
        (ph, pw), (sh, sw) = pool_size, strides
        if padding == "valid":
            if self.height < ph or self.width < pw:
                raise ValueError(
                    f"padding='valid' needs an input of at least pool_size={pool_size}, got "
                    f"height={height}, width={width}: use padding='same'.")
            self.out_height = (self.height - ph) // sh + 1
            self.out_width = (self.width - pw) // sw + 1
            self.pad_top = self.pad_left = 0
        else:
            self.out_height = -(-self.height // sh)
            self.out_width = -(-self.width // sw)
            pad_h = max((self.out_height - 1) * sh + ph - self.height, 0)
            pad_w = max((self.out_width - 1) * sw + pw - self.width, 0)
            self.pad_top, self.pad_left = pad_h // 2, pad_w // 2
        # The padded frame every window lies in: rows [-pad_top, span_h - pad_top).
        self.span_height = (self.out_height - 1) * sh + ph
        self.span_width = (self.out_width - 1) * sw + pw
        self.pad_bottom = max(self.span_height - self.pad_top - self.height, 0)
        self.pad_right = max(self.span_width - self.pad_left - self.width, 0)
        self.window_cells = ph * pw
        self.non_overlapping = (sh, sw) == (ph, pw)

    def window_origin_flat(self, channels):
        """``((ho*sh - pad_top) * W + (wo*sw - pad_left)) * C + c`` as a (Ho, Wo, C) int32 array."""
        (sh, sw) = self.strides
        rows = np.arange(self.out_height) * sh - self.pad_top
        cols = np.arange(self.out_width) * sw - self.pad_left
        base = (rows[:, None] * self.width + cols[None, :])[:, :, None] * channels
        return (base + np.arange(channels)[None, None, :]).astype("int32")

    def cell_offsets(self):
        """In-window (row, col) of each of the K cells, row-major, as two int arrays."""
        ph, pw = self.pool_size
        return np.repeat(np.arange(ph), pw), np.tile(np.arange(pw), ph)


def pool_geometry(input_shape, pool_size=2, strides=None, padding="valid"):
    """The :class:`PoolGeometry` of pooling an NHWC ``input_shape`` (static H and W needed)."""
    pool_size, strides, padding = normalize_pool_args(pool_size, strides, padding)
    if len(input_shape) != 4:
        raise ValueError(f"inputs must be 4-D (batch, height, width, channels), got shape "
                         f"{tuple(input_shape)}.")
    height, width = input_shape[1], input_shape[2]
    if height is None or width is None:
        raise ValueError(f"what-where pooling needs a static height and width, got shape "
                         f"{tuple(input_shape)}.")
    return PoolGeometry(height, width, pool_size, strides, padding)


def _use_native(implementation, geometry):
    if implementation not in _IMPLEMENTATIONS:
        raise ValueError(f"implementation must be one of {_IMPLEMENTATIONS}, got {implementation!r}.")
    if implementation == "portable":
        return False
    native_ok = keras.backend.backend() == "torch" and geometry.non_overlapping
    if implementation == "native" and not native_ok:
        raise ValueError("implementation='native' exists only under the torch backend, for "
                         "non-overlapping windows (strides == pool_size).")
    return native_ok


# --------------------------------------------------------------------------------------------
# Windows: (N, H, W, C) <-> (N, Ho, Wo, C, K)


def _pad_or_crop_to_span(x, geometry, value):
    """Pads (with ``value``) or crops H and W to the frame ``[-pad_top, span - pad_top)``."""
    g = geometry
    x = x[:, : g.span_height - g.pad_top, : g.span_width - g.pad_left, :]
    if g.pad_top or g.pad_bottom or g.pad_left or g.pad_right:
        x = ops.pad(x, [[0, 0], [g.pad_top, g.pad_bottom], [g.pad_left, g.pad_right], [0, 0]],
                    constant_values=value)
    return x


def _extract_windows(x, geometry, pad_value):
    """(N, H, W, C) -> (N, Ho, Wo, C, K), K in row-major window order."""
    g = geometry
    (ph, pw), (sh, sw) = g.pool_size, g.strides
    x = _pad_or_crop_to_span(x, g, pad_value)
    channels = x.shape[-1]
    if g.non_overlapping:
        x = ops.reshape(x, (-1, g.out_height, ph, g.out_width, pw, channels))
        x = ops.transpose(x, (0, 1, 3, 5, 2, 4))
        return ops.reshape(x, (-1, g.out_height, g.out_width, channels, ph * pw))
    cells = []
    for dy in range(ph):
        for dx in range(pw):
            cells.append(x[:, dy: dy + (g.out_height - 1) * sh + 1: sh,
                           dx: dx + (g.out_width - 1) * sw + 1: sw, :])
    return ops.stack(cells, axis=-1)


def _fold_windows(windows, geometry, batch_size_hint=None):
    """(N, Ho, Wo, C, K) -> (N, H, W, C), summing cells that several windows share."""
    g = geometry
    (ph, pw), (sh, sw) = g.pool_size, g.strides
    channels = windows.shape[3]
    if g.non_overlapping:
        x = ops.reshape(windows, (-1, g.out_height, g.out_width, channels, ph, pw))
        x = ops.transpose(x, (0, 1, 4, 2, 5, 3))
        x = ops.reshape(x, (-1, g.span_height, g.span_width, channels))
        x = x[:, g.pad_top: g.pad_top + g.height, g.pad_left: g.pad_left + g.width, :]
        extra_h = g.height - (g.span_height - g.pad_top)
        extra_w = g.width - (g.span_width - g.pad_left)
        if extra_h > 0 or extra_w > 0:  # "valid" cropped these rows/columns: they unpool to 0
            x = ops.pad(x, [[0, 0], [0, max(extra_h, 0)], [0, max(extra_w, 0)], [0, 0]])
        return x
    # Overlapping windows: a static map from (ho, wo, k) to the pixel it covers (or a dump slot
    # for padding), then one segment sum over (Ho*Wo*K) rows of (N, C).
    rows = (np.arange(g.out_height) * sh - g.pad_top)[:, None, None] + g.cell_offsets()[0][None, None, :]
    cols = (np.arange(g.out_width) * sw - g.pad_left)[None, :, None] + g.cell_offsets()[1][None, None, :]
    rows, cols = np.broadcast_arrays(rows, cols)
    inside = (rows >= 0) & (rows < g.height) & (cols >= 0) & (cols < g.width)
    dump = g.height * g.width
    segment_ids = np.where(inside, rows * g.width + cols, dump).reshape(-1).astype("int32")
    data = ops.transpose(windows, (1, 2, 4, 0, 3))
    data = ops.reshape(data, (g.out_height * g.out_width * g.window_cells, -1, channels))
    summed = ops.segment_sum(data, segment_ids, num_segments=dump + 1)[:dump]
    summed = ops.reshape(summed, (g.height, g.width, -1, channels))
    return ops.transpose(summed, (2, 0, 1, 3))


# --------------------------------------------------------------------------------------------
# Hard pair


def max_pool_with_argmax(x, pool_size=2, strides=None, padding="valid", implementation="auto"):
    """Max pooling that also returns where each max came from.

    Args:
        x: (N, H, W, C) float tensor with static H, W, C.
        pool_size, strides, padding: as ``keras.layers.MaxPooling2D`` (strides default to
            ``pool_size``).
        implementation: ``"auto"`` (the fast path where there is one), ``"portable"``
            (``keras.ops`` only) or ``"native"`` (torch kernels; torch backend only).

    Returns:
        ``(pooled, where)``: (N, Ho, Wo, C) values and int32 flat indices ``(y*W + x)*C + c``.
        The gradient reaches only the max position.
    """
    x = ops.convert_to_tensor(x)
    g = pool_geometry(x.shape, pool_size, strides, padding)
    if _use_native(implementation, g):
        return _torch_max_pool_with_argmax(x, g)
    dtype = x.dtype
    lowest = float(np.finfo(keras.backend.standardize_dtype(dtype)).min)
    windows = _extract_windows(x, g, lowest)
    local = ops.argmax(windows, axis=-1)
    pooled = ops.sum(windows * ops.one_hot(local, g.window_cells, dtype=dtype), axis=-1)
    local = ops.cast(local, "int32")
    ph, pw = g.pool_size
    channels = x.shape[-1]
    offset = (local // pw) * (g.width * channels) + (local % pw) * channels
    where = offset + ops.convert_to_tensor(g.window_origin_flat(channels))
    return pooled, where


def _local_cell(where, geometry, channels):
    """Global ``where`` -> index of the cell inside its own window (0..K-1)."""
    g = geometry
    where = ops.cast(where, "int32")
    y = where // (g.width * channels)
    x = (where // channels) % g.width
    (sh, sw) = g.strides
    top = ops.convert_to_tensor((np.arange(g.out_height) * sh - g.pad_top).astype("int32"))
    left = ops.convert_to_tensor((np.arange(g.out_width) * sw - g.pad_left).astype("int32"))
    ky = y - top[:, None, None]
    kx = x - left[None, :, None]
    return ky * g.pool_size[1] + kx


def unpool_with_argmax(values, where, output_size, pool_size=2, strides=None, padding="valid",
                       implementation="auto"):
    """The inverse placement of :func:`max_pool_with_argmax` with the same geometry.

    Each value goes to the position ``where`` names, zeros elsewhere (values landing on the same
    position, possible only with overlapping windows, are summed). ``where`` must come from a
    pooling of the same geometry: each index has to lie in its own window. For arbitrary
    positions use :func:`unpool_scatter`.

    Args:
        values: (N, Ho, Wo, C) floats.
        where: (N, Ho, Wo, C) int32 or int64, the ``tf.nn.max_pool_with_argmax`` convention.
        output_size: ``(H, W)`` of the pre-pool input.

    Returns:
        (N, H, W, C). Its gradient with respect to ``values`` gathers at ``where``.
    """
    height, width = _pair("output_size", output_size)
    values, where = ops.convert_to_tensor(values), ops.convert_to_tensor(where)
    channels = values.shape[-1]
    g = pool_geometry((None, height, width, channels), pool_size, strides, padding)
    if tuple(values.shape[1:3]) != (g.out_height, g.out_width):
        raise ValueError(
            f"values have spatial shape {tuple(values.shape[1:3])} but pooling {height}x{width} "
            f"with pool_size={g.pool_size}, strides={g.strides}, padding={g.padding!r} gives "
            f"{(g.out_height, g.out_width)}: check output_size.")
    if _use_native(implementation, g):
        return _torch_unpool_with_argmax(values, where, g)
    local = _local_cell(where, g, channels)
    windows = ops.expand_dims(values, -1) * ops.one_hot(local, g.window_cells, dtype=values.dtype)
    return _fold_windows(windows, g)


def unpool_scatter(values, where, output_size):
    """Places ``values`` at arbitrary flat positions ``where`` of an (N, H, W, C) zero tensor.

    The plain scatter-add reference, needing no window geometry (duplicates are summed, like
    ``tf.scatter_nd``). Positions outside ``[0, H*W*C)`` are dropped.
    """
    height, width = _pair("output_size", output_size)
    values, where = ops.convert_to_tensor(values), ops.convert_to_tensor(where)
    channels = values.shape[-1]
    per_sample = height * width * channels
    batch = ops.shape(values)[0]
    where = ops.cast(ops.reshape(where, (batch, -1)), "int32")
    valid = ops.logical_and(where >= 0, where < per_sample)
    offsets = ops.expand_dims(ops.arange(batch, dtype="int32") * per_sample, -1)
    total = batch * per_sample
    ids = ops.where(valid, where + offsets, total)
    out = ops.segment_sum(ops.reshape(values, (-1,)), ops.reshape(ids, (-1,)),
                          num_segments=total + 1)[:total]
    return ops.reshape(out, (batch, height, width, channels))


def where_to_coordinates(where, width, channels):
    """Flat ``where`` -> (row, column) int32 tensors in the pre-pool input."""
    where = ops.cast(where, "int32")
    return where // (width * channels), (where // channels) % width


# --------------------------------------------------------------------------------------------
# Soft pair (Goroshin et al. 2015, SWWAE §3.1)


def soft_max_pool_with_argmax(x, beta, pool_size=2, strides=None, padding="valid"):
    """Soft max and soft argmax over each pooling window at inverse temperature ``beta``.

    With ``w = softmax(beta * z)`` over the window's cells ``z``: the soft max ("what") is
    ``sum(w * z)`` and the soft argmax ("where") is ``sum(w * (row, col))`` in the pre-pool
    input's coordinates (continuous; padded cells get zero weight). As ``beta`` grows they tend
    to :func:`max_pool_with_argmax`'s value and position (for a unique maximum).

    Returns:
        ``(pooled, positions)``: (N, Ho, Wo, C) and (N, Ho, Wo, C, 2) floats, ``[..., 0]`` the
        row and ``[..., 1]`` the column.
    """
    x = ops.convert_to_tensor(x)
    g = pool_geometry(x.shape, pool_size, strides, padding)
    dtype = x.dtype
    windows = _extract_windows(x, g, 0.0)
    logits = windows * ops.cast(beta, dtype)
    if g.pad_top or g.pad_bottom or g.pad_left or g.pad_right:
        real = _extract_windows(ops.ones((1, g.height, g.width, 1), dtype), g, 0.0)
        logits = logits + (1.0 - real) * ops.cast(-1e30, dtype)
    weights = ops.softmax(logits, axis=-1)
    pooled = ops.sum(weights * windows, axis=-1)
    cell_rows, cell_cols = (ops.convert_to_tensor(v.astype(keras.backend.standardize_dtype(dtype)))
                            for v in g.cell_offsets())
    (sh, sw) = g.strides
    top = (np.arange(g.out_height) * sh - g.pad_top).astype("float32")[:, None, None]
    left = (np.arange(g.out_width) * sw - g.pad_left).astype("float32")[None, :, None]
    rows = ops.sum(weights * cell_rows, axis=-1) + ops.cast(top, dtype)
    cols = ops.sum(weights * cell_cols, axis=-1) + ops.cast(left, dtype)
    return pooled, ops.stack([rows, cols], axis=-1)


def soft_unpool(values, positions, output_size, pool_size=2, strides=None, padding="valid"):
    """Differentiable unpooling: bilinear splatting of each value at its continuous position.

    Each value is spread over the cells of its own window with weights
    ``max(0, 1 - |row - r|) * max(0, 1 - |col - c|)`` (the four cells around the position, or
    one cell when the position is integral, where it matches hard unpooling). Differentiable in
    both ``values`` and ``positions``.
    """
    height, width = _pair("output_size", output_size)
    values, positions = ops.convert_to_tensor(values), ops.convert_to_tensor(positions)
    channels = values.shape[-1]
    g = pool_geometry((None, height, width, channels), pool_size, strides, padding)
    dtype = values.dtype
    (sh, sw) = g.strides
    top = ops.cast((np.arange(g.out_height) * sh - g.pad_top).astype("float32")[:, None, None], dtype)
    left = ops.cast((np.arange(g.out_width) * sw - g.pad_left).astype("float32")[None, :, None], dtype)
    in_row = ops.expand_dims(positions[..., 0] - top, -1)
    in_col = ops.expand_dims(positions[..., 1] - left, -1)
    cell_rows, cell_cols = (ops.convert_to_tensor(v.astype(keras.backend.standardize_dtype(dtype)))
                            for v in g.cell_offsets())
    splat = (ops.relu(1.0 - ops.abs(in_row - cell_rows))
             * ops.relu(1.0 - ops.abs(in_col - cell_cols)))
    return _fold_windows(ops.expand_dims(values, -1) * splat, g)


# --------------------------------------------------------------------------------------------
# PyTorch fast path (see the module docstring and benchmarks/bench_pooling.py)


def _torch_max_pool_with_argmax(x, g):
    import torch
    import torch.nn.functional as F

    channels = x.shape[-1]
    # An NHWC tensor permuted to NCHW is "channels_last" in memory, which max_pool2d handles
    # without a copy; its output permuted back is NHWC-contiguous.
    nchw = x.permute(0, 3, 1, 2)
    channel = torch.arange(channels, device=x.device).view(1, channels, 1, 1)
    if g.pad_top == 0 and g.pad_left == 0:
        # Padding only at the bottom/right is ceil_mode, and torch's index then already counts
        # rows of the unpadded plane: where = index * C + c.
        pooled, index = F.max_pool2d(nchw, g.pool_size, g.strides, ceil_mode=g.padding == "same",
                                     return_indices=True)
        where = index * channels + channel
    else:
        nchw = F.pad(nchw, (g.pad_left, g.pad_right, g.pad_top, g.pad_bottom), value=-math.inf)
        padded_width = nchw.shape[-1]
        pooled, index = F.max_pool2d(nchw, g.pool_size, g.strides, return_indices=True)
        rows = torch.div(index, padded_width, rounding_mode="floor") - g.pad_top
        cols = index % padded_width - g.pad_left
        where = (rows * g.width + cols) * channels + channel
    return pooled.permute(0, 2, 3, 1), where.to(torch.int32).permute(0, 2, 3, 1)


def _torch_unpool_with_argmax(values, where, g):
    # ``where`` already is a flat index into each NHWC sample: one scatter per sample, whose
    # gradient is a gather (torch's max_unpool2d would need NCHW planes and index conversion).
    batch = values.shape[0]
    flat = values.new_zeros((batch, g.height * g.width * values.shape[-1]))
    flat = flat.scatter_add(1, where.reshape(batch, -1).long(), values.reshape(batch, -1))
    return flat.view(batch, g.height, g.width, values.shape[-1])
