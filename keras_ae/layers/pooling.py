"""What-where pooling layers (SWWAE, deconvnet visualisation): pool keeping the argmax, unpool
back to it, and the soft (differentiable) pair.

The math lives in :mod:`keras_ae.ops.whatwhere` (conventions, padding, fast paths). ``where``
follows ``tf.nn.max_pool_with_argmax(..., include_batch_in_index=False)``, so switches computed
by TensorFlow code can be unpooled here and the other way round.
"""

import keras
from keras import ops

from keras_ae.ops import whatwhere

__all__ = ["MaxPoolWithArgmax2D", "Unpool2D", "SoftMaxPoolWithArgmax2D", "SoftUnpool2D"]


def _check_image_shape(name, shape):
    if len(shape) != 4:
        raise ValueError(f"{name} must be 4-D (batch, height, width, channels), got shape "
                         f"{tuple(shape)}.")


def _check_output_size(output_size):
    if output_size is None:
        return None
    return list(whatwhere._pair("output_size", output_size))


def _check_beta(beta):
    if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
        raise ValueError(f"beta must be a positive number, got {beta!r}.")
    return float(beta)


class _PoolingGeometryLayer(keras.layers.Layer):
    def __init__(self, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(**kwargs)
        pool, stride, pad = whatwhere.normalize_pool_args(pool_size, strides, padding)
        self.pool_size, self.strides, self.padding = list(pool), list(stride), pad

    def _pooled_shape(self, input_shape):
        g = whatwhere.pool_geometry(input_shape, self.pool_size, self.strides, self.padding)
        return (input_shape[0], g.out_height, g.out_width, input_shape[3])

    def _unpooled_size(self, pooled_shape):
        """``output_size`` if given, else the smallest input size pooling to ``pooled_shape``."""
        if self.output_size is not None:
            return tuple(self.output_size)
        (ph, pw), (sh, sw) = self.pool_size, self.strides
        ho, wo = pooled_shape[1], pooled_shape[2]
        if ho is None or wo is None:
            raise ValueError(f"unpooling needs a static height and width, got {tuple(pooled_shape)}.")
        if self.padding == "same":
            return ho * sh, wo * sw
        return (ho - 1) * sh + ph, (wo - 1) * sw + pw

    def get_config(self):
        return {**super().get_config(), "pool_size": self.pool_size, "strides": self.strides,
                "padding": self.padding}


@keras.saving.register_keras_serializable(package="keras_ae")
class MaxPoolWithArgmax2D(_PoolingGeometryLayer):
    """Max pooling returning ``[pooled, where]``: SWWAE's "what" and "where".

    ``where`` is int32, the flat index ``(y * W + x) * C + c`` of each max in its sample's
    pre-pool input (``tf.nn.max_pool_with_argmax`` with ``include_batch_in_index=False``). Ties
    go to the first maximum in row-major window order; the gradient reaches only that position.

    Args:
        pool_size: int or (rows, cols).
        strides: int, pair, or None (= ``pool_size``).
        padding: ``"same"`` (output ``ceil(H / s)``; odd sizes are padded, padding never wins)
            or ``"valid"`` (output ``floor((H - p) / s) + 1``; trailing rows/columns that fill
            no window are ignored, as in TensorFlow, and unpool to zeros).
        implementation: ``"auto"`` uses PyTorch's own kernels under the torch backend (faster,
            see ``benchmarks/bench_pooling.py``), ``"portable"`` forces the ``keras.ops`` code.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", implementation="auto",
                 **kwargs):
        super().__init__(pool_size, strides, padding, **kwargs)
        if implementation not in ("auto", "portable"):
            raise ValueError(f"implementation must be 'auto' or 'portable', got {implementation!r}.")
        self.implementation = implementation
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        return list(whatwhere.max_pool_with_argmax(inputs, self.pool_size, self.strides,
                                                   self.padding, self.implementation))

    def compute_output_shape(self, input_shape):
        shape = self._pooled_shape(input_shape)
        return [shape, shape]

    def compute_output_spec(self, inputs):
        shape = self._pooled_shape(inputs.shape)
        return [keras.KerasTensor(shape, dtype=inputs.dtype), keras.KerasTensor(shape, dtype="int32")]

    def get_config(self):
        return {**super().get_config(), "implementation": self.implementation}


@keras.saving.register_keras_serializable(package="keras_ae")
class Unpool2D(_PoolingGeometryLayer):
    """``[values, where] -> unpooled``: each value at the position ``where`` names, zeros elsewhere.

    The inverse placement of :class:`MaxPoolWithArgmax2D` with the same ``pool_size``,
    ``strides`` and ``padding`` (``where`` int32 or int64, from this library or from
    ``tf.nn.max_pool_with_argmax``). Its gradient with respect to ``values`` gathers at ``where``.

    Args:
        output_size: ``(H, W)`` of the pre-pool input. Needed when pooling dropped or padded
            rows (odd sizes); ``None`` infers the smallest size that pools to the input's.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", output_size=None,
                 implementation="auto", **kwargs):
        super().__init__(pool_size, strides, padding, **kwargs)
        self.output_size = _check_output_size(output_size)
        if implementation not in ("auto", "portable"):
            raise ValueError(f"implementation must be 'auto' or 'portable', got {implementation!r}.")
        self.implementation = implementation

    def _check_inputs(self, values_shape, where_shape):
        _check_image_shape("values", values_shape)
        if len(where_shape) != 4 or any(
                a is not None and b is not None and a != b
                for a, b in zip(values_shape, where_shape)):
            raise ValueError(f"where must have the shape of values {tuple(values_shape)}, got "
                             f"{tuple(where_shape)}.")

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("Unpool2D takes [values, where].")
        values, where = inputs
        if "int" not in str(keras.backend.standardize_dtype(where.dtype)):
            raise TypeError(f"where must be an integer tensor (int32 or int64), got {where.dtype}.")
        self._check_inputs(values.shape, where.shape)
        return whatwhere.unpool_with_argmax(values, where, self._unpooled_size(values.shape),
                                            self.pool_size, self.strides, self.padding,
                                            self.implementation)

    def compute_output_shape(self, input_shape):
        values_shape, where_shape = input_shape
        self._check_inputs(values_shape, where_shape)
        height, width = self._unpooled_size(values_shape)
        return (values_shape[0], height, width, values_shape[3])

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size,
                "implementation": self.implementation}


