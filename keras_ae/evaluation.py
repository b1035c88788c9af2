"""Feature extraction at inference and the linear-probe evaluation shared by every model.

A linear probe measures how linearly separable an encoder's features are: the encoder is frozen,
its codes (max-pooled for feature maps, as Makhzani & Frey do for Conv-WTA) are standardised,
and a softmax-regression classifier is trained on them with ``model.fit``. The paper used a linear
SVM; softmax regression with Adam is the same family of classifier and needs nothing outside
Keras. ``num_labels`` trains the probe on only that many labelled examples (balanced per class,
via :func:`keras_ae.data.keep_labels`), the semi-supervised setting of 100 / 1000 labels.
"""

import math
import time

import keras
import numpy as np

from keras_ae.checks import label_budget
from keras_ae.data.loading import check_finite
from keras_ae.data.semi import keep_labels, labelled_mask
from keras_ae.models.base import encoder_of
from keras_ae.training import schedules
from keras_ae.training.schedules import SCHEDULES

__all__ = ["encoder_of", "max_pool_features", "extract_features", "feature_activity",
           "train_linear_probe", "probe_features", "linear_probe", "L2_GRID", "SCHEDULES",
           "validation_split", "stratified_folds", "choose_on_held_out", "choose_weight_decay",
           "label_budget", "label_budget_mask", "check_probe_shift", "is_weight_decay",
           "encode_for_probe", "probe_report"]


