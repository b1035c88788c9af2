"""The classic family (PAPERS.md §4): dense, linear, denoising and convolutional autoencoders.

All take NHWC images (dense models flatten inside), reconstruct them, and expose
``encoder`` / ``decoder`` as nested functional models. Corruption for denoising sits *before*
the encoder in the full model, so the exported encoder never sees it.
"""

import math

import keras

from keras_ae import checks
from keras_ae.layers.losses import ReconstructionLoss
from keras_ae.layers.noise import corruption_layer
from keras_ae.models.base import StackProcedure, ZooModel
from keras_ae.models.registry import register




def _with_corruption(inputs, noise, noise_level, seed):
    layer = corruption_layer(noise, noise_level, seed=seed)
    return inputs if layer is None else layer(inputs)


class _ReconstructionDefaults:
    """Images in [0, 1] from a sigmoid train far better with binary cross-entropy than with MSE,
    whose gradient vanishes through a saturated sigmoid (a conv autoencoder on MNIST stayed at
    the all-black plateau, test MSE 0.116, after 3 epochs with MSE; 0.0095 with BCE)."""

    @property
    def default_loss(self):
        return "binary_crossentropy" if self._zoo_config["output_activation"] == "sigmoid" else "mse"

    @property
    def default_metrics(self):
        return ["mse"]


@keras.saving.register_keras_serializable(package="keras_ae")
@register("dense_autoencoder")
class DenseAutoencoder(_ReconstructionDefaults, ZooModel):
    """Fully-connected autoencoder of any depth, e.g. 784-1000-500-250-30 (Hinton & Salakhutdinov).

    Args:
        input_shape: image shape (H, W, C); the model flattens it.
        hidden_units: sizes of the encoder's hidden layers; the decoder mirrors them.
        code_size: size of the code (down to 2 for plotting).
        activation: hidden activation.
        code_activation: activation of the code layer (linear by default).
        output_activation: ``"sigmoid"`` for images in [0, 1], ``"linear"`` otherwise.
        noise, noise_level, noise_seed: corruption applied in training only (denoising).
    """

    def __init__(self, input_shape=(28, 28, 1), hidden_units=(512, 256), code_size=32,
                 activation="relu", code_activation="linear", output_activation="sigmoid",
                 noise=None, noise_level=0.0, noise_seed=None, **kwargs):
        input_shape = checks.input_shape(input_shape)
        hidden_units = checks.positive_ints("hidden_units", hidden_units)
        if not isinstance(code_size, int) or code_size < 1:
            raise ValueError(f"code_size must be a positive int, got {code_size!r}.")
        dim = math.prod(input_shape)

        enc_in = keras.Input(input_shape, name="images")
        h = keras.layers.Flatten(name="flatten")(enc_in)
        for i, units in enumerate(hidden_units):
            h = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(h)
        code = keras.layers.Dense(code_size, activation=code_activation, name="code")(h)
        encoder = keras.Model(enc_in, code, name="encoder")

        dec_in = keras.Input((code_size,), name="code")
        h = dec_in
        for i, units in enumerate(reversed(hidden_units)):
            h = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(h)
        h = keras.layers.Dense(dim, activation=output_activation, name="pixels")(h)
        out = keras.layers.Reshape(input_shape, name="unflatten")(h)
        decoder = keras.Model(dec_in, out, name="decoder")

        inputs = keras.Input(input_shape, name="images")
        x = _with_corruption(inputs, noise, noise_level, noise_seed)
        outputs = decoder(encoder(x))
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self._store_config(input_shape=input_shape, hidden_units=hidden_units,
                           code_size=code_size, activation=activation,
                           code_activation=code_activation, output_activation=output_activation,
                           noise=noise, noise_level=noise_level, noise_seed=noise_seed)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("linear_autoencoder")
class LinearAutoencoder(DenseAutoencoder):
    """Linear autoencoder: one linear code layer, linear output. With MSE it spans PCA's subspace."""

    def __init__(self, input_shape=(28, 28, 1), code_size=16, **kwargs):
        for fixed in ("hidden_units", "activation", "code_activation", "output_activation"):
            kwargs.pop(fixed, None)  # present in configs saved by the parent's get_config
        super().__init__(input_shape=input_shape, hidden_units=(), code_size=code_size,
                         activation="linear", code_activation="linear",
                         output_activation="linear", **kwargs)

    def get_config(self):
        config = super().get_config()
        for fixed in ("hidden_units", "activation", "code_activation", "output_activation"):
            config.pop(fixed)
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
@register("denoising_autoencoder")
class DenoisingAutoencoder(DenseAutoencoder):
    """Denoising autoencoder (Vincent et al. 2008): reconstructs clean inputs from corrupted ones.

    ``noise="masking"`` zeroes a fraction ``noise_level`` of the pixels; ``noise="gaussian"``
    adds N(0, noise_level²). Corruption is active in training only.
    """

    def __init__(self, noise="masking", noise_level=0.3, **kwargs):
        if noise is None:
            raise ValueError("DenoisingAutoencoder needs noise='masking' or noise='gaussian'.")
        super().__init__(noise=noise, noise_level=noise_level, **kwargs)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("stacked_autoencoder")
