"""Patch layers of masked autoencoders (He et al. 2021): images cut into patch tokens and back,
fixed 2-D sine-cosine position embeddings, random per-image masking, mask tokens, and the loss on
masked patches.

A token of a ``p × p`` patch of a ``(H, W, C)`` image is its pixels in row-major order, channels
last (``p · p · C`` numbers); patches are numbered row by row over the ``(H / p) × (W / p)`` grid.
"""

import keras
from keras import ops

from keras_ae import checks

__all__ = ["Patchify", "Unpatchify", "SinCosPositionEmbedding", "RandomPatchMasking",
           "MaskTokens", "MaskedPatchLoss", "sincos_position_table", "visible_count"]


def _patch_grid(height, width, patch_size, name="image size"):
    if height is None or width is None:
        raise ValueError(f"patches need a known {name}, got ({height}, {width}).")
    if height % patch_size or width % patch_size:
        raise ValueError(f"patch_size {patch_size} must divide the {name} ({height}, {width}).")
    return height // patch_size, width // patch_size


@keras.saving.register_keras_serializable(package="keras_ae")
class Patchify(keras.layers.Layer):
    """``(batch, H, W, C)`` images → ``(batch, (H/p)·(W/p), p·p·C)`` patch tokens.

    Args:
        patch_size: the side ``p`` of the square patches; it must divide ``H`` and ``W``.
    """

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = checks.positive_int("patch_size", patch_size)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(f"Patchify expects (batch, height, width, channels) images, got "
                             f"shape {tuple(input_shape)}.")
        _patch_grid(input_shape[1], input_shape[2], self.patch_size)

    def call(self, images):
        p = self.patch_size
        _, h, w, c = images.shape
        gh, gw = h // p, w // p
        x = ops.reshape(images, (-1, gh, p, gw, p, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, gh * gw, p * p * c))

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        gh, gw = _patch_grid(h, w, self.patch_size)
        return (b, gh * gw, self.patch_size * self.patch_size * c)

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size}


@keras.saving.register_keras_serializable(package="keras_ae")
class Unpatchify(keras.layers.Layer):
    """``(batch, N, p·p·C)`` patch tokens → ``(batch, H, W, C)`` images: :class:`Patchify`'s
    inverse.

    Args:
        patch_size: the side ``p`` of the square patches.
        image_shape: ``(H, W, C)`` of the images (``p`` must divide ``H`` and ``W``).
    """

    def __init__(self, patch_size, image_shape, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = checks.positive_int("patch_size", patch_size)
        self.image_shape = checks.input_shape(image_shape, name="image_shape")
        self.grid = _patch_grid(self.image_shape[0], self.image_shape[1], self.patch_size)

    def build(self, input_shape):
        p, c = self.patch_size, self.image_shape[2]
        expected = (self.grid[0] * self.grid[1], p * p * c)
        if len(input_shape) != 3 or tuple(input_shape[1:]) != expected:
            raise ValueError(f"Unpatchify({p}, image_shape={self.image_shape}) expects tokens of "
                             f"shape (batch, {expected[0]}, {expected[1]}), got {tuple(input_shape)}.")

    def call(self, tokens):
        p = self.patch_size
        gh, gw = self.grid
        c = self.image_shape[2]
        x = ops.reshape(tokens, (-1, gh, gw, p, p, c))
        x = ops.transpose(x, (0, 1, 3, 2, 4, 5))
        return ops.reshape(x, (-1, gh * p, gw * p, c))

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.image_shape

    def get_config(self):
        return {**super().get_config(), "patch_size": self.patch_size,
                "image_shape": list(self.image_shape)}


def sincos_position_table(grid_height, grid_width, dim, dtype="float32"):
    """The fixed 2-D sine-cosine position embedding of a ``grid_height × grid_width`` patch grid:
    a ``(grid_height · grid_width, dim)`` tensor, rows in :class:`Patchify`'s order.

    The first half of the channels encodes the patch's column, the second half its row; each
    half is ``[sin(pos · ω_0), …, sin(pos · ω_{m-1}), cos(pos · ω_0), …, cos(pos · ω_{m-1})]``
    with ``m = dim / 4`` and ``ω_i = 10000^(-i / m)`` (MAE's table). ``dim`` must be a multiple
    of 4.
    """
    checks.positive_int("grid_height", grid_height)
    checks.positive_int("grid_width", grid_width)
    if checks.positive_int("dim", dim) % 4:
        raise ValueError(f"dim must be a multiple of 4 for a 2-D sine-cosine embedding, got {dim}.")
    m = dim // 4
    omega = 1.0 / ops.power(10000.0, ops.arange(m, dtype="float32") / m)
    rows = ops.repeat(ops.arange(grid_height, dtype="float32"), grid_width)
    cols = ops.tile(ops.arange(grid_width, dtype="float32"), [grid_height])

    def half(pos):
        angles = pos[:, None] * omega[None, :]
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=1)

    return ops.cast(ops.concatenate([half(cols), half(rows)], axis=1), dtype)


