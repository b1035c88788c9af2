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

Unit analysis (after the paper's section 4): ``unit_statistics`` / ``label_units`` split hidden
units into *categorical* units (class-selective, switched on late in the recurrence, i.e. through
the recurrent connections) and *part* units (driven by the input from the first step, little class
selectivity); ``save_prototypes``, ``save_part_units`` and ``save_activity_over_iterations``
draw them.
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae.data.semi import UNLABELLED
from keras_ae.layers.losses import ActivityL1, ReconstructionLoss
from keras_ae.layers.recurrent import UnrolledSparseEncoder, ista_weights
from keras_ae.models.base import ZooModel
from keras_ae.models.registry import register

__all__ = [
    "DrSAE",
    "LossWeight",
    "DrSAEPhaseSwitch",
    "encoder_iterates",
    "unit_statistics",
    "label_units",
    "save_prototypes",
    "save_part_units",
    "save_activity_over_iterations",
]


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


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return value


def _check_non_negative(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
    return float(value)


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

    default_learning_rate = 1e-3
    default_loss = None
    fit_target = "label"
    reconstruction_key = "reconstruction"

    def __init__(self, input_shape=(28, 28, 1), units=400, steps=11, num_classes=10,
                 sparsity=0.01, reconstruction_weight=1.0, classification_weight=1.0,
                 encoder_max_norm=None, decoder_max_norm=1.0, classifier_max_norm=5.0,
                 scale_shared_gradients=True, ista_init=True, seed=0, **kwargs):
        if (not isinstance(input_shape, (list, tuple)) or len(input_shape) != 3
                or not all(isinstance(d, int) and d > 0 for d in input_shape)):
            raise ValueError(f"input_shape must be (height, width, channels) of positive ints, "
                             f"got {input_shape!r}.")
        input_shape = tuple(input_shape)
        units = _check_positive_int("units", units)
        steps = _check_positive_int("steps", steps)
        num_classes = _check_positive_int("num_classes", num_classes)
        if num_classes < 2:
            raise ValueError(f"num_classes must be at least 2, got {num_classes}.")
        sparsity = _check_non_negative("sparsity", sparsity)
        if encoder_max_norm is None and steps > 1:
            bound = 1.25 / (steps - 1)
        else:
            bound = None if encoder_max_norm is None else _check_non_negative(
                "encoder_max_norm", encoder_max_norm)
        for name, value in (("decoder_max_norm", decoder_max_norm),
                            ("classifier_max_norm", classifier_max_norm)):
            if value is not None:
                _check_non_negative(name, value)
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
        self.classification_weight = _check_non_negative("classification_weight",
                                                         classification_weight)
        self.phase = None

    def on_epoch_begin(self, epoch, logs=None):
        phase = "unsupervised" if epoch < self.unsupervised_epochs else "discriminative"
        if phase != self.phase:
            weight = 0.0 if phase == "unsupervised" else self.classification_weight
            self.model.set_loss_weights(classification=weight)
            self.phase = phase


# ---------------------------------------------------------------- unit analysis


def encoder_iterates(model, images, batch_size=512):
    """Every iterate z¹…z^T of a DrSAE's encoder: NumPy array (N, T, units)."""
    layer = model.recurrent_layer
    config = {**layer.get_config(), "return_sequences": True, "name": "iterates"}
    for key in ("kernel_constraint", "recurrent_constraint", "bias_constraint",
                "kernel_regularizer", "recurrent_regularizer", "bias_regularizer"):
        config[key] = None
    inputs = keras.Input(model.input_shape[1:])
    h = keras.layers.UnitNormalization(axis=-1)(keras.layers.Flatten()(inputs))
    twin = UnrolledSparseEncoder.from_config(config)
    net = keras.Model(inputs, twin(h))
    twin.set_weights(layer.get_weights())
    return np.asarray(net.predict(np.asarray(images), batch_size=batch_size, verbose=0))


def unit_statistics(model, images, labels, batch_size=512):
    """Per-unit statistics behind the categorical / part labelling.

    Returns a dict of arrays over units:
      ``selectivity``: share of a unit's total final activity given to its preferred class
        (1/num_classes = none, 1 = a single class);
      ``preferred_class``: the class with the largest mean final activity;
      ``first_step_share``: mean activity at step 1 (input drive alone, no recurrence) over
        mean activity at step T (≈1 for input-driven units, ≈0 for units switched on late);
      ``onset``: mean, over the images where the unit ends active, of the first step at which
        it is active (1-based; NaN if never active);
      ``final_mean``: mean final activity; ``iterate_mean``: (T, units) mean activity per step.
    """
    iterates = encoder_iterates(model, images, batch_size=batch_size)
    labels = np.asarray(labels).reshape(-1)
    num_classes = model.get_config()["num_classes"]
    final = iterates[:, -1]
    class_means = np.stack([final[labels == c].mean(axis=0) if np.any(labels == c)
                            else np.zeros(final.shape[1]) for c in range(num_classes)])
    total = class_means.sum(axis=0)
    selectivity = np.where(total > 0, class_means.max(axis=0) / np.maximum(total, 1e-12), 0.0)
    iterate_mean = iterates.mean(axis=0)
    final_mean = iterate_mean[-1]
    first_step_share = np.where(final_mean > 0, iterate_mean[0] / np.maximum(final_mean, 1e-12),
                                np.nan)
    active = iterates > 0
    ends_active = active[:, -1]
    first_on = np.argmax(active, axis=1) + 1.0
    onset = np.where(ends_active.sum(0) > 0,
                     (first_on * ends_active).sum(0) / np.maximum(ends_active.sum(0), 1), np.nan)
    return {"selectivity": selectivity, "preferred_class": class_means.argmax(axis=0),
            "first_step_share": first_step_share, "onset": onset, "final_mean": final_mean,
            "iterate_mean": iterate_mean}


def label_units(stats, selectivity_threshold=0.5, late_onset=2.0, dead_threshold=1e-6):
    """Labels each unit ``"categorical"``, ``"part"`` or ``"dead"`` from ``unit_statistics``.

    A unit is categorical when it is class-selective (``selectivity ≥ selectivity_threshold``)
    and switched on by the recurrence rather than the input (mean ``onset ≥ late_onset`` steps),
    as the paper describes its prototype units; live units that are not are part units.
    Returns an array of strings over units.
    """
    selectivity = np.asarray(stats["selectivity"])
    onset = np.asarray(stats["onset"])
    dead = ~(np.asarray(stats["final_mean"]) > dead_threshold)
    categorical = (selectivity >= selectivity_threshold) & (np.nan_to_num(onset) >= late_onset)
    labels = np.where(categorical, "categorical", "part")
    return np.where(dead, "dead", labels)


def _decoder_columns(model):
    """D's columns (atoms) as images: (units, H, W[, C])."""
    kernel = np.asarray(model.get_layer("decoder").get_weights()[0])  # (units, dim) = Dᵀ
    shape = model.get_config()["input_shape"]
    return kernel.reshape((-1,) + tuple(shape))


def save_prototypes(model, stats, unit_labels, path, max_units=100):
    """Decoder columns of the categorical units, sorted by preferred class, titled with it."""
    from keras_ae.visualize import save_grid

    idx = np.flatnonzero(np.asarray(unit_labels) == "categorical")
    idx = idx[np.argsort(np.asarray(stats["preferred_class"])[idx], kind="stable")][:max_units]
    if len(idx) == 0:
        raise ValueError("no unit is labelled 'categorical': nothing to draw.")
    preferred = np.asarray(stats["preferred_class"])[idx]
    counts = " ".join(f"{c}:{n}" for c, n in zip(*np.unique(preferred, return_counts=True)))
    return save_grid(_decoder_columns(model)[idx], path, ncols=min(len(idx), 10),
                     title=f"categorical units (prototypes) in class order; class:units {counts}")


def save_part_units(model, stats, unit_labels, path, max_units=100):
    """Decoder columns of the part units, most active first."""
    from keras_ae.visualize import save_grid

    idx = np.flatnonzero(np.asarray(unit_labels) == "part")
    idx = idx[np.argsort(-np.asarray(stats["final_mean"])[idx])][:max_units]
    if len(idx) == 0:
        raise ValueError("no unit is labelled 'part': nothing to draw.")
    return save_grid(_decoder_columns(model)[idx], path, ncols=min(len(idx), 10),
                     title="part units (most active first)")


def save_activity_over_iterations(stats, unit_labels, path, title=None):
    """Mean activity of each unit over the iterations, categorical units in red, part in grey."""
    from keras_ae.visualize import pyplot, save_figure

    plt = pyplot()
    iterate_mean = np.asarray(stats["iterate_mean"])
    steps = np.arange(1, iterate_mean.shape[0] + 1)
    unit_labels = np.asarray(unit_labels)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for kind, color in (("part", "0.6"), ("categorical", "tab:red")):
        cols = np.flatnonzero(unit_labels == kind)
        if len(cols):
            axes[0].plot(steps, iterate_mean[:, cols], color=color, alpha=0.3, lw=0.8)
            axes[1].plot(steps, iterate_mean[:, cols].sum(axis=1), color=color, lw=2,
                         label=f"{kind} ({len(cols)} units)")
    axes[0].set_title("mean activity of each unit")
    axes[1].set_title("summed mean activity per unit type")
    for ax in axes:
        ax.set_xlabel("iteration t")
        ax.set_ylabel("mean z_t")
    axes[1].legend()
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