class StackedAutoencoder(StackProcedure, _ReconstructionDefaults, ZooModel):
    """Stacked (optionally denoising) autoencoder built for greedy layer-wise pre-training.

    Encoder layer ``encode_i`` maps layer i's input to ``units[i]``; its mirror ``decode_i`` maps
    back. :func:`keras_ae.training.train_greedily` trains each pair as a one-hidden-layer
    autoencoder (:meth:`stage_model`) on the codes of the frozen layers below (Bengio et al. 2007; Vincent et al. 2010 with
    ``noise``), then ``fit`` fine-tunes the whole stack and :meth:`classifier` adds a softmax.

    Args:
        units: sizes of the encoder layers, the last being the code (e.g. 1000-500-250-30).
        activation: hidden activation (also of every ``decode_i`` with i > 0).
        code_activation: activation of the last encoder layer.
        output_activation: activation of ``decode_0`` (the pixels).
        noise, noise_level, noise_seed: corruption of each layer's input during pre-training and
            of the images during fine-tuning (training only).
    """

    def __init__(self, input_shape=(28, 28, 1), units=(1000, 500, 250, 30), activation="relu",
                 code_activation="linear", output_activation="sigmoid", noise=None,
                 noise_level=0.0, noise_seed=None, **kwargs):
        input_shape = checks.input_shape(input_shape)
        units = checks.positive_ints("units", units, allow_empty=False)
        sizes = [math.prod(input_shape)] + units
        last = len(units) - 1

        enc_in = keras.Input(input_shape, name="images")
        h = keras.layers.Flatten(name="flatten")(enc_in)
        for i, n in enumerate(units):
            h = keras.layers.Dense(n, activation=code_activation if i == last else activation,
                                   name=f"encode_{i}")(h)
        encoder = keras.Model(enc_in, h, name="encoder")

        dec_in = keras.Input((units[-1],), name="code")
        h = dec_in
        for i in reversed(range(len(units))):
            h = keras.layers.Dense(sizes[i], activation=output_activation if i == 0 else activation,
                                   name=f"decode_{i}")(h)
        decoder = keras.Model(dec_in, keras.layers.Reshape(input_shape, name="unflatten")(h),
                              name="decoder")

        inputs = keras.Input(input_shape, name="images")
        x = _with_corruption(inputs, noise, noise_level, noise_seed)
        super().__init__(inputs=inputs, outputs=decoder(encoder(x)), **kwargs)
        self._store_config(input_shape=input_shape, units=units, activation=activation,
                           code_activation=code_activation, output_activation=output_activation,
                           noise=noise, noise_level=noise_level, noise_seed=noise_seed)

    @property
    def num_stages(self):
        return len(self._zoo_config["units"])

    def _check_stage(self, stage):
        if (isinstance(stage, bool) or not isinstance(stage, int)
                or not 0 <= stage < self.num_stages):
            raise ValueError(f"stage must be an int in [0, {self.num_stages}), got {stage!r}.")

    def stage_layers(self, stage):
        """The (encode_i, decode_i) Dense layers, shared with the stack (training them trains it)."""
        self._check_stage(stage)
        return [self.encoder.get_layer(f"encode_{stage}"),
                self.decoder.get_layer(f"decode_{stage}")]

    def stage_model(self, stage):
        """The one-hidden-layer autoencoder that greedy training of ``stage`` fits: the frozen
        layers below give the codes it reconstructs (the pixels for stage 0, with binary
        cross-entropy when the output is a sigmoid, else squared error), corrupted first when
        the stack has ``noise``. Its loss is added with ``add_loss``: compile with ``loss=None``.
        """
        self._check_stage(stage)
        cfg = self._zoo_config
        inputs = keras.Input(tuple(cfg["input_shape"]), name="images")
        target = self.encoder.get_layer("flatten")(inputs)
        for i in range(stage):
            target = self.encoder.get_layer(f"encode_{i}")(target)
        noise = corruption_layer(cfg["noise"], cfg["noise_level"], seed=cfg["noise_seed"],
                                 name=f"stage{stage}_corruption")
        encode, decode = self.stage_layers(stage)
        reconstruction = decode(encode(target if noise is None else noise(target)))
        pixels = stage == 0 and cfg["output_activation"] == "sigmoid"
        out = ReconstructionLoss(stop_target_gradient=True, name=f"stage{stage}_loss",
                                 error="binary_crossentropy" if pixels else "squared")(
            [target, reconstruction])
        return keras.Model(inputs, out, name=f"stage{stage}_autoencoder")

    def classifier(self, num_classes, dropout=0.0):
        """A softmax classifier on the (shared) encoder, for supervised fine-tuning."""
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}.")
        inputs = keras.Input(self.encoder.input.shape[1:], name="images")
        h = self.encoder(inputs)
        if dropout:
            h = keras.layers.Dropout(dropout, name="dropout")(h)
        probs = keras.layers.Dense(num_classes, activation="softmax", name="probabilities")(h)
        return keras.Model(inputs, probs, name=f"{self.name}_classifier")