@keras.saving.register_keras_serializable(package="keras_ae")
class SinCosPositionEmbedding(keras.layers.Layer):
    """Adds the fixed 2-D sine-cosine table (:func:`sincos_position_table`) to patch tokens.

    Input ``(batch, grid_height · grid_width, dim)``, ``dim`` a multiple of 4; same output shape.
    The table has no trainable weights.

    Args:
        grid_size: ``(grid_height, grid_width)``, the patch grid.
    """

    def __init__(self, grid_size, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(grid_size, (list, tuple)) or len(grid_size) != 2:
            raise ValueError(f"grid_size must be (grid_height, grid_width), got {grid_size!r}.")
        self.grid_size = tuple(checks.positive_int("grid_size", g) for g in grid_size)

    def build(self, input_shape):
        n = self.grid_size[0] * self.grid_size[1]
        if len(input_shape) != 3 or input_shape[1] != n or input_shape[2] is None:
            raise ValueError(f"SinCosPositionEmbedding(grid_size={self.grid_size}) expects tokens "
                             f"(batch, {n}, dim), got shape {tuple(input_shape)}.")
        self.dim = int(input_shape[2])
        sincos_position_table(*self.grid_size, self.dim)  # checks dim

    def call(self, tokens):
        table = sincos_position_table(*self.grid_size, self.dim, dtype=tokens.dtype)
        return tokens + table[None]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "grid_size": list(self.grid_size)}


_INFERENCE_MASKS = ("none", "random", "fixed")


def visible_count(num_patches, mask_ratio):
    """How many of ``num_patches`` patches stay visible at ``mask_ratio``: ``int(N · (1 - r))``,
    at least 1 (MAE's rule)."""
    return max(1, int(num_patches * (1.0 - mask_ratio)))


@keras.saving.register_keras_serializable(package="keras_ae")
class RandomPatchMasking(keras.layers.Layer):
    """Random per-image masking of patch tokens, in training only.

    Called on tokens ``(batch, N, dim)`` it returns ``[visible, mask, restore]``:

    * ``visible``: ``(batch, K, dim)``, the ``K =`` :func:`visible_count` ``(N, mask_ratio)``
      tokens each image keeps, a uniformly random subset drawn independently per image, in a
      random order;
    * ``mask``: ``(batch, N)``, 1.0 where a patch is masked (dropped), 0.0 where visible;
    * ``restore``: ``(batch, N)`` int32, the permutation that puts ``concatenate([visible,
      dropped])`` back in patch order (``take_along_axis(shuffled, restore, axis=1)``).

    In training the draw comes from ``seed``'s ``SeedGenerator`` (each call draws anew). At
    inference (``training`` false) ``inference_masks`` decides:

    * ``"none"`` (default): nothing is masked: ``visible`` is every token in order, ``mask``
      zeros and ``restore`` the identity;
    * ``"random"``: masked as in training, fresh draws every call (MAE's pictures);
    * ``"fixed"``: masked by one draw from the integer ``seed`` (0 if ``None``) for a given
      batch shape, the same at every call: deterministic outputs, so a validation loss or a
      reloaded model's outputs can be compared.

    Args:
        mask_ratio: the fraction of patches masked, in [0, 1).
        seed: the random seed.
        inference_masks: ``"none"``, ``"random"`` or ``"fixed"``.
    """

    def __init__(self, mask_ratio=0.75, seed=None, inference_masks="none", **kwargs):
        super().__init__(**kwargs)
        self.mask_ratio = checks.fraction("mask_ratio", mask_ratio, low_open=False, high_open=True)
        self.inference_masks = checks.one_of("inference_masks", inference_masks, _INFERENCE_MASKS)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise TypeError(f"seed must be an int or None, got {seed!r}.")
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[1] is None:
            raise ValueError(f"RandomPatchMasking expects tokens (batch, patches, dim) with a "
                             f"known number of patches, got shape {tuple(input_shape)}.")

    def call(self, tokens, training=None):
        n = tokens.shape[1]
        if not training and self.inference_masks == "none":
            batch = ops.shape(tokens)[0]
            mask = ops.zeros((batch, n), dtype=tokens.dtype)
            restore = ops.broadcast_to(ops.arange(n, dtype="int32")[None], (batch, n))
            return [tokens, mask, restore]
        keep = visible_count(n, self.mask_ratio)
        fixed = not training and self.inference_masks == "fixed"
        noise = keras.random.uniform(ops.shape(tokens)[:2], seed=(self.seed or 0) if fixed
                                     else self.seed_generator)
        shuffle = ops.cast(ops.argsort(noise, axis=1), "int32")
        restore = ops.cast(ops.argsort(shuffle, axis=1), "int32")
        kept = shuffle[:, :keep]
        visible = ops.take_along_axis(tokens, kept[:, :, None], axis=1)
        # position j of the shuffled order is masked iff j >= keep
        masked_in_shuffled = ops.cast(ops.arange(n)[None, :] >= keep, tokens.dtype)
        mask = ops.take_along_axis(ops.broadcast_to(masked_in_shuffled, ops.shape(noise)),
                                   restore, axis=1)
        return [visible, mask, restore]

    def compute_output_shape(self, input_shape):
        # the number of tokens kept depends on the training flag: unknown to a symbolic graph
        b, n, d = input_shape
        k = visible_count(n, self.mask_ratio) if self.inference_masks != "none" else None
        return [(b, k, d), (b, n), (b, n)]

    def compute_output_spec(self, tokens, training=None):
        visible, mask, restore = self.compute_output_shape(tokens.shape)
        return [keras.KerasTensor(visible, dtype=tokens.dtype),
                keras.KerasTensor(mask, dtype=tokens.dtype),
                keras.KerasTensor(restore, dtype="int32")]

    def get_config(self):
        return {**super().get_config(), "mask_ratio": self.mask_ratio, "seed": self.seed,
                "inference_masks": self.inference_masks}


