"""Stacked What-Where Auto-encoders (Zhao, Mathieu, Goroshin & LeCun 2016; PAPERS.md §1).

One model for the three modes: supervised, semi-supervised and unsupervised training differ
only in the data (labels ``-1`` are unlabelled: they add no NLL) and in the loss weights
(``set_loss_weights``), never in the graph.

Graph, for stages m = 0..M-1 (``filters[m]``, ``kernel_sizes[m]``, ``pool_sizes[m]``)::

    encoder:  h_0 = images;  x_m = ReLU(conv_m(h_m));  (h_{m+1}, where_m) = pool_m(x_m)
              probabilities = softmax(dense(dropout(dense(flatten(h_M)))))
    decoder:  ĥ_M = h_M;  ĥ_m = conv'_m(unpool_m(ĥ_{m+1}, where_m))   (ReLU but for ĥ_0)
    loss:     NLL(probabilities) + lambda_rec·||h_0 − ĥ_0||² + lambda_m·(middle terms)

Two readings of the middle ("L2M") terms, chosen by ``middle_terms``:

- ``"what"`` (default): ``Σ_{0<m<M} ||h_m − ĥ_m||²`` ties each intermediate "what" ``h_m`` (what
  stage m − 1 passes upward) to the decoder's reconstruction of it, the reading of the
  reimplementations.
- ``"pre_pool"``: ``Σ_{0≤m<M} ||x_m − unpool_m(ĥ_{m+1})||²`` ties each pre-pool activation
  ``x_m`` (the input of pooling m, PAPERS.md's literal wording) to the decoder's map at the same
  place, right after unpooling. At the top stage ``unpool(h_M)`` equals ``x_{M−1}`` at the
  maxima, so that term penalises only the non-max activations.

Squared errors are averaged over features (``ReconstructionLoss``
with ``reduction="mean"``), as Torch's ``MSECriterion`` that the λ's were tuned with.

Outputs: the model returns the class probabilities only, so ``model.fit(images, labels)`` works
with plain label arrays; the reconstruction terms enter through ``add_loss``. The nested
``encoder`` returns a dict: ``"what"`` (top features), ``"probabilities"``, and per stage
``"where_m"`` and the intermediate ``"what_m"`` the decoder needs; ``feature_extractor()`` is a
lean view serving only ``what`` and ``probabilities`` (what to export for serving).
"""

import keras

from keras_ae import checks
from keras_ae.layers.losses import ReconstructionLoss
from keras_ae.layers.pooling import MaxPoolWithArgmax2D, SoftMaxPoolWithArgmax2D, SoftUnpool2D, Unpool2D
from keras_ae.models.base import ZooModel
from keras_ae.models.registry import register
from keras_ae.ops import whatwhere

__all__ = ["SWWAE", "SWWAEWhatOnly", "SWWAESoft", "GraphAnchor"]

_DECODERS = ("unpool", "upsample")
_POOLINGS = ("hard", "soft")
_MIDDLE_TERMS = ("what", "pre_pool")




@keras.saving.register_keras_serializable(package="keras_ae")
class GraphAnchor(keras.layers.Layer):
    """``[main, *others] -> main``: keeps layers whose outputs are not model outputs (loss
    layers that only ``add_loss``) inside a functional graph."""

    def call(self, inputs):
        return inputs[0]

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def compute_output_spec(self, inputs):
        return keras.KerasTensor(inputs[0].shape, dtype=inputs[0].dtype)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("swwae")