@keras.saving.register_keras_serializable(package="keras_ae")
class SoftMaxPoolWithArgmax2D(_PoolingGeometryLayer):
    """Soft what-where pooling (SWWAE §3.1): ``x -> [soft_max, soft_argmax]``.

    Within each window ``w = softmax(beta * z)``; "what" is ``sum(w * z)`` and "where" the
    expected position ``sum(w * (row, col))`` in the pre-pool input's coordinates, a float
    tensor (N, Ho, Wo, C, 2). Both are differentiable; as ``beta`` grows they tend to the hard
    max and argmax.

    Args:
        beta: inverse temperature (the paper quotes about 100 for inputs in [0, 1]).
        pool_size, strides, padding: as :class:`MaxPoolWithArgmax2D`.
    """

    def __init__(self, beta=100.0, pool_size=2, strides=None, padding="valid", **kwargs):
        super().__init__(pool_size, strides, padding, **kwargs)
        self.beta = _check_beta(beta)
        self.input_spec = keras.layers.InputSpec(ndim=4)

    def call(self, inputs):
        return list(whatwhere.soft_max_pool_with_argmax(inputs, self.beta, self.pool_size,
                                                        self.strides, self.padding))

    def compute_output_shape(self, input_shape):
        shape = self._pooled_shape(input_shape)
        return [shape, shape + (2,)]

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


@keras.saving.register_keras_serializable(package="keras_ae")
class SoftUnpool2D(_PoolingGeometryLayer):
    """``[values, positions] -> unpooled``: bilinear splatting of each value at its continuous
    position (from :class:`SoftMaxPoolWithArgmax2D`) onto its window's cells.

    At integral positions it is exactly hard unpooling. Differentiable in values and positions.

    Args:
        output_size: as :class:`Unpool2D`.
    """

    def __init__(self, pool_size=2, strides=None, padding="valid", output_size=None, **kwargs):
        super().__init__(pool_size, strides, padding, **kwargs)
        self.output_size = _check_output_size(output_size)

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("SoftUnpool2D takes [values, positions].")
        values, positions = inputs
        self._check_inputs(values.shape, positions.shape)
        return whatwhere.soft_unpool(values, ops.cast(positions, values.dtype),
                                     self._unpooled_size(values.shape), self.pool_size,
                                     self.strides, self.padding)

    def _check_inputs(self, values_shape, positions_shape):
        _check_image_shape("values", values_shape)
        if len(positions_shape) != 5 or positions_shape[-1] != 2:
            raise ValueError(f"positions must have shape values.shape + (2,), got "
                             f"{tuple(positions_shape)}.")

    def compute_output_shape(self, input_shape):
        values_shape, positions_shape = input_shape
        self._check_inputs(values_shape, positions_shape)
        height, width = self._unpooled_size(values_shape)
        return (values_shape[0], height, width, values_shape[3])

    def get_config(self):
        return {**super().get_config(), "output_size": self.output_size}
