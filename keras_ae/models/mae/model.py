"""Masked autoencoders (He et al. 2021) for small images.

:class:`MAE` (``"mae"``) cuts an image into ``patch_size``-square patches, embeds each linearly,
adds the fixed 2-D sine-cosine position embedding, drops a random ``mask_ratio`` of the patches
of each image, and runs a pre-norm ViT encoder on the visible patches only. A lighter decoder
receives the encoded visible tokens, a shared learned mask token at every dropped position and
the position embedding again, and a linear layer predicts every patch's pixels. The loss
(``add_loss``) is the mean squared error on the masked patches only, optionally against
per-patch normalised pixels (``norm_pix_loss``).

Which call gives what:

* ``model.encoder(x)`` / ``model.encode(x)`` / the probes / the exported encoder: the encoder
  on **all** patches, no masking, its final tokens averaged into one ``width``-vector per image
  (the image's embedding). Deterministic.
* ``model.reconstruct(x)`` (``keras-ae train/evaluate/plot``'s reconstruction MSE and
  pictures): each image with a fresh random ``mask_ratio`` of its patches masked, the masked
  patches predicted and the visible ones kept from the input (the paper's pictures); its error
  is therefore ``mask_ratio`` times the error on the masked patches.
  :meth:`MAE.masked_outputs` gives the masked input, the raw predictions and the mask too.
* ``model(x, training=True)`` (what ``fit`` runs): masked, the loss on the masked patches.
* ``model(x)`` / ``model.predict(x)`` / ``model.evaluate`` / ``val_loss`` at inference: masked
  by a fixed draw from ``seed`` (the same masks at every call, so the loss is a deterministic
  validation figure), the decoder's pixels at every patch (only the masked ones are trained).
"""

import keras
from keras import ops

from keras_ae import checks
from keras_ae.layers.patches import (MaskedPatchLoss, MaskTokens, Patchify, RandomPatchMasking,
                                     SinCosPositionEmbedding, Unpatchify, visible_count)
from keras_ae.layers.transformer import TransformerBlock
from keras_ae.models.base import ZooModel
from keras_ae.models.registry import register

__all__ = ["MAE"]


def _check_width(name, width, heads, heads_name):
    checks.positive_int(name, width)
    if width % 4:
        raise ValueError(f"{name} must be a multiple of 4 (the 2-D sine-cosine position "
                         f"embedding), got {width}.")
    if width % heads:
        raise ValueError(f"{name} {width} must be divisible by {heads_name} {heads}.")


def _transformer(tokens_dim, depth, heads, mlp_ratio, name):
    """A nested functional model: ``depth`` pre-norm blocks then a LayerNorm, on any number of
    tokens."""
    tokens = keras.Input((None, tokens_dim), name="tokens")
    h = tokens
    for i in range(depth):
        h = TransformerBlock(heads, mlp_ratio=mlp_ratio, name=f"block_{i}")(h)
    h = keras.layers.LayerNormalization(epsilon=1e-6, name="norm")(h)
    return keras.Model(tokens, h, name=name)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("mae")