class SWWAE(ZooModel):
    """Stacked what-where autoencoder: conv/pool encoder, unpooling decoder, classifier head.

    Args:
        input_shape: (H, W, C) images.
        filters: filters of each encoder stage (one conv + ReLU + pooling per stage).
        kernel_sizes: conv kernel size, one int for all stages or one per stage.
        pool_sizes: pooling window (= stride) per stage; pooling pads like ``"same"`` so odd
            sizes work (28 -> 14 -> 7 -> 4).
        num_classes: classifier outputs.
        head_units: hidden dense layers of the classifier head (ReLU), each followed by dropout.
        dropout: dropout rate in the head.
        lambda_rec: weight of the input reconstruction term.
        lambda_m: weight of the intermediate ("middle") reconstruction terms.
        decoder: ``"unpool"`` (what + where) or ``"upsample"`` (what only: nearest upsampling,
            the paper's ablation).
        pooling: ``"hard"`` (max / argmax) or ``"soft"`` (soft max / soft argmax at ``beta``,
            bilinear soft unpooling).
        beta: inverse temperature of soft pooling.
        activation: hidden activation of convs and head.
        output_activation: activation of the conv producing the reconstruction (the paper: none).
        middle_terms: ``"what"`` or ``"pre_pool"``: which maps the middle terms compare (see
            the module docstring).
    """

    fit_target = "label"
    accepts_unlabelled = True
    feature_key = "what"
    default_metrics = None

    def __init__(self, input_shape=(28, 28, 1), filters=(32, 64), kernel_sizes=3, pool_sizes=2,
                 num_classes=10, head_units=(128,), dropout=0.5, lambda_rec=1.0, lambda_m=0.2,
                 decoder="unpool", pooling="hard", beta=100.0, activation="relu",
                 output_activation="linear", middle_terms="what", **kwargs):
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3
                or not all(isinstance(d, int) and d > 0 for d in input_shape)):
            raise ValueError(f"input_shape must be (height, width, channels) of positive ints, "
                             f"got {input_shape!r}.")
        input_shape = tuple(input_shape)
        if (not isinstance(filters, (list, tuple)) or not filters
                or not all(isinstance(f, int) and f > 0 for f in filters)):
            raise ValueError(f"filters must be a non-empty list of positive ints, got {filters!r}.")
        stages = len(filters)
        filters = list(filters)
        kernel_sizes = checks.per_stage("kernel_sizes", kernel_sizes, stages)
        pool_sizes = checks.per_stage("pool_sizes", pool_sizes, stages)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}.")
        if not isinstance(head_units, (list, tuple)) or not all(
                isinstance(u, int) and u > 0 for u in head_units):
            raise ValueError(f"head_units must be a list of positive ints, got {head_units!r}.")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}.")
        lambda_rec = checks.non_negative("lambda_rec", lambda_rec)
        lambda_m = checks.non_negative("lambda_m", lambda_m)
        checks.one_of("decoder", decoder, _DECODERS)
        checks.one_of("pooling", pooling, _POOLINGS)
        checks.one_of("middle_terms", middle_terms, _MIDDLE_TERMS)
        if isinstance(beta, bool) or not isinstance(beta, (int, float)) or not beta > 0:
            raise ValueError(f"beta must be a positive number, got {beta!r}.")
        beta = float(beta)

        # Spatial size entering each stage (pooling pads like "same").
        sizes = [input_shape[:2]]
        for p in pool_sizes:
            g = whatwhere.pool_geometry((None, *sizes[-1], 1), p, None, "same")
            sizes.append((g.out_height, g.out_width))

        # ---- encoder
        images = keras.Input(input_shape, name="images")
        h = images
        enc_outputs = {}
        for m in range(stages):
            x = keras.layers.Conv2D(filters[m], kernel_sizes[m], padding="same",
                                    activation=activation, name=f"conv_{m}")(h)
            if pooling == "hard":
                h, where = MaxPoolWithArgmax2D(pool_sizes[m], padding="same", name=f"pool_{m}")(x)
            else:
                h, where = SoftMaxPoolWithArgmax2D(beta, pool_sizes[m], padding="same",
                                                   name=f"pool_{m}")(x)
            enc_outputs[f"where_{m}"] = where
            if middle_terms == "pre_pool":
                enc_outputs[f"pre_pool_{m}"] = x
            if m < stages - 1:
                enc_outputs[f"what_{m + 1}"] = h
        enc_outputs["what"] = h
        z = keras.layers.Flatten(name="flatten")(h)
        for i, units in enumerate(head_units):
            z = keras.layers.Dense(units, activation=activation, name=f"head_{i}")(z)
            z = keras.layers.Dropout(dropout, name=f"head_dropout_{i}")(z)
        enc_outputs["probabilities"] = keras.layers.Dense(num_classes, activation="softmax",
                                                          name="probabilities")(z)
        encoder = keras.Model(images, enc_outputs, name="encoder")

        # ---- decoder: what (+ where) -> reconstruction and intermediate whats
        top_shape = (*sizes[-1], filters[-1])
        dec_inputs = {"what": keras.Input(top_shape, name="what")}
        if decoder == "unpool":
            for m in range(stages):
                spec = encoder.output[f"where_{m}"]
                dec_inputs[f"where_{m}"] = keras.Input(tuple(spec.shape[1:]), dtype=spec.dtype,
                                                       name=f"where_{m}")
        h = dec_inputs["what"]
        dec_outputs = {}
        for m in reversed(range(stages)):
            if decoder == "upsample":
                h = keras.layers.UpSampling2D(pool_sizes[m], name=f"upsample_{m}")(h)
                extra = (h.shape[1] - sizes[m][0], h.shape[2] - sizes[m][1])
                if any(extra):  # "same" pooling padded the bottom/right: crop it off
                    h = keras.layers.Cropping2D(((0, extra[0]), (0, extra[1])),
                                                name=f"crop_{m}")(h)
            elif pooling == "hard":
                h = Unpool2D(pool_sizes[m], padding="same", output_size=sizes[m],
                             name=f"unpool_{m}")([h, dec_inputs[f"where_{m}"]])
            else:
                h = SoftUnpool2D(pool_sizes[m], padding="same", output_size=sizes[m],
                                 name=f"unpool_{m}")([h, dec_inputs[f"where_{m}"]])
            if middle_terms == "pre_pool":
                dec_outputs[f"unpooled_{m}"] = h
            last = m == 0
            h = keras.layers.Conv2D(input_shape[-1] if last else filters[m - 1], kernel_sizes[m],
                                    padding="same",
                                    activation=output_activation if last else activation,
                                    name="reconstruction" if last else f"deconv_{m}")(h)
            dec_outputs["reconstruction" if last else f"what_{m}"] = h
        decoder_model = keras.Model(dec_inputs, dec_outputs, name="decoder")

        # ---- full model
        inputs = keras.Input(input_shape, name="images")
        codes = encoder(inputs)
        decoded = decoder_model({k: codes[k] for k in dec_inputs})
        anchored = [ReconstructionLoss(lambda_rec, name="reconstruction_loss")(
            [inputs, decoded["reconstruction"]])]
        if middle_terms == "what":
            pairs = {m: (codes[f"what_{m}"], decoded[f"what_{m}"]) for m in range(1, stages)}
        else:
            pairs = {m: (codes[f"pre_pool_{m}"], decoded[f"unpooled_{m}"]) for m in range(stages)}
        for m, pair in pairs.items():
            anchored.append(ReconstructionLoss(lambda_m, name=f"middle_loss_{m}")(list(pair)))
        outputs = GraphAnchor(name="label")([codes["probabilities"], *anchored])
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self._store_config(input_shape=input_shape, filters=filters, kernel_sizes=kernel_sizes,
                           pool_sizes=pool_sizes, num_classes=num_classes,
                           head_units=list(head_units), dropout=float(dropout),
                           lambda_rec=lambda_rec, lambda_m=lambda_m, decoder=decoder,
                           pooling=pooling, beta=beta, activation=activation,
                           output_activation=output_activation, middle_terms=middle_terms)
        # Inference views are rebuilt on demand and must stay out of Keras's layer tracking
        # (they would otherwise be saved as parts of the model).
        object.__setattr__(self, "_views", {})

    # -- training

    def compile(self, optimizer=None, loss="auto", metrics="auto", **kwargs):
        """Adam and ``SparseCategoricalCrossentropy(ignore_class=-1)``: unlabelled examples
        (label -1) add nothing to the NLL. Under TensorFlow, XLA is on by default (the
        portable pooling code is several times faster with it; see ``benchmarks/``), except
        inside a ``tf.distribute`` strategy's scope, where Keras does not compile with XLA
        (mirrored variables live on several devices)."""
        if isinstance(loss, str) and loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(ignore_class=-1)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            if not tf.distribute.has_strategy():
                kwargs.setdefault("jit_compile", True)
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def loss_layers(self):
        """The ``ReconstructionLoss`` layers: ``{"reconstruction": layer, "middle": [layers]}``."""
        middle = [layer for layer in self.layers if layer.name.startswith("middle_loss_")]
        return {"reconstruction": self.get_layer("reconstruction_loss"), "middle": middle}

    def set_loss_weights(self, lambda_rec=None, lambda_m=None):
        """Changes λ_rec and/or λ_M in place (no recompiling): ``lambda_rec=0, lambda_m=0``
        makes a purely supervised classifier; all labels -1 an unsupervised autoencoder."""
        layers = self.loss_layers()
        if lambda_rec is not None:
            layers["reconstruction"].set_weight(lambda_rec)
        if lambda_m is not None:
            for layer in layers["middle"]:
                layer.set_weight(lambda_m)

    # -- inference views sharing this model's layers

    def _view(self, key):
        if key not in self._views:
            if key == "reconstruction":
                view = keras.Model(self.inputs, self.get_layer("reconstruction_loss").output,
                                   name="reconstructor")
            else:
                enc = self.encoder
                view = keras.Model(enc.input, {"what": enc.output["what"],
                                               "probabilities": enc.output["probabilities"]},
                                   name="feature_extractor")
            self._views[key] = view
        return self._views[key]

    def feature_extractor(self):
        """A model ``images -> {"what", "probabilities"}`` sharing the encoder's layers: the
        part to export for serving (``keras_ae.export.export_saved_model``)."""
        return self._view("features")

    def reconstruct(self, images, batch_size=256):
        return self._view("reconstruction").predict(images, batch_size=batch_size, verbose=0)

    def encode(self, images, batch_size=256):
        """The top "what" features."""
        return self.feature_extractor().predict(images, batch_size=batch_size, verbose=0)["what"]

    def predict_classes(self, images, batch_size=256):
        return self.predict(images, batch_size=batch_size, verbose=0).argmax(axis=-1)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("swwae_what_only")
class SWWAEWhatOnly(SWWAE):
    """SWWAE without "where": the decoder upsamples instead of unpooling (the §4.1 ablation)."""

    def __init__(self, **kwargs):
        kwargs.pop("decoder", None)  # present in configs saved by the parent's get_config
        super().__init__(decoder="upsample", **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("decoder")
        return config


@keras.saving.register_keras_serializable(package="keras_ae")
@register("swwae_soft")
class SWWAESoft(SWWAE):
    """SWWAE with soft what-where pooling (soft max / soft argmax at ``beta``, §3.1)."""

    def __init__(self, beta=100.0, **kwargs):
        kwargs.pop("pooling", None)
        super().__init__(pooling="soft", beta=beta, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("pooling")
        return config
