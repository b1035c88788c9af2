"""Unrolled recurrent encoders (PAPERS.md §3, Rolfe & LeCun 2013).

``UnrolledSparseEncoder`` runs ``steps`` iterations of ``z ← relu(x @ kernel + z @ recurrent_kernel
+ bias)`` from ``z = 0`` with the three weights shared by every iteration. With
``kernel = α·D``, ``recurrent_kernel = I − α·DᵀD`` and ``bias = −α·λ`` (D: the dictionary, one atom
per column) it is exactly non-negative ISTA for ``min ½||x − Dz||² + λ||z||₁, z ≥ 0``.

Sign convention: the paper writes ``max(0, E·x + S·z − b)`` with ``b = α·λ``; here ``bias`` is
*added*, so ``bias = −b``.
"""

import keras
from keras import ops

__all__ = ["UnrolledSparseEncoder", "ista_weights"]


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return value


def _scaled_gradient(variable, scale):
    """``variable``'s value with its gradient multiplied by ``scale``.

    Written as ``stop_gradient(w) + scale·(w − stop_gradient(w))`` rather than
    ``w·scale + stop_gradient(w·(1 − scale))`` because the forward value is then exactly ``w``
    (``w − w`` is exactly 0 in floating point; ``w/11 + 10w/11`` is not always ``w``).
    """
    if scale == 1.0:
        return variable
    value = ops.convert_to_tensor(variable)
    frozen = ops.stop_gradient(value)
    return frozen + scale * (value - frozen)


def ista_weights(dictionary, alpha, sparsity):
    """``(kernel, recurrent_kernel, bias)`` NumPy arrays making the encoder non-negative ISTA.

    Args:
        dictionary: ``D``, shape (input_dim, units): one atom per column.
        alpha: ISTA's step size (converges for ``alpha ≤ 1 / ||D||₂²``).
        sparsity: λ of ``½||x − Dz||² + λ||z||₁``.
    """
    import numpy as np

    d = np.asarray(dictionary, dtype="float64")
    if d.ndim != 2:
        raise ValueError(f"dictionary must be 2-D (input_dim, units), got shape {d.shape}.")
    units = d.shape[1]
    kernel = alpha * d
    recurrent = np.eye(units) - alpha * d.T @ d
    bias = np.full((units,), -alpha * sparsity)
    return kernel.astype("float32"), recurrent.astype("float32"), bias.astype("float32")


@keras.saving.register_keras_serializable(package="keras_ae")
class UnrolledSparseEncoder(keras.layers.Layer):
    """``steps`` iterations of ``z ← relu(x @ kernel + z @ recurrent_kernel + bias)`` from z = 0.

    Args:
        units: size of the code z.
        steps: number of iterations T (the paper: 11).
        return_sequences: return every iterate, shape (batch, steps, units), instead of the last
            one, shape (batch, units).
        scale_shared_gradients: divide each shared weight's gradient by the number of times the
            unrolled graph uses it, as the paper divides their learning rates. ``kernel`` and
            ``bias`` are used ``steps`` times; ``recurrent_kernel`` only ``steps − 1`` times, since
            the first step starts from z = 0 and skips it. With plain SGD this equals dividing
            the learning rates; Adam-like optimisers are (nearly) invariant to a constant gradient
            scale, so it then changes little.
        kernel_initializer, recurrent_initializer, bias_initializer: initialisers. The recurrent
            kernel starts at zero by default, so the untrained layer is one ReLU layer and the
            iteration cannot blow up before training.
        kernel_constraint, recurrent_constraint, bias_constraint: Keras constraints (e.g. the
            paper's bound on the rows of E is ``MaxNorm(1.25 / (steps − 1), axis=0)`` on
            ``kernel``, whose columns are E's rows).
        kernel_regularizer, recurrent_regularizer, bias_regularizer: Keras regularisers.

    Input: (batch, input_dim). Flatten images first (``keras.layers.Flatten``).
    """

    def __init__(self, units, steps=11, return_sequences=False, scale_shared_gradients=False,
                 kernel_initializer="glorot_uniform", recurrent_initializer="zeros",
                 bias_initializer="zeros", kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_positive_int("units", units)
        self.steps = _check_positive_int("steps", steps)
        self.return_sequences = bool(return_sequences)
        self.scale_shared_gradients = bool(scale_shared_gradients)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.recurrent_initializer = keras.initializers.get(recurrent_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_constraint = keras.constraints.get(kernel_constraint)
        self.recurrent_constraint = keras.constraints.get(recurrent_constraint)
        self.bias_constraint = keras.constraints.get(bias_constraint)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = keras.regularizers.get(recurrent_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.input_spec = keras.layers.InputSpec(ndim=2)

    @property
    def uses(self):
        """How many times the unrolled graph uses each weight: {name: count}."""
        return {"kernel": self.steps, "recurrent_kernel": self.steps - 1, "bias": self.steps}

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(
                f"UnrolledSparseEncoder expects inputs of rank 2 (batch, features), got shape "
                f"{tuple(input_shape)}; flatten images first.")
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError("UnrolledSparseEncoder needs a known feature size (last axis).")
        self.input_spec = keras.layers.InputSpec(ndim=2, axes={-1: input_dim})
        self.kernel = self.add_weight(
            shape=(input_dim, self.units), initializer=self.kernel_initializer,
            constraint=self.kernel_constraint, regularizer=self.kernel_regularizer, name="kernel")
        self.recurrent_kernel = self.add_weight(
            shape=(self.units, self.units), initializer=self.recurrent_initializer,
            constraint=self.recurrent_constraint, regularizer=self.recurrent_regularizer,
            name="recurrent_kernel")
        self.bias = self.add_weight(
            shape=(self.units,), initializer=self.bias_initializer,
            constraint=self.bias_constraint, regularizer=self.bias_regularizer, name="bias")

    def _effective_weights(self):
        if not self.scale_shared_gradients:
            return self.kernel, self.recurrent_kernel, self.bias
        uses = self.uses
        return (_scaled_gradient(self.kernel, 1.0 / uses["kernel"]),
                _scaled_gradient(self.recurrent_kernel, 1.0 / max(uses["recurrent_kernel"], 1)),
                _scaled_gradient(self.bias, 1.0 / uses["bias"]))

    def call(self, inputs):
        kernel, recurrent_kernel, bias = self._effective_weights()
        # The input drive x @ kernel + bias is the same at every step: compute it once.
        drive = ops.add(ops.matmul(inputs, kernel), bias)
        z = ops.relu(drive)
        iterates = [z]
        for _ in range(self.steps - 1):
            z = ops.relu(drive + ops.matmul(z, recurrent_kernel))
            iterates.append(z)
        if self.return_sequences:
            return ops.stack(iterates, axis=1)
        return z

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], self.steps, self.units)
        return (input_shape[0], self.units)

    def get_config(self):
        ser = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "units": self.units,
            "steps": self.steps,
            "return_sequences": self.return_sequences,
            "scale_shared_gradients": self.scale_shared_gradients,
            "kernel_initializer": ser(self.kernel_initializer),
            "recurrent_initializer": ser(self.recurrent_initializer),
            "bias_initializer": ser(self.bias_initializer),
            "kernel_constraint": ser(self.kernel_constraint),
            "recurrent_constraint": ser(self.recurrent_constraint),
            "bias_constraint": ser(self.bias_constraint),
            "kernel_regularizer": ser(self.kernel_regularizer),
            "recurrent_regularizer": ser(self.recurrent_regularizer),
            "bias_regularizer": ser(self.bias_regularizer),
        }
