"""Winner-take-all autoencoders (Makhzani & Frey, NIPS 2015; PAPERS.md §2).

* :class:`FCWTA` (``"fc_wta"``): a ReLU hidden layer (784-2000), lifetime sparsity across the
  mini-batch (k = 5 %), a linear decoder whose weights may be tied to the encoder's.
* :class:`ConvWTA` (``"conv_wta"``): 5×5 "same" ReLU convolutions (128-128 maps), spatial
  sparsity then lifetime sparsity on the spatial winners, a linear 11×11 transposed-conv decoder.
* :class:`StackedConvWTA` (``"stacked_conv_wta"``): Conv-WTA stages separated by max-pooling,
  trained greedily stage by stage with :func:`keras_ae.training.train_greedily`, then (by
  default) fine-tuned end to end through every stage's sparsity.

The sparsity layers sit between the nested ``encoder`` and ``decoder`` models, so the encoder
(what is exported, and what :mod:`keras_ae.evaluation` reads features from) is the plain ReLU
network the paper evaluates, and the layers are the identity at inference anyway.

Which call gives what (every WTA model):

* ``model.encoder(x)``, ``model.encode(x)``, the probes, the exported encoder: the dense ReLU
  features, no sparsity (the paper's features).
* ``model.reconstruct(x)`` (and ``keras-ae train/evaluate/plot``'s reconstruction MSE and
  pictures): the images decoded from codes made as sparse as in training, batch by batch
  (:meth:`SparseReconstruction.reconstruct`): what the decoder was trained to do.
* ``model(x)`` / ``model.predict(x)`` / ``model.evaluate``: the decoder applied to the *dense*
  features, the sparsity layers being the identity at inference. Each image's output depends on
  that image alone, but it is not a reconstruction the decoder was trained for: its error is
  far larger than the training loss (``val_loss`` in a history is this error too).
* ``model(x, training=True)``: one training-mode pass, sparse over the batch ``x``.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae import checks
from keras_ae.layers.losses import ReconstructionLoss
from keras_ae.layers.sparsity import LifetimeTopK, SpatialWTA, smallest_sparse_batch
from keras_ae.models.base import StackProcedure, ZooModel
from keras_ae.models.registry import register
from keras_ae.layers.tied import TiedDense

__all__ = ["FCWTA", "ConvWTA", "StackedConvWTA", "SparseReconstruction"]


class SparseReconstruction:
    """``reconstruct`` through the sparsity a WTA decoder was trained with (a mixin of the WTA
    models; the sparsity layers are those between the model's ``encoder`` and ``decoder``).

    The decoder of a WTA autoencoder only ever sees sparse codes in training; decoding the
    dense inference features gives no reconstruction. :meth:`reconstruction_model` is the
    model's encoder, copies of its sparsity layers that stay active at inference
    (``at_inference=True``; they have no weights) and its decoder, sharing their weights with
    the model; :meth:`reconstruct` runs it on whole batches of ``batch_size`` images, since
    lifetime sparsity keeps a fraction of each batch.
    """

    #: ``reconstruct``'s batch size when none is given: ``keras-ae train``'s default training
    #: batch size. Lifetime sparsity is a fraction of the batch, so pass the one you trained with.
    reconstruction_batch_size = 128

    def _sparsity_layers(self):
        return [layer for layer in self.layers if isinstance(layer, (SpatialWTA, LifetimeTopK))]

    def smallest_reconstruction_batch(self):
        """The fewest images :meth:`reconstruct` takes at a time: with fewer, lifetime sparsity
        would keep every image (1 without lifetime sparsity)."""
        return max([smallest_sparse_batch(layer.k) for layer in self._sparsity_layers()
                    if isinstance(layer, LifetimeTopK)] or [1])

    def _active_sparsity(self, code, prefix=""):
        """``code`` through copies of the model's sparsity layers that stay active at
        inference."""
        for layer in self._sparsity_layers():
            config = {**layer.get_config(), "at_inference": True,
                      "name": f"{prefix}{layer.name}_at_inference"}
            code = type(layer).from_config(config)(code)
        return code

    def _reconstruction_outputs(self, inputs, **options):
        return self.decoder(self._active_sparsity(self.encoder(inputs)))

    def reconstruction_model(self, **options):
        """images → encoder → the sparsity layers, active at inference → decoder: a functional
        model sharing this model's weights (built once, then reused). Its output for an image
        depends on the other images of the batch, as in training."""
        views = self.__dict__.get("_reconstruction_views")
        if views is None:
            views = {}
            # a plain attribute, not a tracked sub-model: it is no part of the saved model
            object.__setattr__(self, "_reconstruction_views", views)
        key = tuple(sorted(options.items()))
        if key not in views:
            inputs = keras.Input(tuple(self.inputs[0].shape[1:]), name="images")
            views[key] = keras.Model(inputs, self._reconstruction_outputs(inputs, **options),
                                     name=f"{self.name}_sparse_view")
        return views[key]

    def reconstruct(self, images, batch_size=None, **options):
        """Reconstructions of ``images`` through the sparsity the decoder was trained with.

        The images go through :meth:`reconstruction_model` in batches of ``batch_size``
        (default :attr:`reconstruction_batch_size`), in order. Every batch is a whole one: the
        last, partial batch is completed with the images just before it (their outputs are
        dropped), so each image is reconstructed among ``batch_size`` others as in training.
        With fewer images than ``batch_size`` they form one batch, where lifetime sparsity keeps
        the same fraction, ``max(1, ceil(k · len(images)))`` per unit. The encoder is not
        sparse: :meth:`encode` gives the dense features.

        Raises:
            ValueError: ``batch_size`` or ``len(images)`` below
                :meth:`smallest_reconstruction_batch` (too few images for lifetime sparsity to
                leave any out); ``images`` not of the model's input shape.
        """
        batch = self.reconstruction_batch_size if batch_size is None else batch_size
        batch = checks.positive_int("batch_size", batch)
        images = np.asarray(images)
        expected = tuple(self.inputs[0].shape[1:])
        if images.ndim != len(expected) + 1 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must have shape (n, {', '.join(map(str, expected))}), got "
                             f"{images.shape}.")
        if not len(images):
            raise ValueError("images must hold at least one image, got none.")
        smallest = self.smallest_reconstruction_batch()
        for name, size in (("batch_size", batch), ("len(images)", len(images))):
            if size < smallest:  # only with lifetime sparsity (else smallest is 1)
                k = [layer.k for layer in self._sparsity_layers()
                     if isinstance(layer, LifetimeTopK)]
                raise ValueError(
                    f"{name} must be at least {smallest} to reconstruct through lifetime "
                    f"sparsity k={k[0]:g} (with fewer images every unit keeps all of them, which "
                    f"the decoder was never trained on), got {size}.")
        view = self.reconstruction_model(**options)
        n = len(images)
        if n <= batch:
            return view.predict(images, batch_size=n, verbose=0)
        whole = n - n % batch
        parts = [view.predict(images[:whole], batch_size=batch, verbose=0)]
        if whole < n:  # the last batch, completed with the images before it
            last = view.predict(images[n - batch:], batch_size=batch, verbose=0)
            parts.append(last[batch - (n - whole):])
        return np.concatenate(parts)


def _check_stage_kernel_sizes(value, stages):
    """One positive int for every stage (returned as is), or a list of one per stage."""
    if isinstance(value, (list, tuple)):
        if len(value) != stages or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            raise ValueError(f"decoder_kernel_size must be a positive int or a list of "
                             f"{stages} positive ints (one per stage), got {value!r}.")
        return list(value)
    return checks.positive_int("decoder_kernel_size", value)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("fc_wta")
class FCWTA(SparseReconstruction, ZooModel):
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

    Which call gives what: ``encoder`` / :meth:`encode`: the dense ReLU features (probes,
    export); :meth:`reconstruct`: reconstructions through the training sparsity, batch by batch
    (what ``keras-ae train/evaluate/plot`` report and draw); ``model(x)`` / ``predict``: the
    decoder of the dense features (sparsity off), not a reconstruction the decoder was trained
    for; ``model(x, training=True)``: one sparse training pass over the batch ``x``.
    """

    def __init__(self, input_shape=(28, 28, 1), hidden_units=2000, k=0.05, tied_weights=False,
                 output_activation="linear", hidden_bias=0.0, **kwargs):
        input_shape = checks.input_shape(input_shape)
        hidden_units = checks.positive_int("hidden_units", hidden_units)
        k = checks.fraction("k", k, allow_none=True)
        hidden_bias = checks.finite_number("hidden_bias", hidden_bias)
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
class ConvWTA(SparseReconstruction, ZooModel):
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

    Which call gives what: ``encoder`` / :meth:`encode`: the dense ReLU features (probes,
    export); :meth:`reconstruct`: reconstructions through the training sparsity, batch by batch
    (what ``keras-ae train/evaluate/plot`` report and draw); ``model(x)`` / ``predict``: the
    decoder of the dense features (sparsity off), not a reconstruction the decoder was trained
    for; ``model(x, training=True)``: one sparse training pass over the batch ``x``.
    """

    def __init__(self, input_shape=(28, 28, 1), filters=(128, 128), kernel_size=5,
                 decoder_kernel_size=11, k=0.05, spatial_sparsity=True, **kwargs):
        input_shape = checks.input_shape(input_shape)
        filters = checks.positive_ints("filters", filters, allow_empty=False)
        kernel_size = checks.positive_int("kernel_size", kernel_size)
        decoder_kernel_size = checks.positive_int("decoder_kernel_size", decoder_kernel_size)
        k = checks.fraction("k", k, allow_none=True)

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
class StackedConvWTA(SparseReconstruction, StackProcedure, ZooModel):
    """Stacked Conv-WTA: one 5×5 ReLU conv per stage, max-pooling between stages, trained
    greedily stage by stage (:func:`keras_ae.training.train_greedily`), each stage as a Conv-WTA reconstructing
    its own input through its own linear transposed conv.

    The default procedure (``keras-ae train stacked_conv_wta --epochs N``) trains every stage
    ``N`` epochs greedily (the paper's protocol, ``fine_tune_epochs=0``), then ``N`` epochs of
    the stage decoders, the encoder frozen, through :meth:`fine_tune_model`: images → all
    encoder stages → spatial + lifetime sparsity → top decoder, then for each lower stage an
    upsampling, that stage's sparsity and its decoder → images, the graph :meth:`reconstruct`
    runs. Greedy stages alone leave each stage decoder untrained on the reconstructions of the
    stages above (end-to-end reconstruction worse than the mean image on MNIST); fine-tuning the
    encoder too drives its features to chance (docs/wta.md), so only the decoders learn.

    The model's own graph (``model(x)``) is sparse at the top stage only: images → all
    encoder stages → spatial + lifetime sparsity → top decoder, then for each lower stage an
    upsampling and that stage's decoder → images.

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

    Which call gives what: ``encoder`` / :meth:`encode`: the dense ReLU features (probes,
    export); :meth:`reconstruct`: reconstructions through the training sparsity, batch by batch
    (by default every stage decoder's input made sparse, as in greedy training; what
    ``keras-ae train/evaluate/plot`` report and draw); ``model(x)`` / ``predict``: the
    decoder of the dense features (sparsity off), not a reconstruction the decoder was trained
    for; ``model(x, training=True)``: one sparse training pass over the batch ``x``.
    """

    #: end-to-end fine-tuning trains the stage decoders only, the encoder frozen
    #: (:func:`keras_ae.training.train_greedily`): fine-tuning the encoder too ruins its features
    fine_tune_trains = "decoders"

    def __init__(self, input_shape=(28, 28, 1), filters=(128, 128), kernel_size=5,
                 decoder_kernel_size=11, k=0.05, pool_size=2, **kwargs):
        input_shape = checks.input_shape(input_shape)
        filters = checks.positive_ints("filters", filters, allow_empty=False)
        kernel_size = checks.positive_int("kernel_size", kernel_size)
        decoder_kernel_size = _check_stage_kernel_sizes(decoder_kernel_size, len(filters))
        pool_size = checks.positive_int("pool_size", pool_size)
        k = checks.fraction("k", k, allow_none=True)
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

    def reconstruction_model(self, sparsity="stages"):
        """The model :meth:`reconstruct` runs (see there for ``sparsity``), sharing this
        model's weights."""
        checks.one_of("sparsity", sparsity, ("stages", "top"))
        return super().reconstruction_model(sparsity=sparsity)

    def reconstruct(self, images, batch_size=None, sparsity="stages"):
        """Reconstructions of ``images`` through the sparsity the decoders were trained with
        (:meth:`SparseReconstruction.reconstruct` for the batching).

        Args:
            sparsity: ``"stages"`` (default): every stage's decoder decodes codes made sparse
                by that stage's spatial + lifetime sparsity (the top stage's codes, then each
                lower stage's upsampled reconstruction), as in greedy training and in the
                default end-to-end fine-tuning (:meth:`fine_tune_model`); ``"top"``: the top
                stage's codes only, this model's own graph (``model(x, training=True)``),
                which no default procedure trains.
        """
        checks.one_of("sparsity", sparsity, ("stages", "top"))
        return super().reconstruct(images, batch_size=batch_size, sparsity=sparsity)

    def fine_tune_model(self):
        """What end-to-end fine-tuning (:class:`~keras_ae.models.base.StackProcedure`'s
        default ``fine_tune_epochs``) fits: images → :meth:`reconstruction_model` with
        ``sparsity="stages"`` (every stage decoder's input made sparse, as in greedy training
        and in :meth:`reconstruct`'s default) → MSE against the images, added with
        ``add_loss``. Every layer is shared with this model; the stage decoders learn to
        decode the sparse codes of the reconstructions from the stages above (fine-tuning this
        model's own graph instead, sparse at the top only, starts from an error in the
        thousands and was still near 3 after an epoch)."""
        inputs = keras.Input(tuple(self.inputs[0].shape[1:]), name="images")
        reconstruction = self.reconstruction_model(sparsity="stages")(inputs)
        out = ReconstructionLoss(stop_target_gradient=True, name="fine_tune_mse")(
            [inputs, reconstruction])
        return keras.Model(inputs, out, name=f"{self.name}_fine_tune")

    def _reconstruction_outputs(self, inputs, sparsity="stages"):
        cfg = self._zoo_config
        h = self._active_sparsity(self.encoder(inputs))
        for i in reversed(range(self.num_stages)):
            if i < self.num_stages - 1 and sparsity == "stages":
                h = self._active_sparsity(h, prefix=f"stage{i}_")
            h = self.decoder.get_layer(f"stage{i}_decoder")(h)
            if i and cfg["pool_size"] > 1:
                h = self.decoder.get_layer(f"stage{i}_upsample")(h)
        return h

    def load_stage(self, stage, conv_wta):
        """Copies a trained one-layer :class:`ConvWTA`'s encoder conv and decoder into ``stage``.

        A stage is trained as exactly such a Conv-WTA (on the pooled features below it), so a
        Conv-WTA trained before can stand for the first stage(s) of greedy training; continue
        with :func:`keras_ae.training.train_greedily` and zero epochs for the loaded stages.

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

    def stage_layers(self, stage):
        """The layers that greedy training of ``stage`` trains: its conv and its decoder."""
        self._check_stage(stage)
        return [self.encoder.get_layer(f"stage{stage}_conv"),
                self.decoder.get_layer(f"stage{stage}_decoder")]

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
