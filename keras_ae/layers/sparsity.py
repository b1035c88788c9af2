"""Winner-take-all sparsity (Makhzani & Frey 2015): lifetime and spatial, active in training only.

Both layers multiply their input by a 0/1 mask computed from a gradient-stopped copy of it, so
the kept entries pass their value and their gradient unchanged and every other entry is zero
with zero gradient. At inference (``training`` false) both are the identity: the paper evaluates
plain ReLU features. With ``at_inference=True`` they apply their sparsity at inference too: the
WTA models' reconstruction view (``reconstruct``) decodes codes as sparse as those the decoder
was trained on.

Conv-WTA is ``SpatialWTA()`` followed by ``LifetimeTopK(k)``: the spatial winner of each
(sample, map) is kept only if it is among the ``k`` largest winners of that map in the batch.
"""

import itertools
import math

import keras
from keras import ops

__all__ = ["LifetimeTopK", "SpatialWTA", "lifetime_survivor_count", "smallest_sparse_batch"]


def _check_k(k):
    if isinstance(k, bool) or not isinstance(k, (int, float)) or not 0.0 < k <= 1.0:
        raise ValueError(f"k must be a number in (0, 1] (the fraction of the batch each unit "
                         f"keeps), got {k!r}.")
    return float(k)


def _check_flag(name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return value


def smallest_sparse_batch(k):
    """The smallest batch in which :class:`LifetimeTopK` ``(k)`` keeps fewer entries per unit
    than the batch holds (1 for ``k = 1``, which keeps everything anyway)."""
    k = _check_k(k)
    if k >= 1.0:
        return 1
    # ceil(k·b) < b needs b > 1/(1 - k): start just below that bound
    return next(b for b in itertools.count(max(2, int(1.0 / (1.0 - k)) - 2))
                if lifetime_survivor_count(k, b) < b)


def lifetime_survivor_count(k, batch_size):
    """``max(1, ceil(k · batch_size))``, the number of winners per unit for a static batch.

    The product is rounded to 6 decimals first so that e.g. ``0.07 · 100`` (``7.000000000000001``
    in floating point) gives 7, not 8.
    """
    return max(1, math.ceil(round(k * batch_size, 6)))


@keras.saving.register_keras_serializable(package="keras_ae")
class LifetimeTopK(keras.layers.Layer):
    """Lifetime sparsity: in training each unit keeps only its ``k`` fraction of largest
    activations across the mini-batch.

    With ``B`` the batch size, each unit keeps ``K = max(1, ceil(k·B))`` winners.

    * Rank 2 input ``(B, units)``: a unit is a column; the entries of a column that are at least
      its ``K``-th largest value are kept, the rest zeroed.
    * Rank ≥ 3 input ``(B, ..., channels)`` (feature maps): a unit is a channel, and a sample's
      activation for that channel is the maximum of its map. Each channel keeps the whole maps
      of the ``K`` samples with the largest maxima and zeroes the maps of the others. After
      :class:`SpatialWTA` each map holds one non-zero value, its winner, so this is the paper's
      Conv-WTA rule: lifetime sparsity over the spatial winners.

    Ties: an entry equal to the ``K``-th largest value is kept, so a unit keeps more than ``K``
    entries only when several tie at its threshold (with ReLU inputs that is almost always at 0,
    where keeping or zeroing gives the same output and the same gradient). This rule is the
    same on every backend, unlike the order ``top_k`` gives equal values.

    Gradients flow only through the kept entries. At inference the layer is the identity,
    unless ``at_inference`` is true.

    Args:
        k: fraction of the batch each unit keeps, in (0, 1]; ``k = 1`` keeps everything.
        at_inference: apply the sparsity at inference as well (default false: the identity
            there). The result then depends on the other samples of the batch, as in training.

    Raises:
        ValueError: ``k`` outside (0, 1]; input of rank < 2; when the sparsity applies, a batch
            whose size is known and so small that ``K == B`` with ``k < 1`` (e.g. a
            single-sample batch), where the layer could not be sparse: use larger batches
            (``drop_remainder=True`` avoids a small last batch). With a batch size unknown while
            tracing (TensorFlow graphs), the check cannot run and such a batch keeps everything.
    """

    def __init__(self, k=0.05, at_inference=False, **kwargs):
        super().__init__(**kwargs)
        self.k = _check_k(k)
        self.at_inference = _check_flag("at_inference", at_inference)

    def build(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"LifetimeTopK expects inputs of rank >= 2 (batch, ..., units), got "
                             f"shape {tuple(input_shape)}.")

    def _survivor_count(self, inputs):
        batch = inputs.shape[0]
        if isinstance(batch, int):
            count = lifetime_survivor_count(self.k, batch)
            if count >= batch and self.k < 1.0:
                smallest = smallest_sparse_batch(self.k)
                raise ValueError(
                    f"LifetimeTopK(k={self.k}) got a batch of size {batch}: it keeps "
                    f"max(1, ceil(k·batch)) = {count} of {batch} activations per unit, i.e. all "
                    f"of them. Use a batch size of at least {smallest} "
                    f"(and drop_remainder=True so the last batch is not smaller).")
            return count
        batch = ops.cast(ops.shape(inputs)[0], "float32")
        count = ops.ceil(ops.round(batch * self.k * 1e6) / 1e6)
        return ops.cast(ops.maximum(count, 1.0), "int32")

    def call(self, inputs, training=False):
        if not (training or self.at_inference) or self.k >= 1.0:
            return inputs
        count = self._survivor_count(inputs)
        scores = ops.stop_gradient(inputs)
        if len(inputs.shape) > 2:
            scores = ops.max(scores, axis=tuple(range(1, len(inputs.shape) - 1)))
        # top_k ranks along the last axis only: rank each unit's column across the batch.
        largest, _ = ops.top_k(ops.transpose(scores), count, sorted=True)
        threshold = largest[:, -1]
        keep = ops.cast(scores >= threshold, inputs.dtype)
        if len(inputs.shape) > 2:
            keep = ops.reshape(keep, (-1,) + (1,) * (len(inputs.shape) - 2) + (keep.shape[-1],))
        return inputs * keep

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "k": self.k, "at_inference": self.at_inference}


