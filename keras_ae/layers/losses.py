"""Loss layers: add reconstruction / sparsity terms with ``add_loss`` inside functional models.

Keras 3 functional models cannot take ``model.add_loss(symbolic_tensor)``; a layer calling
``self.add_loss`` in ``call`` works on every backend and its terms reach ``model.losses`` and
the trained loss. Each layer's weight is a non-trainable variable, so a callback can change it
during training (``layer.set_weight(0.0)``) without rebuilding or recompiling the model.
"""

import keras
from keras import ops

__all__ = ["ReconstructionLoss", "ActivityL1"]

_REDUCTIONS = ("mean", "sum")
_ERRORS = ("squared", "binary_crossentropy")


def _check_weight(weight):
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
        raise ValueError(f"weight must be a non-negative number, got {weight!r}.")
    return float(weight)


class _WeightedLoss(keras.layers.Layer):
    def __init__(self, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        self.weight = _check_weight(weight)
        self.loss_weight = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.weight), trainable=False,
            name="loss_weight")

    def set_weight(self, value):
        """Changes the term's weight in place (e.g. from a callback between training phases)."""
        self.loss_weight.assign(_check_weight(value))

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="keras_ae")
class ReconstructionLoss(_WeightedLoss):
    """``[target, prediction] -> prediction``, adding ``weight · ||target − prediction||²``
    (or, with ``error="binary_crossentropy"``, the cross-entropy of ``prediction`` in (0, 1)
    against ``target`` in [0, 1], for sigmoid outputs).

    Args:
        weight: the term's weight (λ).
        reduction: ``"mean"`` averages the squared error over features and batch (Torch's
            ``MSECriterion``, the usual choice for SWWAE's λ's); ``"sum"`` sums over features and
            averages over the batch (the ``½||x − Dz||²`` of sparse coding with ``scale=0.5``).
        scale: a constant factor applied before the weight (e.g. 0.5).
        stop_target_gradient: treat the target as a constant.
        error: ``"squared"`` (default) or ``"binary_crossentropy"``.
    """

    def __init__(self, weight=1.0, reduction="mean", scale=1.0, stop_target_gradient=False,
                 error="squared", **kwargs):
        super().__init__(weight=weight, **kwargs)
        if reduction not in _REDUCTIONS:
            raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")
        if error not in _ERRORS:
            raise ValueError(f"error must be one of {_ERRORS}, got {error!r}.")
        self.reduction = reduction
        self.error = error
        self.scale = float(scale)
        self.stop_target_gradient = bool(stop_target_gradient)

    def call(self, inputs):
        target, prediction = inputs
        if self.stop_target_gradient:
            target = ops.stop_gradient(target)
        target = ops.cast(target, prediction.dtype)
        if self.error == "squared":
            sq = ops.square(target - prediction)
        else:
            sq = ops.binary_crossentropy(target, prediction)
        axes = tuple(range(1, len(sq.shape)))
        per_sample = ops.mean(sq, axis=axes) if self.reduction == "mean" else ops.sum(sq, axis=axes)
        self.add_loss(self.loss_weight * self.scale * ops.mean(per_sample))
        return prediction

    def compute_output_shape(self, input_shape):
        return input_shape[1]

    def get_config(self):
        return {**super().get_config(), "reduction": self.reduction, "scale": self.scale,
                "stop_target_gradient": self.stop_target_gradient, "error": self.error}


@keras.saving.register_keras_serializable(package="keras_ae")
class ActivityL1(_WeightedLoss):
    """``z -> z``, adding ``weight · mean over the batch of ||z||₁`` (sparsity penalty)."""

    def call(self, inputs):
        axes = tuple(range(1, len(inputs.shape)))
        self.add_loss(self.loss_weight * ops.mean(ops.sum(ops.abs(inputs), axis=axes)))
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
