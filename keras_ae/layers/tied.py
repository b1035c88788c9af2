"""A dense layer usable in both directions: the tied-weights encoder/decoder pair of an
autoencoder (FC-WTA's tied decoder)."""

import keras
from keras import ops

from keras_ae import checks

__all__ = ["TiedDense"]


@keras.saving.register_keras_serializable(package="keras_ae")
class TiedDense(keras.layers.Layer):
    """A dense layer usable in both directions, for autoencoders with tied weights.

    Called on ``(..., input_dim)`` it computes ``x · W + b``; called again (the same layer
    object, typically in the decoder) on ``(..., units)`` it computes ``h · Wᵀ + c`` with its own
    decoding bias ``c``. The direction follows from the last axis of the input: when
    ``units == input_dim`` both directions have the same shape, so pass ``transpose`` explicitly
    there (the default, ``None``, picks the direction from the size).

    Args:
        units: size of the forward output.
        use_bias: add ``b`` (forward) and ``c`` (transposed).
        kernel_initializer: initializer of ``W`` (``input_dim × units``).
        bias_initializer: initializer of the forward bias ``b`` (``c`` starts at zero).
    """

    def __init__(self, units, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", **kwargs):
        super().__init__(**kwargs)
        self.units = checks.positive_int("units", units)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"TiedDense expects inputs (batch, ..., features) with a known "
                             f"feature size, got shape {tuple(input_shape)}.")
        self.input_dim = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(self.input_dim, self.units),
                                      initializer=self.kernel_initializer, name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.units,), initializer=self.bias_initializer,
                                        name="bias")
            self.decode_bias = self.add_weight(shape=(self.input_dim,), initializer="zeros",
                                               name="decode_bias")

    def _is_transposed(self, size, transpose):
        if transpose is not None:
            return bool(transpose)
        if size == self.input_dim:
            return False
        if size == self.units:
            return True
        raise ValueError(f"TiedDense({self.units}) built for {self.input_dim} inputs got "
                         f"{size} features: expected {self.input_dim} or {self.units}.")

    def call(self, inputs, transpose=None):
        if self._is_transposed(inputs.shape[-1], transpose):
            out = ops.matmul(inputs, ops.transpose(self.kernel))
            return out + self.decode_bias if self.use_bias else out
        out = ops.matmul(inputs, self.kernel)
        return out + self.bias if self.use_bias else out

    def compute_output_shape(self, input_shape):
        size = input_shape[-1]
        if not self.built or size == getattr(self, "input_dim", None):
            return tuple(input_shape[:-1]) + (self.units,)
        return tuple(input_shape[:-1]) + (self.input_dim,)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "use_bias": self.use_bias,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer)}