@keras.saving.register_keras_serializable(package="keras_ae")
@register("conv_autoencoder")
class ConvAutoencoder(_ReconstructionDefaults, ZooModel):
    """Convolutional autoencoder: conv + max-pool stages, mirrored by a transposed-conv or
    upsampling decoder, optionally with a dense bottleneck.

    Args:
        filters: filters of each encoder stage (each stage halves the size with ``pool_size=2``).
        kernel_size: conv kernel size.
        pool_size: pooling factor per stage; ``input_shape`` height and width must be divisible
            by ``pool_size ** len(filters)``.
        code_size: if set, a dense bottleneck of this size after the last stage.
        decoder: ``"transpose"`` (strided transposed convs) or ``"upsampling"``
            (nearest upsampling + conv).
        noise, noise_level, noise_seed: optional training-time corruption (denoising).
    """

    def __init__(self, input_shape=(28, 28, 1), filters=(32, 64), kernel_size=3, pool_size=2,
                 code_size=None, decoder="transpose", activation="relu",
                 output_activation="sigmoid", noise=None, noise_level=0.0, noise_seed=None,
                 **kwargs):
        input_shape = checks.input_shape(input_shape)
        filters = checks.positive_ints("filters", filters, allow_empty=False)
        checks.one_of("decoder", decoder, ("transpose", "upsampling"))
        if not isinstance(pool_size, int) or pool_size < 1:
            raise ValueError(f"pool_size must be a positive int, got {pool_size!r}.")
        if code_size is not None and (not isinstance(code_size, int) or code_size < 1):
            raise ValueError(f"code_size must be None or a positive int, got {code_size!r}.")
        factor = pool_size ** len(filters)
        height, width, channels = input_shape
        if height % factor or width % factor:
            raise ValueError(
                f"input_shape {input_shape} is not divisible by pool_size**len(filters) = "
                f"{factor}: use fewer stages, another pool_size, or pad the images."
            )
        bottom = (height // factor, width // factor, filters[-1])

        enc_in = keras.Input(input_shape, name="images")
        h = enc_in
        for i, f in enumerate(filters):
            h = keras.layers.Conv2D(f, kernel_size, padding="same", activation=activation,
                                    name=f"conv_{i}")(h)
            h = keras.layers.MaxPooling2D(pool_size, name=f"pool_{i}")(h)
        if code_size is not None:
            h = keras.layers.Flatten(name="flatten")(h)
            h = keras.layers.Dense(code_size, name="code")(h)
        encoder = keras.Model(enc_in, h, name="encoder")

        dec_in = keras.Input(encoder.output.shape[1:], name="code")
        h = dec_in
        if code_size is not None:
            h = keras.layers.Dense(math.prod(bottom), activation=activation, name="expand")(h)
            h = keras.layers.Reshape(bottom, name="unflatten")(h)
        for i, f in enumerate(reversed(filters)):
            if decoder == "transpose":
                h = keras.layers.Conv2DTranspose(f, kernel_size, strides=pool_size,
                                                 padding="same", activation=activation,
                                                 name=f"deconv_{i}")(h)
            else:
                h = keras.layers.UpSampling2D(pool_size, name=f"upsample_{i}")(h)
                h = keras.layers.Conv2D(f, kernel_size, padding="same", activation=activation,
                                        name=f"conv_{i}")(h)
        out = keras.layers.Conv2D(channels, kernel_size, padding="same",
                                  activation=output_activation, name="pixels")(h)
        decoder_model = keras.Model(dec_in, out, name="decoder")

        inputs = keras.Input(input_shape, name="images")
        x = _with_corruption(inputs, noise, noise_level, noise_seed)
        super().__init__(inputs=inputs, outputs=decoder_model(encoder(x)), **kwargs)
        self._store_config(input_shape=input_shape, filters=filters, kernel_size=kernel_size,
                           pool_size=pool_size, code_size=code_size, decoder=decoder,
                           activation=activation, output_activation=output_activation,
                           noise=noise, noise_level=noise_level, noise_seed=noise_seed)
