"""Winner-take-all autoencoders (Makhzani & Frey, NIPS 2015; PAPERS.md §2).

* :class:`FCWTA` (``"fc_wta"``): a ReLU hidden layer (784-2000), lifetime sparsity across the
  mini-batch (k = 5 %), a linear decoder whose weights may be tied to the encoder's.
* :class:`ConvWTA` (``"conv_wta"``): 5×5 "same" ReLU convolutions (128-128 maps), spatial
  sparsity then lifetime sparsity on the spatial winners, a linear 11×11 transposed-conv decoder.
* :class:`StackedConvWTA` (``"stacked_conv_wta"``): Conv-WTA stages separated by max-pooling,
  trained greedily stage by stage with :func:`train_greedily`, optionally fine-tuned end to end.

The sparsity layers sit between the nested ``encoder`` and ``decoder`` models, so the encoder
(what is exported, and what :mod:`keras_ae.evaluation` reads features from) is the plain ReLU
network the paper evaluates, and the layers are the identity at inference anyway.
"""

import math
import os

import keras
from keras import ops

from keras_ae.layers.losses import ReconstructionLoss
from keras_ae.layers.sparsity import LifetimeTopK, SpatialWTA
from keras_ae.models.autoencoder import _check_input_shape, _check_positive_ints
from keras_ae.models.base import ZooModel
from keras_ae.models.registry import register
from keras_ae.training.checkpoint import resumable_fit
from keras_ae.training.schedules import check_schedule
from keras_ae.training.schedules import learning_rate as schedule_learning_rate

__all__ = ["TiedDense", "FCWTA", "ConvWTA", "StackedConvWTA", "train_greedily"]


def _check_optional_k(k):
    if k is not None and (isinstance(k, bool) or not isinstance(k, (int, float))
                          or not 0.0 < k <= 1.0):
        raise ValueError(f"k must be None (no lifetime sparsity) or a number in (0, 1], got {k!r}.")
    return None if k is None else float(k)