def max_pool_features(maps, pool_size):
    """Non-overlapping max-pooling of (N, H, W, C) maps with ``pool_size``-square windows.

    Windows at the border that stick out are pooled over the part inside the map, so the result
    is (N, ceil(H/p), ceil(W/p), C).
    """
    maps = np.asarray(maps)
    if maps.ndim != 4:
        raise ValueError(f"maps must be (N, H, W, C), got shape {maps.shape}.")
    if isinstance(pool_size, bool) or not isinstance(pool_size, (int, np.integer)) or pool_size < 1:
        raise ValueError(f"pool_size must be a positive int, got {pool_size!r}.")
    n, h, w, c = maps.shape
    gh, gw = -(-h // pool_size), -(-w // pool_size)
    padded = np.full((n, gh * pool_size, gw * pool_size, c), -np.inf, maps.dtype)
    padded[:, :h, :w] = maps
    return padded.reshape(n, gh, pool_size, gw, pool_size, c).max(axis=(2, 4))


def _auto_pool_size(height):
    # about a 4x4 grid of pooled regions, the size the WTA papers' probes use on MNIST
    return max(1, -(-height // 4))


def extract_features(model, images, pool_size="auto", output_key=None, batch_size=256,
                     chunk_size=2048):
    """Flat features of ``images`` from ``model``'s encoder at inference (sparsity/noise off).

    Args:
        model: a zoo model (its ``encoder`` is used) or any single-input Keras model.
        images: (N, ...) array the encoder accepts (uint8 is scaled to [0, 1]).
        pool_size: for 4-D codes (feature maps), the max-pooling window; ``"auto"`` pools to a
            grid of about 4×4 regions, ``None`` keeps the full maps.
        output_key: for encoders with dict outputs, the key holding the code (default
            ``"code"`` when present, else the only key), or a list of keys: the features of
            each (4-D maps pooled on their own grid) concatenated in that order, e.g. every
            stage of ``StackedConvWTA.stage_encoder()``.
        chunk_size: images encoded at a time, so full-resolution maps of a large set are never
            held in memory at once.

    Returns:
        float32 array (N, features).
    """
    encoder = encoder_of(model)
    if output_key is None:
        output_key = getattr(model, "feature_key", None)
    images = check_finite(np.asarray(images))
    if images.dtype == np.uint8:
        images = images.astype(np.float32) / 255.0
    if pool_size is not None and pool_size != "auto" and (
            isinstance(pool_size, bool) or not isinstance(pool_size, int) or pool_size < 1):
        raise ValueError(f"pool_size must be 'auto', None or a positive int, got {pool_size!r}.")
    if isinstance(output_key, (list, tuple)) and (
            not output_key or not all(isinstance(key, str) for key in output_key)):
        raise TypeError(f"output_key must be a key or a non-empty list of keys (str), got "
                        f"{output_key!r}.")

    def flat(maps):
        maps = np.asarray(maps)
        if maps.ndim == 4 and pool_size is not None:
            maps = max_pool_features(maps, _auto_pool_size(maps.shape[1])
                                     if pool_size == "auto" else pool_size)
        return maps.reshape(len(maps), -1).astype(np.float32)

    parts = []
    for start in range(0, len(images), chunk_size):
        out = encoder.predict(images[start:start + chunk_size], batch_size=batch_size, verbose=0)
        if isinstance(out, dict):
            keys = output_key if isinstance(output_key, (list, tuple)) else [
                output_key or ("code" if "code" in out else
                               next(iter(out)) if len(out) == 1 else None)]
            missing = [key for key in keys if key not in out]
            if missing:
                raise ValueError(f"The encoder returns a dict with keys {sorted(out)}: pass "
                                 f"output_key naming the code (not found: {missing}).")
            parts.append(np.concatenate([flat(out[key]) for key in keys], axis=1))
            continue
        if isinstance(output_key, (list, tuple)):
            raise ValueError("output_key as a list needs an encoder with dict outputs.")
        parts.append(flat(out[0] if isinstance(out, (list, tuple)) else out))
    return np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)


def all_stage_features(model, images, pool_size="auto", **kwargs):
    """Every stage's feature maps of a stacked model (``StackedConvWTA.stage_encoder``), each
    pooled on its own grid as :func:`extract_features` pools, concatenated from the lowest stage
    up: (N, features). Other keyword arguments go to :func:`extract_features`."""
    if not hasattr(model, "stage_encoder"):
        raise TypeError(f"every stage's features need a stacked model with stage_encoder() "
                        f"(stacked_conv_wta), got {type(model).__name__}.")
    return extract_features(model.stage_encoder(), images, pool_size=pool_size,
                            output_key=[f"stage{i}" for i in range(model.num_stages)], **kwargs)


def train_linear_probe(features, labels, num_classes=None, epochs=30, batch_size=128,
                       learning_rate=1e-3, l2=0.0, seed=0, mean=None, std=None, min_steps=1000,
                       schedule="cosine", verbose=0):
    """Trains softmax regression on standardised ``features`` with ``model.fit``.

    ``epochs`` passes over the data, but at least ``min_steps`` optimizer steps: with 100
    labels an epoch is a single step, and 30 steps of Adam leave the probe far from converged.

    ``schedule="cosine"`` anneals Adam's learning rate from ``learning_rate`` to zero over the
    run, so the probe ends at (near) the optimum of its convex objective; with ``"constant"``
    the last mini-batch steps leave it wandering around it, and the test error with it.

    ``mean``/``std`` standardise the features (default: their own statistics; pass those of a
    larger unlabelled set when only a few examples are labelled).

    Returns ``(classifier, mean, std)``: classify new features with
    ``classifier.predict((f - mean) / std)``.
    """
    features = np.asarray(features, np.float32)
    labels = np.asarray(labels)
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(f"features must be (N, D) with one label each, got {features.shape} "
                         f"and {labels.shape}.")
    if len(features) == 0:
        raise ValueError("train_linear_probe needs at least one labelled example.")
    num_classes = int(num_classes or labels.max() + 1)
    mean = features.mean(axis=0) if mean is None else np.asarray(mean, np.float32)
    std = (features.std(axis=0) + 1e-6) if std is None else np.asarray(std, np.float32)
    keras.utils.set_random_seed(seed)
    classifier = keras.Sequential([
        keras.Input((features.shape[1],)),
        # a convex problem: start from zero so no random initial direction has to be unlearnt
        keras.layers.Dense(num_classes, kernel_initializer="zeros",
                           kernel_regularizer=keras.regularizers.L2(l2) if l2 else None,
                           name="linear"),
    ], name="linear_probe")
    batch_size, repeats, total_steps = _probe_steps(len(features), batch_size, epochs, min_steps)
    classifier.compile(optimizer=keras.optimizers.Adam(
                           schedules.learning_rate(learning_rate, schedule, total_steps)),
                       loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                       metrics=["accuracy"])
    x = np.tile((features - mean) / std, (repeats, 1))
    y = np.tile(labels.astype(np.int32), repeats)
    classifier.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
    return classifier, mean, std


def _probe_steps(n, batch_size, epochs, min_steps):
    """``(batch_size, repeats, total_steps)`` of a probe fit on ``n`` examples: small labelled
    sets are tiled ``repeats`` times so that few epochs still give ``min_steps`` steps."""
    batch_size = min(batch_size, n)
    steps_per_epoch = -(-n // batch_size)
    repeats = max(1, -(-min_steps // (steps_per_epoch * epochs)))
    return batch_size, repeats, epochs * -(-(n * repeats) // batch_size)


def _train_probe_heads(features, labels, num_classes, l2s, mean, std, epochs=30, batch_size=128,
                       learning_rate=1e-3, seed=0, min_steps=1000, schedule="cosine", verbose=0):
    """One softmax-regression head per weight decay in ``l2s``, trained in one ``model.fit``.

    The heads share nothing but the mini-batches: the loss is the sum of each head's mean
    cross-entropy plus its own ``l2 * ||W||²``, and Adam works elementwise, so every head follows
    the very steps :func:`train_linear_probe` would take with its ``l2`` and ``seed`` (tested),
    at the cost of about one fit instead of ``len(l2s)`` (what makes choosing the weight decay
    by cross-validation affordable).

    Returns:
        the Keras model: its logits are ``(N, len(l2s) * num_classes)``, head after head (see
        :func:`_head_errors`).
    """
    from keras import ops

    features = np.asarray(features, np.float32)
    labels = np.asarray(labels)
    heads = len(l2s)
    strengths = np.repeat(np.asarray(l2s, np.float32), num_classes)  # one per kernel column

    def weight_decay(kernel):
        return ops.sum(ops.multiply(ops.square(kernel), ops.convert_to_tensor(strengths)))

    def summed_cross_entropy(y_true, logits):
        log_p = ops.log_softmax(ops.reshape(logits, (-1, heads, num_classes)), axis=-1)
        one_hot = ops.one_hot(ops.cast(ops.reshape(y_true, (-1,)), "int32"), num_classes)
        return -ops.sum(log_p * one_hot[:, None, :], axis=(1, 2))

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((features.shape[1],)),
        keras.layers.Dense(heads * num_classes, kernel_initializer="zeros",
                           kernel_regularizer=weight_decay, name="linear_heads"),
    ], name="linear_probe_heads")
    batch_size, repeats, total_steps = _probe_steps(len(features), batch_size, epochs, min_steps)
    model.compile(optimizer=keras.optimizers.Adam(
                      schedules.learning_rate(learning_rate, schedule, total_steps)),
                  loss=summed_cross_entropy)
    model.fit(np.tile((features - mean) / std, (repeats, 1)),
              np.tile(labels.astype(np.int32), repeats),
              epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
    return model


def _head_errors(model, num_classes, features, labels, mean, std):
    """The error fraction of each head of a :func:`_train_probe_heads` model (or of a
    one-head classifier)."""
    logits = model.predict((np.asarray(features, np.float32) - mean) / std, batch_size=1024,
                           verbose=0)
    predictions = np.argmax(logits.reshape(len(logits), -1, num_classes), axis=-1)
    return np.mean(predictions != np.asarray(labels)[:, None], axis=0)


#: The L2 strengths ``l2="auto"`` chooses from (on standardised features).
L2_GRID = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)


def is_weight_decay(value):
    """Whether ``value`` is a usable weight decay: a real number (not a bool), finite, >= 0."""
    return (isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)
            and math.isfinite(value) and value >= 0)


def _l2_candidates(l2):
    if isinstance(l2, str) and l2 == "auto":
        return list(L2_GRID)
    values = list(l2) if isinstance(l2, (list, tuple, np.ndarray)) else [l2]
    if not values:
        raise ValueError("l2 must not be an empty sequence.")
    if not all(map(is_weight_decay, values)):
        raise ValueError(f"l2 must be a finite number >= 0, a sequence of them or 'auto', "
                         f"got {l2!r}.")
    return [float(v) for v in values]








def label_budget_mask(labels, num_labels=None, seed=0):
    """Which training examples keep their label when only ``num_labels`` of them may be used:
    all for ``None``, else a class-balanced draw with ``seed`` (:func:`keras_ae.data.keep_labels`)."""
    if num_labels is None:
        return np.ones(len(labels), bool)
    return labelled_mask(keep_labels(labels, num_labels, seed=seed))


def feature_activity(features):
    """How much of its feature vector a model uses on some images: dead ReLU units show here.

    Args:
        features: (N, ...) features, e.g. from :func:`extract_features`; every trailing entry
            is one feature (a hidden unit; a pooled map position for conv models).

    Returns:
        a dict: ``features`` (how many), ``never_active`` (how many are <= 0 on every image) and
        ``median_active_fraction`` (the median over features of the fraction of images on which
        the feature is positive).
    """
    features = np.asarray(features)
    if features.ndim < 2 or len(features) == 0:
        raise ValueError(f"features must be (N, ...) with N >= 1 images, got shape "
                         f"{features.shape}.")
    per_feature = (features.reshape(len(features), -1) > 0).mean(axis=0)
    return {"features": int(per_feature.size),
            "never_active": int(np.sum(per_feature == 0)),
            "median_active_fraction": float(np.median(per_feature))}


def validation_split(labels, fraction=1 / 6, seed=0):
    """Stratified hold-out: ``(fit_index, validation_index)`` into ``labels``.

    Each class with at least two examples gives ``max(1, round(fraction * count))`` of them (but
    never all) to validation, chosen at random with ``seed``.
    """
    labels = np.asarray(labels)
    if not 0 < fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {fraction!r}.")
    rng = np.random.default_rng(seed)
    fit, val = [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        n_val = 0 if len(members) < 2 else min(len(members) - 1,
                                                max(1, int(round(fraction * len(members)))))
        val.append(members[:n_val])
        fit.append(members[n_val:])
    return np.sort(np.concatenate(fit)), np.sort(np.concatenate(val))


def stratified_folds(labels, folds, seed=0):
    """Stratified k-fold split: ``folds`` pairs ``(fit_index, validation_index)`` into ``labels``.

    Every example is in exactly one validation fold. The examples of each class are shuffled
    with ``seed`` and dealt to the folds in turn, continuing from where the previous class
    stopped, so each class's count per fold, and every fold's size, differ by at most one.
    """
    labels = np.asarray(labels)
    if (not isinstance(folds, (int, np.integer)) or isinstance(folds, bool)
            or not 2 <= folds <= len(labels)):
        raise ValueError(f"folds must be an int from 2 to the number of labelled examples "
                         f"({len(labels)}), got {folds!r}.")
    rng = np.random.default_rng(seed)
    fold_of = np.empty(len(labels), np.int64)
    dealt = 0
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        fold_of[members] = (dealt + np.arange(len(members))) % folds
        dealt += len(members)
    return [(np.flatnonzero(fold_of != j), np.flatnonzero(fold_of == j)) for j in range(folds)]


def _check_folds(folds):
    if not isinstance(folds, (int, np.integer)) or isinstance(folds, bool) or folds < 1:
        raise ValueError(f"folds must be an int >= 1 (1: one held-out part; k >= 2: k-fold "
                         f"cross-validation), got {folds!r}.")


def choose_on_held_out(labels, candidates, error_of, folds=1, validation_fraction=1 / 6, seed=0,
                       tie_break=max, vectorized=False, on_split=None):
    """Chooses a hyperparameter (a probe's weight decay, an SVM's C) on held-out labelled data.

    Args:
        labels: the labels of the labelled examples.
        candidates: the values to choose from.
        error_of: ``error_of(candidate, fit_index, validation_index)`` fits with ``candidate``
            on the examples ``fit_index`` and returns the error fraction on ``validation_index``.
        folds: ``1`` holds out one stratified ``validation_fraction`` of the examples
            (:func:`validation_split`); ``k >= 2`` runs stratified k-fold cross-validation
            (:func:`stratified_folds`): every example is held out once and a candidate's error
            is over all of them, a less noisy choice at k times the cost.
        tie_break: among equally good candidates, ``max`` or ``min`` picks the one kept (the
            stronger regularisation: the largest weight decay, the smallest C).
        vectorized: ``error_of(candidates, fit_index, validation_index)`` evaluates every
            candidate on a split at once and returns one error per candidate.
        on_split: called with (split number, number of splits) after each split (progress).

    Returns:
        a dict: ``candidates``, ``validation_error`` (one per candidate), ``validation_examples``,
        ``folds`` and ``chosen``.
    """
    _check_folds(folds)
    if folds == 1:
        splits = [validation_split(labels, validation_fraction, seed=seed)]
        if len(splits[0][1]) == 0:
            raise ValueError("Choosing among candidates on held-out labels needs at least two "
                             "labelled examples of some class; pass a single value instead.")
    else:
        splits = stratified_folds(labels, folds, seed=seed)
    held_out = sum(len(val) for _, val in splits)
    errors_of = error_of if vectorized else (
        lambda values, fit, val: [error_of(c, fit, val) for c in values])
    per_split = []
    for number, (fit, val) in enumerate(splits, 1):
        per_split.append(np.asarray(errors_of(list(candidates), fit, val), np.float64) * len(val))
        if on_split is not None:
            on_split(number, len(splits))
    errors = [float(e) for e in np.sum(per_split, axis=0) / held_out]
    best = min(errors)
    return {"candidates": list(candidates), "validation_error": errors,
            "validation_examples": int(held_out), "folds": int(folds),
            "chosen": tie_break(c for c, e in zip(candidates, errors) if e == best)}


def choose_weight_decay(features, labels, candidates, num_classes, mean, std, folds=1,
                        validation_fraction=1 / 6, label_seed=0, joint=True, epochs=30,
                        batch_size=128, learning_rate=1e-3, seed=0, min_steps=1000,
                        schedule="cosine", verbose=0, copies=(), on_split=None):
    """The probe's weight decay chosen among ``candidates`` on held-out labelled examples.

    See :func:`choose_on_held_out` for ``folds`` / ``validation_fraction`` (splits drawn with
    ``label_seed``) and :func:`train_linear_probe` for the fit settings. With ``joint=True`` the
    candidates of a split are trained together as independent heads of one model (the same
    optimizer steps as separate fits, at about the cost of one); ``joint=False`` fits each
    candidate with :func:`train_linear_probe`, the reference the joint path is tested against.

    ``copies``: feature arrays row-aligned with ``features`` (augmented versions of the same
    examples, see :func:`probe_features`). The splits are drawn over the original examples; a
    fit takes each of its examples' copies with it, and validation scores the originals alone,
    so no copy of a held-out example is ever fitted.

    Returns:
        :func:`choose_on_held_out`'s dict.
    """
    features = np.asarray(features, np.float32)
    labels = np.asarray(labels)
    copies = _check_copies(copies, features)
    fit_kwargs = dict(epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                      seed=seed, min_steps=min_steps, schedule=schedule, verbose=verbose)

    def fit_set(index):
        return _with_copies(features[index], labels[index], [c[index] for c in copies])

    def errors_of(strengths, fit_index, val_index):
        heads = _train_probe_heads(*fit_set(fit_index), num_classes, strengths, mean, std,
                                   **fit_kwargs)
        return _head_errors(heads, num_classes, features[val_index], labels[val_index],
                            mean, std)

    def error_of(strength, fit_index, val_index):
        classifier, _, _ = train_linear_probe(*fit_set(fit_index), num_classes, l2=strength,
                                              mean=mean, std=std, **fit_kwargs)
        return _error(classifier, features[val_index], labels[val_index], mean, std)

    return choose_on_held_out(labels, candidates, errors_of if joint else error_of,
                              folds=folds, validation_fraction=validation_fraction,
                              seed=label_seed, vectorized=joint, on_split=on_split)


def _check_copies(copies, features, name="copies"):
    """``copies`` as a list of float32 arrays, each shaped like ``features`` (N, D)."""
    if copies is None:
        return []
    if isinstance(copies, np.ndarray):
        raise TypeError(f"{name} must be a sequence of (N, D) feature arrays (one per "
                        f"augmented copy), got one array of shape {copies.shape}.")
    copies = [np.asarray(c, np.float32) for c in copies]
    for i, c in enumerate(copies):
        if c.shape != features.shape:
            raise ValueError(f"{name}[{i}] must be row-aligned with the training features, "
                             f"shape {features.shape}, got {c.shape}.")
    return copies


def _with_copies(features, labels, copies):
    """The examples followed by each of their copies, with their labels repeated."""
    if not copies:
        return features, labels
    return (np.concatenate([features] + list(copies)),
            np.tile(labels, 1 + len(copies)))


def _error(classifier, features, labels, mean, std):
    num_classes = classifier.output_shape[-1]
    return float(_head_errors(classifier, num_classes, features, labels, mean, std)[0])


def probe_features(train_features, train_labels, test_features, test_labels, num_labels=None,
                   epochs=30, batch_size=128, learning_rate=1e-3, l2=0.0, min_steps=1000,
                   label_seed=0, seed=0, validation_fraction=1 / 6, folds=1,
                   schedule="cosine", verbose=0, train_copies=None, on_split=None):
    """Linear-probe error on features already extracted (see :func:`linear_probe`).

    Extract once, probe several label budgets: encoding is the slow part for conv models.

    ``l2`` is the weight decay of the classifier, or, as the C of the paper's linear SVM would
    be, chosen on held-out labelled data: ``"auto"`` (from :data:`L2_GRID`) or a sequence of
    candidates. Each candidate is trained on the labelled examples minus a stratified
    ``validation_fraction`` of them, or, with ``folds=k >= 2``, by k-fold cross-validation (k fits
    per candidate, every labelled example held out once: see :func:`choose_on_held_out`); the one
    with the lowest validation error (ties go to the stronger) is then retrained on all the
    labelled examples. The test set is never looked at. The candidates of one split are trained
    together, as independent heads of one model (the same steps as separate fits, at about the
    cost of one).

    ``train_copies`` (data augmentation for the probe): feature arrays row-aligned with
    ``train_features``, each holding the features of the training images transformed once
    (e.g. moved by a few pixels: ``keras_ae.data.shifted_copies``). Every labelled example is
    then fitted together with its copies (same label); the label budget, the standardisation
    statistics, the weight decay's validation folds (which score unmoved examples only: a
    held-out example's copies are held out with it), ``train_error`` and the test set stay on
    the original examples.
    """
    train_features = np.asarray(train_features, np.float32)
    test_features = np.asarray(test_features, np.float32)
    train_labels = np.asarray(train_labels)
    test_labels = np.asarray(test_labels)
    copies = _check_copies(train_copies, train_features, name="train_copies")
    candidates = _l2_candidates(l2)
    schedules.check_schedule(schedule)  # before the l2 candidates are fitted
    _check_folds(folds)
    mask = label_budget_mask(train_labels, num_labels, seed=label_seed)
    num_classes = int(max(train_labels.max(), test_labels.max()) + 1)
    # standardised with statistics of all training features, labelled or not
    mean = train_features.mean(axis=0)
    std = train_features.std(axis=0) + 1e-6
    features, labels = train_features[mask], train_labels[mask]
    copies = [c[mask] for c in copies]

    def fit(x, y, strength):
        return train_linear_probe(x, y, num_classes, epochs=epochs, batch_size=batch_size,
                                  learning_rate=learning_rate, l2=strength, seed=seed,
                                  min_steps=min_steps, mean=mean, std=std, schedule=schedule,
                                  verbose=verbose)[0]

    start = time.perf_counter()
    selection = None
    chosen = candidates[0]
    if len(candidates) > 1:
        selection = choose_weight_decay(
            features, labels, candidates, num_classes, mean, std, folds=folds,
            validation_fraction=validation_fraction, label_seed=label_seed, epochs=epochs,
            batch_size=batch_size, learning_rate=learning_rate, seed=seed, min_steps=min_steps,
            schedule=schedule, verbose=verbose, copies=copies, on_split=on_split)
        chosen = selection["chosen"]
    classifier = fit(*_with_copies(features, labels, copies), chosen)
    fit_s = time.perf_counter() - start
    return {
        "test_error": _error(classifier, test_features, test_labels, mean, std),
        "train_error": _error(classifier, features, labels, mean, std),
        "num_labels": int(mask.sum()),
        "feature_dim": int(train_features.shape[1]),
        "probe": {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                  "l2": chosen, "min_steps": min_steps, "optimizer": "adam",
                  "schedule": schedule,
                  "classifier": "softmax regression"},
        "l2_selection": selection,
        "augmented_copies": len(copies),
        "fit_seconds": round(fit_s, 2),
    }


def linear_probe(model, train_images, train_labels, test_images, test_labels, num_labels=None,
                 pool_size="auto", epochs=30, batch_size=128, learning_rate=1e-3, l2=0.0,
                 min_steps=1000, label_seed=0, seed=0, output_key=None,
                 validation_fraction=1 / 6, folds=1, schedule="cosine", verbose=0, shift=0,
                 copies=1, stages="top"):
    """Linear-probe error of ``model``'s features: encode, train softmax regression, test.

    Args:
        model: a zoo model (its encoder is used) or an encoder.
        num_labels: train the probe on only this many training labels (balanced per class,
            chosen with ``label_seed``); ``None`` uses all. Standardisation statistics come from
            all training features (no labels needed for them).
        pool_size, output_key: see :func:`extract_features`.
        stages: ``"top"``, or ``"all"``: every stage of a stacked model, each pooled on its own
            grid, concatenated (:func:`all_stage_features`).
        l2, validation_fraction, folds: a fixed weight decay, or ``"auto"`` / candidates chosen
            on a held-out part of the labelled examples or by k-fold cross-validation (see
            :func:`probe_features`).
        schedule: Adam's learning rate, ``"cosine"`` (annealed to zero) or ``"constant"``.
        shift, copies: data augmentation for the probe (not for the encoder): with ``shift``
            >= 1, the probe is also fitted on ``copies`` versions of each labelled training
            image moved by up to ``shift`` pixels at random
            (:func:`keras_ae.data.shifted_copies`, drawn from ``seed``), as
            :func:`probe_features`' ``train_copies``: the weight decay's validation, the
            standardisation and the test set stay on unmoved images. Every copy of the whole
            training set is encoded (``copies`` times the encoding time).

    Returns:
        a dict with ``test_error`` and ``train_error`` (fractions), ``num_labels``,
        ``feature_dim``, the probe's settings (``shift``, ``augmented_copies``) and the
        seconds spent encoding and fitting.
    """
    encoded = encode_for_probe(model, train_images, test_images, pool_size=pool_size,
                               output_key=output_key, stages=stages, shift=shift, copies=copies,
                               seed=seed)
    result = probe_features(encoded["train"], train_labels, encoded["test"], test_labels,
                            num_labels=num_labels, epochs=epochs, batch_size=batch_size,
                            learning_rate=learning_rate, l2=l2, min_steps=min_steps,
                            label_seed=label_seed, seed=seed,
                            validation_fraction=validation_fraction, folds=folds,
                            schedule=schedule, verbose=verbose, train_copies=encoded["copies"])
    return {**result, "pool_size": pool_size, "shift": shift,
            "encode_seconds": encoded["seconds"]}


def encode_for_probe(model, train_images, test_images, pool_size="auto", output_key=None,
                     stages="top", shift=0, copies=1, seed=0, progress=None):
    """The features a probe needs, encoded once: ``{"train", "test", "copies", "seconds"}``
    (``copies``: the features of ``copies`` moved versions of the training images when
    ``shift`` >= 1, else ``None``). ``stages="all"``: every stage of a stacked model
    (:func:`all_stage_features`). ``progress``: called with a message after each encoded set."""
    copies = check_probe_shift(shift, copies)
    if stages not in ("top", "all"):
        raise ValueError(f"stages must be 'top' or 'all', got {stages!r}.")
    if shift:
        from keras_ae.data.loading import check_shift

        check_shift(shift, np.shape(train_images))  # before anything is encoded
    start = time.perf_counter()
    if stages == "all":
        def features(images):
            return all_stage_features(model, images, pool_size)
    else:
        def features(images):
            return extract_features(model, images, pool_size, output_key)
    progress = progress or (lambda message: None)
    out = {"train": features(train_images)}
    progress(f"encoded {len(train_images)} training images")
    out["test"] = features(test_images)
    progress(f"encoded {len(test_images)} test images")
    out["copies"] = None
    if copies:
        from keras_ae.data.loading import shifted_copies

        out["copies"] = []
        for number, moved in enumerate(shifted_copies(train_images, shift, copies, seed=seed), 1):
            out["copies"].append(features(moved))
            progress(f"encoded moved copy {number}/{copies}")
    out["seconds"] = round(time.perf_counter() - start, 2)
    return out


def probe_report(model, train_images, train_labels, test_images, test_labels,
                 budgets=("all",), pool_size="auto", stages="top", epochs=30, batch_size=128,
                 l2="auto", folds=1, shift=0, copies=1, seed=0, verbose=0, encoded=None):
    """Linear probes of ``model``'s features with each label budget (``"all"`` or a count):
    the features are encoded once (or given: ``encoded``, what :func:`encode_for_probe`
    returned for these images and settings, so that other measures can share one
    encoding), each budget draws its labels with ``seed``. Returns a
    JSON-ready dict (what ``keras-ae probe`` prints): ``feature_dim``, ``encode_seconds`` and
    per budget ``test_error_percent``, ``train_error_percent``, ``l2``, ``l2_selection``.
    ``verbose=1`` prints a line as each part ends (encoding, each cross-validation split, each
    budget's final fit) on stderr, so a long probe shows where it is."""
    import sys

    started = time.perf_counter()

    def say(message):
        if verbose:
            print(f"[probe {time.perf_counter() - started:7.1f}s] {message}", file=sys.stderr,
                  flush=True)

    if encoded is None:
        encoded = encode_for_probe(model, train_images, test_images, pool_size=pool_size,
                                   stages=stages, shift=shift, copies=copies, seed=seed,
                                   progress=say)
    elif len(encoded["train"]) != len(train_images) or len(encoded["test"]) != len(test_images):
        raise ValueError(f"encoded holds {len(encoded['train'])} training and "
                         f"{len(encoded['test'])} test features for {len(train_images)} and "
                         f"{len(test_images)} images.")
    report = {"train_examples": int(len(train_images)), "test_examples": int(len(test_images)),
              "feature_dim": int(encoded["train"].shape[1]), "pool_size": pool_size,
              "stages": stages, "shift": shift, "copies": check_probe_shift(shift, copies),
              "encode_seconds": encoded["seconds"], "probes": {}}
    for spec in budgets:
        result = probe_features(
            encoded["train"], train_labels, encoded["test"], test_labels,
            num_labels=label_budget(spec), epochs=epochs, batch_size=batch_size, l2=l2,
            folds=folds, label_seed=seed, seed=seed, train_copies=encoded["copies"],
            on_split=lambda i, n, spec=spec: say(f"{spec} labels: weight decay, split {i}/{n}"))
        say(f"{spec} labels: test error {100.0 * result['test_error']:.2f} %")
        report["probes"][str(spec)] = {
            "test_error_percent": 100.0 * result["test_error"],
            "train_error_percent": 100.0 * result["train_error"],
            "num_labels": result["num_labels"], "l2": result["probe"]["l2"],
            "l2_selection": result["l2_selection"], "fit_seconds": result["fit_seconds"]}
    return report


def check_probe_shift(shift, copies):
    """Validates the probe's augmentation arguments (``shift`` pixels, ``copies`` per image);
    returns the number of copies that will be fitted (0 without a shift)."""
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or shift < 0:
        raise ValueError(f"shift must be a whole number of pixels >= 0, got {shift!r}.")
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValueError(f"copies must be a whole number >= 1, got {copies!r}.")
    if copies != 1 and not shift:
        raise ValueError(f"copies={copies} needs shift >= 1 (the moved copies' largest offset "
                         f"in pixels); without a shift nothing is copied.")
    return int(copies) if shift else 0