class MAE(ZooModel):
    """Masked autoencoder: a ViT encoder on the visible patches, a light decoder, the loss on
    masked patches.

    Args:
        input_shape: ``(H, W, C)``; ``patch_size`` must divide ``H`` and ``W``.
        patch_size: side of the square patches (4: 7×7 = 49 patches of a 28×28 image, 8×8 = 64
            of a 32×32 one).
        width: the encoder's token size (a multiple of 4 and of ``num_heads``).
        depth: transformer blocks in the encoder.
        num_heads: attention heads of the encoder.
        mlp_ratio: the blocks' MLP size as a multiple of their width (encoder and decoder).
        decoder_width: the decoder's token size (a multiple of 4 and of ``decoder_num_heads``).
        decoder_depth: transformer blocks in the decoder.
        decoder_num_heads: attention heads of the decoder.
        mask_ratio: the fraction of each image's patches masked in training, in [0, 1)
            (``int(N · (1 - mask_ratio))`` patches stay visible).
        norm_pix_loss: the loss compares with each patch's pixels normalised to zero mean and
            unit variance.
        seed: seed of the masking draws.

    The defaults (49 patches, a 6-block encoder of width 128 with 4 heads, a 2-block decoder of
    width 64) are sized for 28×28×1 and 32×32×3 images on a CPU; the paper's ViTs are much larger.
    """

    default_loss = None  # the masked-patch loss is added by the graph (add_loss)

    def __init__(self, input_shape=(28, 28, 1), patch_size=4, width=128, depth=6, num_heads=4,
                 mlp_ratio=2.0, decoder_width=64, decoder_depth=2, decoder_num_heads=4,
                 mask_ratio=0.75, norm_pix_loss=False, seed=None, **kwargs):
        input_shape = checks.input_shape(input_shape)
        checks.positive_int("patch_size", patch_size)
        if input_shape[0] % patch_size or input_shape[1] % patch_size:
            raise ValueError(f"patch_size {patch_size} must divide the image height and width; "
                             f"input_shape is {input_shape}.")
        checks.positive_int("num_heads", num_heads)
        checks.positive_int("decoder_num_heads", decoder_num_heads)
        _check_width("width", width, num_heads, "num_heads")
        _check_width("decoder_width", decoder_width, decoder_num_heads, "decoder_num_heads")
        checks.positive_int("depth", depth)
        checks.non_negative_int("decoder_depth", decoder_depth)
        if isinstance(mlp_ratio, bool) or not isinstance(mlp_ratio, (int, float)) or mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be a positive number, got {mlp_ratio!r}.")
        mask_ratio = checks.fraction("mask_ratio", mask_ratio, low_open=False, high_open=True)
        if not isinstance(norm_pix_loss, bool):
            raise TypeError(f"norm_pix_loss must be True or False, got {norm_pix_loss!r}.")
        grid = (input_shape[0] // patch_size, input_shape[1] // patch_size)
        num_patches = grid[0] * grid[1]
        patch_dim = patch_size * patch_size * input_shape[2]

        images = keras.Input(input_shape, name="images")
        patchify = Patchify(patch_size, name="patchify")
        embed = keras.layers.Dense(width, name="patch_embedding")
        position = SinCosPositionEmbedding(grid, name="position_embedding")
        # fixed masks at inference: model(x) / evaluate / val_loss measure the masked-patch loss
        # deterministically (the encoder view below runs on all patches)
        masking = RandomPatchMasking(mask_ratio, seed=seed, inference_masks="fixed",
                                     name="masking")
        blocks = _transformer(width, depth, num_heads, mlp_ratio, "encoder_blocks")

        visible_in = keras.Input((None, width), name="encoded_visible")
        restore_in = keras.Input((num_patches,), dtype="int32", name="restore")
        h = keras.layers.Dense(decoder_width, name="decoder_embedding")(visible_in)
        h = MaskTokens(name="mask_tokens")([h, restore_in])
        h = SinCosPositionEmbedding(grid, name="decoder_position_embedding")(h)
        h = _transformer(decoder_width, decoder_depth, decoder_num_heads, mlp_ratio,
                         "decoder_blocks")(h)
        h = keras.layers.Dense(patch_dim, name="patch_prediction")(h)
        decoder = keras.Model([visible_in, restore_in], h, name="decoder")

        patches = patchify(images)
        tokens = position(embed(patches))
        visible, mask, restore = masking(tokens)
        predicted = decoder([blocks(visible), restore])
        predicted = MaskedPatchLoss(norm_pix_loss, name="masked_patch_loss")(
            [patches, predicted, mask])
        unpatchify = Unpatchify(patch_size, input_shape, name="reconstruction")
        super().__init__(inputs=images, outputs=unpatchify(predicted), **kwargs)

        code = keras.layers.GlobalAveragePooling1D(name="mean_token")(
            blocks(position(embed(patchify(images)))))
        # A view sharing the layers above, not tracked (the saved model holds each layer once).
        object.__setattr__(self, "_encoder_view", keras.Model(images, code, name="encoder"))
        object.__setattr__(self, "_masked_views", {})
        self.num_patches = num_patches
        self.num_visible = visible_count(num_patches, mask_ratio)
        self._store_config(input_shape=input_shape, patch_size=patch_size, width=width,
                           depth=depth, num_heads=num_heads, mlp_ratio=float(mlp_ratio),
                           decoder_width=decoder_width, decoder_depth=decoder_depth,
                           decoder_num_heads=decoder_num_heads, mask_ratio=mask_ratio,
                           norm_pix_loss=norm_pix_loss, seed=seed)

    @property
    def encoder(self):
        """The encoder on all patches, unmasked: images → the mean of its final tokens."""
        return self._encoder_view

    def masked_model(self, seed=None):
        """A functional view sharing this model's weights that masks at inference too: images →
        ``{"tokens"`` (the encoder's output on the visible patches, ``(batch, K, width)``),
        ``"mask"`` (``(batch, N)``, 1 = masked), ``"masked_input"`` (masked patches zeroed),
        ``"prediction"`` (the decoder's pixels at every patch) and ``"reconstruction"`` (visible
        patches from the input, masked ones predicted)``}``. Each call draws new masks, from
        ``seed`` (default: the model's)."""
        seed = self._zoo_config["seed"] if seed is None else seed
        if seed not in self._masked_views:
            layer = self.get_layer
            images = keras.Input(tuple(self.inputs[0].shape[1:]), name="images")
            patches = layer("patchify")(images)
            tokens = layer("position_embedding")(layer("patch_embedding")(patches))
            masking = RandomPatchMasking(self._zoo_config["mask_ratio"], seed=seed,
                                         inference_masks="random", name="masking_at_inference")
            visible, mask, restore = masking(tokens)
            encoded = layer("encoder_blocks")(visible)
            predicted = layer("decoder")([encoded, restore])
            predicted = MaskedPatchLoss(self._zoo_config["norm_pix_loss"])(
                [patches, predicted, mask])
            keep = 1.0 - mask[:, :, None]
            unpatchify = layer("reconstruction")
            outputs = {"tokens": encoded, "mask": mask,
                       "masked_input": unpatchify(patches * keep),
                       "prediction": unpatchify(predicted),
                       "reconstruction": unpatchify(patches * keep + predicted * (1.0 - keep))}
            self._masked_views[seed] = keras.Model(images, outputs, name=f"{self.name}_masked")
        return self._masked_views[seed]

    def masked_outputs(self, images, batch_size=256, seed=None):
        """:meth:`masked_model`'s outputs for ``images`` (NumPy), in batches."""
        return self.masked_model(seed).predict(images, batch_size=batch_size, verbose=0)

    def reconstruct(self, images, batch_size=256):
        """Each image with a random ``mask_ratio`` of its patches masked, the masked patches
        predicted and the visible ones its own (what the decoder is trained for)."""
        return self.masked_outputs(images, batch_size=batch_size)["reconstruction"]

    def classifier(self, num_classes, dropout=0.0):
        """A softmax classifier on the encoder (all patches, mean token), sharing its weights:
        fine-tuning it trains the encoder too (the paper's end-to-end fine-tuning)."""
        checks.positive_int("num_classes", num_classes)
        if num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}.")
        dropout = checks.fraction("dropout", dropout, low_open=False, high_open=True)
        inputs = keras.Input(tuple(self.inputs[0].shape[1:]), name="images")
        h = self.encoder(inputs)
        if dropout:
            h = keras.layers.Dropout(dropout, name="dropout")(h)
        probs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(h)
        return keras.Model(inputs, probs, name=f"{self.name}_classifier")