def _check_kernel_size(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return value


def _check_stage_kernel_sizes(value, stages):
    """One positive int for every stage (returned as is), or a list of one per stage."""
    if isinstance(value, (list, tuple)):
        if len(value) != stages or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            raise ValueError(f"decoder_kernel_size must be a positive int or a list of "
                             f"{stages} positive ints (one per stage), got {value!r}.")
        return list(value)
    return _check_kernel_size("decoder_kernel_size", value)


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
        if isinstance(units, bool) or not isinstance(units, int) or units < 1:
            raise ValueError(f"units must be a positive int, got {units!r}.")
        self.units = units
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


@keras.saving.register_keras_serializable(package="keras_ae")
@register("fc_wta")
class FCWTA(ZooModel):
    """Fully-connected WTA autoencoder: ReLU hidden layer, lifetime sparsity, linear decoder.

    Args:
        input_shape: image shape (H, W, C); flattened inside.
        hidden_units: hidden layer size (2000 in the paper).
        k: lifetime sparsity, the fraction of the batch each hidden unit keeps in training
            (0.05 in the paper); ``None`` trains a plain ReLU autoencoder.
        tied_weights: decode with the transpose of the encoder's kernel (:class:`TiedDense`).
        output_activation: ``"linear"`` (the paper, with MSE) or ``"sigmoid"``.
        hidden_bias: initial value of every hidden unit's bias (0, Keras' default). A positive
            value starts every unit active on most images, so each one receives gradients
            from the first steps on: with lifetime sparsity after a ReLU, a unit whose
            pre-activation is negative on a whole batch gets no gradient and may never recover.
    """

    def __init__(self, input_shape=(28, 28, 1), hidden_units=2000, k=0.05, tied_weights=False,
                 output_activation="linear", hidden_bias=0.0, **kwargs):
        input_shape = _check_input_shape(input_shape)
        if isinstance(hidden_units, bool) or not isinstance(hidden_units, int) or hidden_units < 1:
            raise ValueError(f"hidden_units must be a positive int, got {hidden_units!r}.")
        k = _check_optional_k(k)
        if (isinstance(hidden_bias, bool) or not isinstance(hidden_bias, (int, float))
                or not math.isfinite(hidden_bias)):
            raise ValueError(f"hidden_bias must be a finite number, got {hidden_bias!r}.")
        hidden_bias = float(hidden_bias)
        bias_init = keras.initializers.Constant(hidden_bias)
        dim = math.prod(input_shape)

        enc_in = keras.Input(input_shape, name="images")
        flat = keras.layers.Flatten(name="flatten")(enc_in)
        if tied_weights:
            tied = TiedDense(hidden_units, bias_initializer=bias_init, name="tied_dense")
            pre = tied(flat)
        else:
            pre = keras.layers.Dense(hidden_units, bias_initializer=bias_init, name="hidden")(flat)
        hidden = keras.layers.Activation("relu", name="relu")(pre)
        encoder = keras.Model(enc_in, hidden, name="encoder")

        dec_in = keras.Input((hidden_units,), name="code")
        if tied_weights:
            pixels = keras.layers.Activation(output_activation, name="pixels")(tied(dec_in))
        else:
            pixels = keras.layers.Dense(dim, activation=output_activation, name="pixels")(dec_in)
        decoder = keras.Model(dec_in, keras.layers.Reshape(input_shape, name="unflatten")(pixels),
                              name="decoder")

        inputs = keras.Input(input_shape, name="images")
        code = encoder(inputs)
        if k is not None:
            code = LifetimeTopK(k, name="lifetime_sparsity")(code)
        super().__init__(inputs=inputs, outputs=decoder(code), **kwargs)
        self._store_config(input_shape=input_shape, hidden_units=hidden_units, k=k,
                           tied_weights=bool(tied_weights), output_activation=output_activation,
                           hidden_bias=hidden_bias)

    def learned_filters(self, which="decoder"):
        """Weights as (input_dim, hidden_units), one picture per unit, for ``visualize.save_filters``.

        ``which="decoder"`` (default): what each unit draws, the dictionary the paper shows;
        ``"encoder"``: what each unit responds to. With tied weights both are the same kernel.
        """
        if which not in ("decoder", "encoder"):
            raise ValueError(f"which must be 'decoder' or 'encoder', got {which!r}.")
        if self._zoo_config["tied_weights"]:
            return ops.convert_to_numpy(self.encoder.get_layer("tied_dense").kernel)
        if which == "encoder":
            return ops.convert_to_numpy(self.encoder.get_layer("hidden").kernel)
        # the decoder kernel is (hidden_units, input_dim)
        return ops.convert_to_numpy(self.decoder.get_layer("pixels").kernel).T


def _sparsity(x, spatial, k, prefix=""):
    if spatial:
        x = SpatialWTA(name=f"{prefix}spatial_sparsity")(x)
    if k is not None:
        x = LifetimeTopK(k, name=f"{prefix}lifetime_sparsity")(x)
    return x


@keras.saving.register_keras_serializable(package="keras_ae")
@register("conv_wta")
class ConvWTA(ZooModel):
    """Convolutional WTA autoencoder: "same" ReLU convs, spatial + lifetime sparsity in
    training, a linear transposed-conv decoder, MSE.

    Args:
        input_shape: image shape (H, W, C).
        filters: maps of each encoder conv ((128, 128) in the paper).
        kernel_size: encoder kernel size (5).
        decoder_kernel_size: the linear decoder's kernel size (11).
        k: lifetime sparsity over the spatial winners; ``None`` for none.
        spatial_sparsity: keep one winner per map and sample in training. With
            ``spatial_sparsity=False, k=None`` this is the same network with no sparsity (which
            learns delta-like copy filters).
    """

    def __init__(self, input_shape=(28, 28, 1), filters=(128, 128), kernel_size=5,
                 decoder_kernel_size=11, k=0.05, spatial_sparsity=True, **kwargs):
        input_shape = _check_input_shape(input_shape)
        filters = _check_positive_ints("filters", filters, allow_empty=False)
        kernel_size = _check_kernel_size("kernel_size", kernel_size)
        decoder_kernel_size = _check_kernel_size("decoder_kernel_size", decoder_kernel_size)
        k = _check_optional_k(k)

        enc_in = keras.Input(input_shape, name="images")
        h = enc_in
        for i, f in enumerate(filters):
            h = keras.layers.Conv2D(f, kernel_size, padding="same", activation="relu",
                                    name=f"conv_{i}")(h)
        encoder = keras.Model(enc_in, h, name="encoder")

        dec_in = keras.Input((None, None, filters[-1]), name="code")
        out = keras.layers.Conv2DTranspose(input_shape[-1], decoder_kernel_size, padding="same",
                                           name="deconv")(dec_in)
        decoder = keras.Model(dec_in, out, name="decoder")

        inputs = keras.Input(input_shape, name="images")
        code = _sparsity(encoder(inputs), spatial_sparsity, k)
        super().__init__(inputs=inputs, outputs=decoder(code), **kwargs)
        self._store_config(input_shape=input_shape, filters=filters, kernel_size=kernel_size,
                           decoder_kernel_size=decoder_kernel_size, k=k,
                           spatial_sparsity=bool(spatial_sparsity))

    def learned_filters(self):
        """The decoder's kernels as (kh, kw, 1, maps): what each map draws, as the paper shows."""
        kernel = ops.convert_to_numpy(self.decoder.get_layer("deconv").kernel)  # (kh, kw, out, in)
        return kernel.mean(axis=2, keepdims=True)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("stacked_conv_wta")
class StackedConvWTA(ZooModel):
    """Stacked Conv-WTA: one 5×5 ReLU conv per stage, max-pooling between stages, trained
    greedily stage by stage (:func:`train_greedily`), each stage as a Conv-WTA reconstructing
    its own input through its own linear transposed conv.

    The model itself is the end-to-end network used for optional fine-tuning: images → all
    encoder stages → spatial + lifetime sparsity on the top stage → top decoder, then for each
    lower stage an upsampling and that stage's decoder → images.

    Args:
        input_shape: image shape (H, W, C).
        filters: maps of each stage.
        kernel_size: as in :class:`ConvWTA`.
        decoder_kernel_size: each stage's linear transposed-conv kernel size: one int for every
            stage (11, the paper's single-layer choice), or one per stage. A stage after
            ``n`` poolings works at ``1/pool_size**n`` of the image's resolution, where the same
            kernel covers ``pool_size**n`` times as many pixels (and costs as much as on the
            full image per channel pair): ``[11, 7]`` keeps the second stage's reconstructed
            region near the first's.
        k: lifetime sparsity over the spatial winners of each stage (``None`` for none).
        pool_size: max-pooling factor between stages (1 for none).
    """

    def __init__(self, input_shape=(28, 28, 1), filters=(128, 128), kernel_size=5,
                 decoder_kernel_size=11, k=0.05, pool_size=2, **kwargs):
        input_shape = _check_input_shape(input_shape)
        filters = _check_positive_ints("filters", filters, allow_empty=False)
        kernel_size = _check_kernel_size("kernel_size", kernel_size)
        decoder_kernel_size = _check_stage_kernel_sizes(decoder_kernel_size, len(filters))
        pool_size = _check_kernel_size("pool_size", pool_size)
        k = _check_optional_k(k)
        decoder_sizes = ([decoder_kernel_size] * len(filters)
                         if isinstance(decoder_kernel_size, int) else decoder_kernel_size)
        factor = pool_size ** (len(filters) - 1)
        if input_shape[0] % factor or input_shape[1] % factor:
            raise ValueError(f"input_shape {input_shape} is not divisible by "
                             f"pool_size**(len(filters)-1) = {factor}.")

        enc_in = keras.Input(input_shape, name="images")
        h = enc_in
        for i, f in enumerate(filters):
            if i and pool_size > 1:
                h = keras.layers.MaxPooling2D(pool_size, name=f"stage{i}_pool")(h)
            h = keras.layers.Conv2D(f, kernel_size, padding="same", activation="relu",
                                    name=f"stage{i}_conv")(h)
        encoder = keras.Model(enc_in, h, name="encoder")

        below = [input_shape[-1]] + filters[:-1]
        dec_in = keras.Input((None, None, filters[-1]), name="code")
        h = dec_in
        for i in reversed(range(len(filters))):
            h = keras.layers.Conv2DTranspose(below[i], decoder_sizes[i], padding="same",
                                             name=f"stage{i}_decoder")(h)
            if i and pool_size > 1:
                h = keras.layers.UpSampling2D(pool_size, name=f"stage{i}_upsample")(h)
        decoder = keras.Model(dec_in, h, name="decoder")

        inputs = keras.Input(input_shape, name="images")
        code = _sparsity(encoder(inputs), True, k)
        super().__init__(inputs=inputs, outputs=decoder(code), **kwargs)
        self._store_config(input_shape=input_shape, filters=filters, kernel_size=kernel_size,
                           decoder_kernel_size=decoder_kernel_size, k=k, pool_size=pool_size)

    @property
    def num_stages(self):
        return len(self._zoo_config["filters"])

    def load_stage(self, stage, conv_wta):
        """Copies a trained one-layer :class:`ConvWTA`'s encoder conv and decoder into ``stage``.

        A stage is trained as exactly such a Conv-WTA (on the pooled features below it), so a
        Conv-WTA trained before can stand for the first stage(s) of greedy training; continue
        with :func:`train_greedily` and zero epochs for the loaded stages.

        Raises:
            TypeError: ``conv_wta`` is not a :class:`ConvWTA`.
            ValueError: ``stage`` is out of range, ``conv_wta`` has more than one conv layer, or
                its kernels' shapes differ from the stage's.
        """
        self._check_stage(stage)
        if not isinstance(conv_wta, ConvWTA):
            raise TypeError(f"conv_wta must be a ConvWTA, got {type(conv_wta).__name__}.")
        filters = conv_wta.get_config()["filters"]
        if len(filters) != 1:
            raise ValueError(f"conv_wta must have one conv layer (a stage has one), got filters "
                             f"{filters}.")
        pairs = ((conv_wta.encoder.get_layer("conv_0"),
                  self.encoder.get_layer(f"stage{stage}_conv")),
                 (conv_wta.decoder.get_layer("deconv"),
                  self.decoder.get_layer(f"stage{stage}_decoder")))
        for source, target in pairs:
            got = [tuple(w.shape) for w in source.weights]
            want = [tuple(w.shape) for w in target.weights]
            if got != want:
                raise ValueError(f"conv_wta's {source.name} weights have shapes {got}, stage "
                                 f"{stage}'s {target.name} needs {want}.")
        for source, target in pairs:
            target.set_weights(source.get_weights())

    def _check_stage(self, stage):
        if (isinstance(stage, bool) or not isinstance(stage, int)
                or not 0 <= stage < self.num_stages):
            raise ValueError(f"stage must be an int in [0, {self.num_stages}), got {stage!r}.")

    def stage_encoder(self, stages=None):
        """An encoder returning the feature maps of several stages at inference, as a dict
        ``{"stage0": ..., "stage1": ...}`` (each stage's ReLU conv output, before the pooling
        that feeds the next stage).

        For probes on the features of every stage, not only the top one:
        ``evaluation.extract_features(model.stage_encoder(), images, output_key=["stage0",
        "stage1"])`` pools each stage's maps to its own grid and concatenates them.

        Args:
            stages: the stage indices to return (default: all), in increasing order.

        It shares its layers with this model.
        """
        stages = list(range(self.num_stages)) if stages is None else list(stages)
        if not stages:
            raise ValueError("stages must name at least one stage.")
        for stage in stages:
            self._check_stage(stage)
        if stages != sorted(set(stages)):
            raise ValueError(f"stages must be increasing without repeats, got {stages}.")
        # A layer's ``output`` is that of its first call: the encoder graph built in __init__
        # (or on loading), whatever stage trainers have called the layer since.
        return keras.Model(self.encoder.input,
                           {f"stage{i}": self.encoder.get_layer(f"stage{i}_conv").output
                            for i in stages}, name="stage_encoder")

    def stage_model(self, stage):
        """The Conv-WTA that trains ``stage`` alone: the stages below it are frozen and feed it
        their (pooled) features, which its decoder reconstructs (MSE added with ``add_loss``).

        It shares its layers with this model. Compile it with ``loss=None``.
        """
        self._check_stage(stage)
        cfg = self._zoo_config
        inputs = keras.Input(tuple(cfg["input_shape"]), name="images")
        h = inputs
        for i in range(stage + 1):
            if i and cfg["pool_size"] > 1:
                h = self.encoder.get_layer(f"stage{i}_pool")(h)
            if i < stage:
                h = self.encoder.get_layer(f"stage{i}_conv")(h)
        target = h
        code = _sparsity(self.encoder.get_layer(f"stage{stage}_conv")(target), True, cfg["k"],
                         prefix=f"stage{stage}_")
        reconstruction = self.decoder.get_layer(f"stage{stage}_decoder")(code)
        out = ReconstructionLoss(stop_target_gradient=True, name=f"stage{stage}_mse")(
            [target, reconstruction])
        return keras.Model(inputs, out, name=f"stage{stage}_conv_wta")


def _images_only(data):
    """A ``tf.data`` pipeline of ``(images, ...)`` tuples -> images; arrays pass through."""
    element_spec = getattr(data, "element_spec", None)
    if isinstance(element_spec, tuple):
        return data.map(lambda *parts: parts[0])
    return data


def train_greedily(model, data, epochs, batch_size=100, fine_tune_epochs=0, learning_rate=1e-3,
                   lr_schedule="constant", callbacks=None, verbose=0, checkpoint_dir=None):
    """Greedy layer-wise training of a :class:`StackedConvWTA`, then optional fine-tuning.

    Stage by stage, the stages below are frozen and the stage is trained as a Conv-WTA on their
    features (:meth:`StackedConvWTA.stage_model`). With ``fine_tune_epochs > 0`` the whole model
    is then trained end to end on image reconstruction.

    Args:
        model: a :class:`StackedConvWTA`.
        data: images (N, H, W, C) as an array, or a ``tf.data`` pipeline of batches of images or
            of ``(images, ...)`` tuples (batch it with ``drop_remainder=True``: lifetime sparsity
            needs every batch large).
        epochs: epochs per stage (an int, or one int per stage).
        batch_size: used when ``data`` is an array.
        fine_tune_epochs: end-to-end epochs after the greedy stages.
        learning_rate: Adam's initial learning rate, for every stage and for fine-tuning.
        lr_schedule: ``"constant"``, or ``"cosine"``: each stage (and fine-tuning) anneals its
            own fresh Adam's rate from ``learning_rate`` to zero over its own epochs. A
            ``tf.data`` pipeline must then have a known number of batches.
        callbacks: Keras callbacks passed to every ``fit`` (each stage and fine-tuning).
        checkpoint_dir: a folder for checkpoints after every epoch, ``stage0``, ``stage1``, ...
            and ``fine_tune`` inside (:func:`keras_ae.training.resumable_fit`). Rerun with the
            same folder, training resumes where it stopped: finished stages are loaded, not
            trained again.

    Returns:
        a dict: the history (a dict of per-epoch lists, the epochs before a restart included)
        of each stage trained (``"stage0"``, ...) and of fine-tuning (``"fine_tune"``).
    """
    if not isinstance(model, StackedConvWTA):
        raise TypeError(f"model must be a StackedConvWTA, got {type(model).__name__}.")
    per_stage = [epochs] * model.num_stages if isinstance(epochs, int) else list(epochs)
    if len(per_stage) != model.num_stages or not all(
            isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in per_stage):
        raise ValueError(f"epochs must be a non-negative int or one per stage "
                         f"({model.num_stages}), got {epochs!r}.")
    check_schedule(lr_schedule)
    images = _images_only(data)
    if not hasattr(images, "element_spec"):
        import tensorflow as tf

        # A small last batch would make lifetime sparsity keep everything (or raise).
        images = (tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=0)
                  .batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE))
    steps_per_epoch = int(images.cardinality())
    if lr_schedule != "constant" and steps_per_epoch < 1:
        raise ValueError(f"lr_schedule {lr_schedule!r} needs data with a known, finite number "
                         f"of batches per epoch; this pipeline's cardinality is "
                         f"{steps_per_epoch} (use .repeat(n) / .take(n), or pass an array).")

    def adam(epochs_):
        return keras.optimizers.Adam(
            schedule_learning_rate(learning_rate, lr_schedule, epochs_ * steps_per_epoch))

    segments = [f"stage{i}" for i in range(model.num_stages)] + ["fine_tune"]
    folders = {name: checkpoint_dir and os.path.join(checkpoint_dir, name) for name in segments}

    def fit(trainer, pipeline, name, epochs_):
        later = [folders[n] for n in segments[segments.index(name) + 1:]]
        return resumable_fit(trainer, pipeline, epochs_, folders[name], later=later,
                             callbacks=callbacks, verbose=verbose,
                             shuffle=False)  # the pipeline shuffles

    histories = {}
    convs = [model.encoder.get_layer(f"stage{i}_conv") for i in range(model.num_stages)]
    for stage, stage_epochs in enumerate(per_stage):
        if not stage_epochs:
            continue
        for i, conv in enumerate(convs):
            conv.trainable = i == stage
        trainer = model.stage_model(stage)
        trainer.compile(optimizer=adam(stage_epochs), loss=None)
        histories[f"stage{stage}"] = fit(trainer, images, f"stage{stage}", stage_epochs)
    for conv in convs:
        conv.trainable = True
    if fine_tune_epochs:
        model.compile(optimizer=adam(fine_tune_epochs))
        histories["fine_tune"] = fit(model, images.map(lambda x: (x, x)), "fine_tune",
                                     fine_tune_epochs)
    return histories