@keras.saving.register_keras_serializable(package="keras_ae")
class SpatialWTA(keras.layers.Layer):
    """Spatial sparsity: in training each sample keeps, in each channel, only the largest
    activation of its feature map; every other position is zeroed, with its gradient.

    Input ``(B, ..., channels)`` of rank ≥ 3 (``(B, H, W, C)`` feature maps, or ``(B, L, C)``
    sequences); the spatial axes are those between batch and channels.

    Ties: exactly one position survives per (sample, channel), the first maximum in row-major
    (C) order of the spatial axes, on every backend. Keeping every tied
    position instead would let a constant background (the same ReLU response at every blank
    pixel) keep whole maps dense.

    At inference the layer is the identity, unless ``at_inference`` is true.

    Args:
        at_inference: apply the sparsity at inference as well (default false).
    """

    def __init__(self, at_inference=False, **kwargs):
        super().__init__(**kwargs)
        self.at_inference = _check_flag("at_inference", at_inference)

    def build(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"SpatialWTA expects feature maps of rank >= 3 (batch, ..., "
                             f"channels), got shape {tuple(input_shape)}.")
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"SpatialWTA needs known spatial and channel sizes, got shape "
                             f"{tuple(input_shape)}.")

    def call(self, inputs, training=False):
        if not (training or self.at_inference):
            return inputs
        scores = ops.stop_gradient(inputs)
        spatial_shape = tuple(inputs.shape[1:-1])
        spatial_axes = tuple(range(1, len(inputs.shape) - 1))
        largest = ops.max(scores, axis=spatial_axes, keepdims=True)
        # The first maximum's position, found with max/min reductions and comparisons: an
        # argmax + one_hot formulation gave the same result 6x slower under JAX on CPU.
        size = math.prod(spatial_shape)
        position = ops.reshape(ops.arange(size, dtype="int32"), (1,) + spatial_shape + (1,))
        first = ops.min(ops.where(scores >= largest, position, size), axis=spatial_axes,
                        keepdims=True)
        return inputs * ops.cast(position == first, inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "at_inference": self.at_inference}
