"""Discriminative Recurrent Sparse Auto-Encoder (PAPERS.md §3, Rolfe & LeCun, ICLR 2013).

The model: inputs flattened and L2-normalised; an ``UnrolledSparseEncoder`` (T shared-weight
steps) gives the code z; a linear decoder ``D·z`` reconstructs the normalised input; a linear
classifier ``C·(z / ||z||)`` gives class logits.

Loss: ``½||x − D·z||² + λ||z||₁`` (``add_loss`` layers) plus ``w_cls · cross-entropy(C·z/||z||)``,
where ``w_cls`` is a non-trainable variable. ``DrSAEPhaseSwitch`` keeps it at 0 during the
unsupervised phase and sets it when the discriminative phase starts, inside one ``model.fit``
and without rebuilding or recompiling. ``fit(x)`` with no labels trains the unsupervised loss only.

Constraints (Keras ``MaxNorm``, applied after each optimizer step): columns of D have L2 norm
≤ 1, rows of E ≤ 1.25/(T − 1), rows of C ≤ 5. Keras kernels are stored transposed relative to
the paper's matrices (a Dense kernel is (inputs, outputs)), so:
E's rows = encoder ``kernel`` columns (axis=0); D's columns = decoder kernel rows (axis=1);
C's rows = classifier kernel columns (axis=0).

The unit analysis of the paper's section 4 is in :mod:`keras_ae.models.drsae.analysis`.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae import checks
from keras_ae.data.semi import UNLABELLED
from keras_ae.layers.losses import ActivityL1, ReconstructionLoss
from keras_ae.layers.recurrent import UnrolledSparseEncoder, ista_weights
from keras_ae.models.base import ZooModel
from keras_ae.models.registry import register

__all__ = ["DrSAE", "LossWeight", "DrSAEPhaseSwitch"]


@keras.saving.register_keras_serializable(package="keras_ae")
class LossWeight(keras.layers.Layer):
    """Identity layer holding a non-trainable scalar: the weight of a loss term computed outside
    the graph (DrSAE's cross-entropy). Living in the graph, the variable is part of the model's
    state on every backend (JAX's stateless training step included) and is saved with it.
    """

    def __init__(self, weight=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise ValueError(f"weight must be a non-negative number, got {weight!r}.")
        self.weight = float(weight)
        self.loss_weight = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.weight), trainable=False,
            name="loss_weight")

    def set_weight(self, value):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(f"weight must be a non-negative number, got {value!r}.")
        self.loss_weight.assign(float(value))

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}




@keras.saving.register_keras_serializable(package="keras_ae")
@register("drsae")
class DrSAE(ZooModel):
    """Discriminative recurrent sparse autoencoder, e.g. 784-400¹¹-10.

    Args:
        input_shape: image shape (H, W, C); flattened and L2-normalised inside the model.
        units: hidden units (paper: 400).
        steps: unrolled iterations T (paper: 11).
        num_classes: classes of the classifier.
        sparsity: λ of the L1 term ``λ||z||₁`` (0.01: the best of 0.01 / 0.02 / 0.05 by MNIST
            validation error with 400 units, T = 11; the paper does not give its λ).
        reconstruction_weight: weight of ``½||x − D·z||²``.
        classification_weight: initial weight of the cross-entropy term (``DrSAEPhaseSwitch``
            changes it during ``fit``).
        encoder_max_norm: bound on E's rows; ``None`` → the paper's ``1.25 / (steps − 1)``
            (no bound when steps = 1).
        decoder_max_norm: bound on D's columns (paper: 1).
        classifier_max_norm: bound on C's rows (paper: 5).
        scale_shared_gradients: divide E, S, b's gradients by their use counts (the paper's
            learning-rate division; effective with SGD, nearly a no-op with Adam).
        ista_init: initialise as ISTA for a random unit-norm dictionary D (E = α·Dᵀ,
            S = I − α·DᵀD, bias = −α·λ, decoder = D) with α = min(1/||D||₂², E's bound); else
            Keras default initialisers.
        seed: seed of the ISTA initialisation.

    Outputs (dict): ``"logits"`` (batch, num_classes), ``"reconstruction"`` (batch, H, W, C),
    in the normalised input space, ``"code"`` (batch, units) = z^T. ``fit`` takes
    ``(images, labels)`` (or images alone for the unsupervised loss); a label of -1
    (``keras_ae.data.UNLABELLED``) marks an unlabelled example, which adds only the
    reconstruction and sparsity terms (semi-supervised training).
    """

    #: Adam's rate when none is given (``keras-ae train --learning-rate`` overrides it): the
    #: rate of every recorded MNIST run of this model. At Keras' usual 1e-3 the ISTA-initialised
    #: encoder collapses within the first epoch (a handful of the 400 units ever fire) and a
    #: 3-epoch run ends far from its classification error at 2e-4.
    default_learning_rate = 2e-4
    default_loss = None
    fit_target = "label"
    reconstruction_key = "reconstruction"
    accepts_unlabelled = True
    procedure_options = {"unsupervised_epochs": "how many of --epochs train without the "
                                                "cross-entropy (phase 1; default half)"}

    def procedure(self, epochs, unsupervised_epochs=None):
        """Two phases in one ``fit``: ``unsupervised_epochs`` (default half) of reconstruction +
        sparsity, then the rest with the cross-entropy (:class:`DrSAEPhaseSwitch`)."""
        checks.positive_int("epochs", epochs)
        first = epochs // 2 if unsupervised_epochs is None else unsupervised_epochs
        if isinstance(first, bool) or not isinstance(first, int) or not 0 <= first <= epochs:
            raise ValueError(f"unsupervised_epochs must be an int between 0 and epochs "
                             f"({epochs}), got {unsupervised_epochs!r}.")
        weight = self.get_config()["classification_weight"]
        return {"kind": "two_phase", "unsupervised_epochs": first,
                "discriminative_epochs": epochs - first, "classification_weight": weight,
                "description": f"{first} unsupervised epoch(s) (reconstruction + sparsity), then "
                               f"{epochs - first} with the cross-entropy (weight {weight:g})"}

    def fit_procedure(self, data, epochs, callbacks=(), unsupervised_epochs=None, **kwargs):
        plan = self.procedure(epochs, unsupervised_epochs=unsupervised_epochs)
        switch = DrSAEPhaseSwitch(plan["unsupervised_epochs"], plan["classification_weight"])
        return super().fit_procedure(data, epochs, callbacks=[*callbacks, switch], **kwargs)

    def __init__(self, input_shape=(28, 28, 1), units=400, steps=11, num_classes=10,
                 sparsity=0.01, reconstruction_weight=1.0, classification_weight=1.0,
                 encoder_max_norm=None, decoder_max_norm=1.0, classifier_max_norm=5.0,
                 scale_shared_gradients=True, ista_init=True, seed=0, **kwargs):
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3
                or not all(isinstance(d, int) and d > 0 for d in input_shape)):
            raise ValueError(f"input_shape must be (height, width, channels) of positive ints, "
                             f"got {input_shape!r}.")
        input_shape = tuple(input_shape)
        units = checks.positive_int("units", units)
        steps = checks.positive_int("steps", steps)
        num_classes = checks.positive_int("num_classes", num_classes)
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}.")
        sparsity = checks.non_negative("sparsity", sparsity)
        if encoder_max_norm is None and steps > 1:
            bound = 1.25 / (steps - 1)
        else:
            bound = None if encoder_max_norm is None else checks.non_negative(
                "encoder_max_norm", encoder_max_norm)
        for name, value in (("decoder_max_norm", decoder_max_norm),
                            ("classifier_max_norm", classifier_max_norm)):
            if value is not None:
                checks.non_negative(name, value)
        dim = math.prod(input_shape)

        def max_norm(value, axis):
            return None if value is None else keras.constraints.MaxNorm(value, axis=axis)

        enc_in = keras.Input(input_shape, name="images")
        h = keras.layers.Flatten(name="flatten")(enc_in)
        h = keras.layers.UnitNormalization(axis=-1, name="l2_normalize")(h)
        recurrent = UnrolledSparseEncoder(
            units, steps=steps, scale_shared_gradients=scale_shared_gradients,
            kernel_constraint=max_norm(bound, 0), name="recurrent_sparse")
        code = recurrent(h)
        encoder = keras.Model(enc_in, code, name="encoder")

        inputs = keras.Input(input_shape, name="images")
        z = encoder(inputs)
        target = keras.layers.UnitNormalization(axis=-1, name="target_normalize")(
            keras.layers.Flatten(name="target_flatten")(inputs))
        z = ActivityL1(sparsity, name="sparsity")(z)
        decoder_dense = keras.layers.Dense(dim, use_bias=False,
                                           kernel_constraint=max_norm(decoder_max_norm, 1),
                                           name="decoder")
        recon_flat = decoder_dense(z)
        recon_flat = ReconstructionLoss(reconstruction_weight, reduction="sum", scale=0.5,
                                        name="reconstruction_loss")([target, recon_flat])
        reconstruction = keras.layers.Reshape(input_shape, name="reconstruction")(recon_flat)
        z_unit = keras.layers.UnitNormalization(axis=-1, name="code_normalize")(z)
        logits = keras.layers.Dense(num_classes, use_bias=False,
                                    kernel_constraint=max_norm(classifier_max_norm, 0),
                                    name="classifier")(z_unit)
        logits = LossWeight(classification_weight, name="classification_weight")(logits)
        outputs = {"logits": logits, "reconstruction": reconstruction, "code": z}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self._store_config(input_shape=input_shape, units=units, steps=steps,
                           num_classes=num_classes, sparsity=sparsity,
                           reconstruction_weight=reconstruction_weight,
                           classification_weight=classification_weight,
                           encoder_max_norm=encoder_max_norm, decoder_max_norm=decoder_max_norm,
                           classifier_max_norm=classifier_max_norm,
                           scale_shared_gradients=scale_shared_gradients, ista_init=ista_init,
                           seed=seed)
        if ista_init:
            self._ista_initialise(dim, units, sparsity, bound, seed)

    def _ista_initialise(self, dim, units, sparsity, bound, seed):
        rng = np.random.default_rng(seed)
        dictionary = rng.standard_normal((dim, units))
        dictionary /= np.linalg.norm(dictionary, axis=0, keepdims=True)
        lipschitz = np.linalg.norm(dictionary, ord=2) ** 2
        alpha = 1.0 / lipschitz if bound is None else min(1.0 / lipschitz, bound)
        kernel, recurrent, bias = ista_weights(dictionary, alpha, sparsity)
        self.recurrent_layer.set_weights([kernel, recurrent, bias])
        self.get_layer("decoder").set_weights([dictionary.T.astype("float32")])

    @property
    def recurrent_layer(self):
        return self.encoder.get_layer("recurrent_sparse")

    @property
    def classification_weight(self):
        return self.get_layer("classification_weight")

    def set_loss_weights(self, classification=None, reconstruction=None, sparsity=None):
        """Sets loss-term weights in place (no rebuild, no recompile)."""
        if classification is not None:
            self.classification_weight.set_weight(classification)
        if reconstruction is not None:
            self.get_layer("reconstruction_loss").set_weight(reconstruction)
        if sparsity is not None:
            self.get_layer("sparsity").set_weight(sparsity)

    def compile(self, optimizer=None, loss=None, metrics="auto", **kwargs):
        """Compiles with Adam by default. The loss is built in (``compute_loss``): ``loss`` must
        stay None. ``metrics="auto"`` tracks accuracy on the logits of the labelled examples."""
        if loss not in (None, "auto"):
            raise ValueError("DrSAE computes its own loss (reconstruction + sparsity + weighted "
                             f"cross-entropy); compile it with loss=None, got {loss!r}.")
        if isinstance(metrics, str) and metrics == "auto":
            # weighted: compute_metrics gives unlabelled examples (label -1) weight 0
            kwargs.setdefault("weighted_metrics", {
                "logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]})
            metrics = None
        super().compile(optimizer=optimizer, loss=None, metrics=metrics, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        # The add_loss terms (reconstruction, L1) come from the parent; the cross-entropy needs
        # the labels, so it is added here, scaled by the in-graph weight variable.
        total = super().compute_loss(x=x, y=None, y_pred=y_pred, sample_weight=sample_weight,
                                     training=training)
        if y is None:
            return total
        labels = y["logits"] if isinstance(y, dict) else y
        logits = y_pred["logits"] if isinstance(y_pred, dict) else y_pred
        labels = ops.reshape(ops.cast(labels, "int32"), (-1,))
        # Unlabelled examples (label UNLABELLED = -1, keras_ae.data.keep_labels) add only the
        # reconstruction and sparsity terms: the cross-entropy averages over labelled ones.
        weights = self._labelled_weights(labels, sample_weight, logits.dtype)
        cross_entropy = ops.sparse_categorical_crossentropy(
            ops.maximum(labels, 0), logits, from_logits=True)
        cross_entropy = ops.sum(cross_entropy * weights) / ops.maximum(ops.sum(weights), 1e-12)
        weight = ops.cast(self.classification_weight.loss_weight, cross_entropy.dtype)
        return total + weight * cross_entropy

    @staticmethod
    def _labelled_weights(labels, sample_weight, dtype):
        """Per-example weights of the classification terms: 0 for unlabelled examples (label
        -1), times the given sample weights."""
        weights = ops.cast(ops.not_equal(labels, UNLABELLED), dtype)
        if sample_weight is not None:
            sw = sample_weight["logits"] if isinstance(sample_weight, dict) else sample_weight
            weights = weights * ops.reshape(ops.cast(sw, dtype), (-1,))
        return weights

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        # Compiled metrics want a target for every output: the labels stand for "logits", the
        # other outputs are their own targets (no metric is attached to them).
        if y is None:
            return self.get_metrics_result()
        labels = y["logits"] if isinstance(y, dict) else y
        flat = ops.reshape(ops.cast(labels, "int32"), (-1,))
        # accuracy over the labelled examples only
        sample_weight = self._labelled_weights(flat, sample_weight, "float32")
        full = {key: (ops.maximum(flat, 0) if key == "logits" else value)
                for key, value in y_pred.items()}
        return super().compute_metrics(x, full, y_pred, sample_weight)

    def reconstruction_target(self, images):
        """The images scaled to unit L2 norm each: what the decoder reconstructs."""
        images = np.asarray(images, dtype="float32")
        flat = images.reshape(len(images), -1)
        norms = np.sqrt(np.sum(flat ** 2, axis=1, keepdims=True))
        return (flat / np.maximum(norms, 1e-12)).reshape(images.shape)

    def save_analysis(self, images, labels, folder):
        """The unit analysis pictures (:func:`keras_ae.models.drsae.analysis.save_analysis`)."""
        from keras_ae.models.drsae.analysis import save_analysis

        return save_analysis(self, images, labels, folder,
                             title=f"{self.name}: activity over the iterations")

    def classify(self, images, batch_size=256):
        """Predicted class of each image."""
        out = self.predict(images, batch_size=batch_size, verbose=0)
        return np.argmax(out["logits"], axis=-1)


class DrSAEPhaseSwitch(keras.callbacks.Callback):
    """Two-phase DrSAE training in one ``fit``: epochs ``< unsupervised_epochs`` train
    reconstruction + sparsity only (cross-entropy weight 0), later epochs add the cross-entropy
    with weight ``classification_weight``. Changes a variable: no rebuild, no recompile.
    """

    def __init__(self, unsupervised_epochs, classification_weight=1.0):
        super().__init__()
        if isinstance(unsupervised_epochs, bool) or not isinstance(unsupervised_epochs, int) \
                or unsupervised_epochs < 0:
            raise ValueError(f"unsupervised_epochs must be a non-negative int, "
                             f"got {unsupervised_epochs!r}.")
        self.unsupervised_epochs = unsupervised_epochs
        self.classification_weight = checks.non_negative("classification_weight",
                                                         classification_weight)
        self.phase = None

    def on_epoch_begin(self, epoch, logs=None):
        phase = "unsupervised" if epoch < self.unsupervised_epochs else "discriminative"
        if phase != self.phase:
            weight = 0.0 if phase == "unsupervised" else self.classification_weight
            self.model.set_loss_weights(classification=weight)
            self.phase = phase