@keras.saving.register_keras_serializable(package="keras_ae")
class MaskTokens(keras.layers.Layer):
    """Puts the visible tokens back in patch order with a learned mask token at every masked
    patch: ``[visible (batch, K, dim), restore (batch, N)]`` → ``(batch, N, dim)``, the inverse
    of :class:`RandomPatchMasking`'s shuffle with the dropped tokens replaced by one shared
    vector (initialised from a normal distribution of standard deviation 0.02, as MAE)."""

    def build(self, input_shape):
        visible, restore = input_shape
        if len(visible) != 3 or visible[2] is None or len(restore) != 2 or restore[1] is None:
            raise ValueError(f"MaskTokens expects [visible (batch, K, dim), restore (batch, N)], "
                             f"got shapes {tuple(visible)} and {tuple(restore)}.")
        self.mask_token = self.add_weight(
            shape=(int(visible[2]),), name="mask_token",
            initializer=keras.initializers.RandomNormal(stddev=0.02))

    def call(self, inputs):
        visible, restore = inputs
        n = restore.shape[1]
        batch, k = ops.shape(visible)[0], ops.shape(visible)[1]
        fill = ops.broadcast_to(ops.cast(self.mask_token, visible.dtype)[None, None],
                                (batch, n - k, visible.shape[2]))
        shuffled = ops.concatenate([visible, fill], axis=1)
        return ops.take_along_axis(shuffled, ops.cast(restore, "int32")[:, :, None], axis=1)

    def compute_output_shape(self, input_shape):
        visible, restore = input_shape
        return (visible[0], restore[1], visible[2])


@keras.saving.register_keras_serializable(package="keras_ae")
class MaskedPatchLoss(keras.layers.Layer):
    """MAE's loss, added with ``add_loss``: the mean squared error over the masked patches only.

    Called on ``[target, prediction, mask]`` — patch tokens ``(batch, N, P)`` twice and the 0/1
    mask ``(batch, N)`` — it adds ``Σ_n mask · mean_P((prediction - t)²) / Σ_n mask`` (over the
    batch too), where ``t`` is the target, or with ``norm_pix_loss`` each target patch
    normalised to zero mean and unit variance (``(target - μ) / sqrt(σ² + 1e-6)``). Visible
    patches do not enter the loss. It returns the prediction in pixel space (with
    ``norm_pix_loss``: de-normalised with the target patch's own mean and variance, as MAE draws
    its reconstructions).

    Args:
        norm_pix_loss: compare with per-patch normalised pixels.
        weight: the loss's weight.
    """

    def __init__(self, norm_pix_loss=False, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(norm_pix_loss, bool):
            raise TypeError(f"norm_pix_loss must be True or False, got {norm_pix_loss!r}.")
        self.norm_pix_loss = norm_pix_loss
        self.weight = checks.non_negative("weight", weight)

    def call(self, inputs):
        target, prediction, mask = inputs
        mask = ops.cast(mask, prediction.dtype)
        if self.norm_pix_loss:
            mean = ops.mean(target, axis=-1, keepdims=True)
            scale = ops.sqrt(ops.var(target, axis=-1, keepdims=True) + 1e-6)
            target = (target - mean) / scale
        per_patch = ops.mean(ops.square(prediction - ops.stop_gradient(target)), axis=-1)
        loss = ops.sum(per_patch * mask) / ops.maximum(ops.sum(mask), 1.0)
        self.add_loss(self.weight * loss)
        if self.norm_pix_loss:
            return prediction * ops.stop_gradient(scale) + ops.stop_gradient(mean)
        return prediction

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[1])

    def get_config(self):
        return {**super().get_config(), "norm_pix_loss": self.norm_pix_loss,
                "weight": self.weight}
