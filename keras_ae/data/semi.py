"""Semi-supervised splits: keep N labels (balanced per class, seeded), mark the rest unlabelled.

Unlabelled examples carry the label :data:`UNLABELLED` (-1). Models of the zoo compile their
classification loss with ``ignore_class=UNLABELLED`` so those examples contribute only their
reconstruction terms (which are added through ``add_loss`` and see every example).
"""

import numpy as np

UNLABELLED = -1


def keep_labels(labels, num_labels, seed=0, num_classes=None):
    """Returns a copy of ``labels`` where all but ``num_labels`` entries are ``UNLABELLED``.

    The kept labels are spread evenly over the classes (``num_labels // num_classes`` each, the
    remainder going to the first classes), chosen at random with ``seed``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be a 1-D array of class ids, got shape {labels.shape}.")
    classes = np.unique(labels[labels != UNLABELLED]) if num_classes is None else np.arange(num_classes)
    if not isinstance(num_labels, (int, np.integer)) or not 0 <= num_labels <= len(labels):
        raise ValueError(
            f"num_labels must be an integer between 0 and the number of examples "
            f"({len(labels)}), got {num_labels!r}."
        )
    rng = np.random.default_rng(seed)
    base, extra = divmod(int(num_labels), len(classes))
    keep = []
    for i, c in enumerate(classes):
        want = base + (1 if i < extra else 0)
        members = np.flatnonzero(labels == c)
        if want > len(members):
            raise ValueError(
                f"num_labels={num_labels} asks for {want} labels of class {c}, which has only "
                f"{len(members)} examples."
            )
        keep.append(rng.choice(members, want, replace=False))
    out = np.full_like(labels, UNLABELLED)
    keep = np.concatenate(keep) if keep else np.array([], dtype=np.int64)
    out[keep] = labels[keep]
    return out


def labelled_mask(labels):
    return np.asarray(labels) != UNLABELLED


def semi_supervised_dataset(images, labels, num_labels, batch_size=128, seed=0,
                            labelled_fraction=None, flatten=False, labelled_shift=0):
    """A training pipeline mixing labelled and unlabelled examples.

    Args:
        labelled_fraction: if given, each batch draws labelled examples with this probability
            (the few labelled ones are repeated), so 100 labels among 60,000 images still reach
            the classifier every step. ``None`` keeps the natural proportion.
        labelled_shift: translate each labelled example, every time it is drawn, by a random
            whole number of pixels in ``[-labelled_shift, labelled_shift]`` along each spatial
            axis (independently; the uncovered border is filled with zeros). Data augmentation
            for the repeated labelled examples; unlabelled ones are left as they are. Needs
            ``labelled_fraction``; images of shape ``(N, H, W)`` or ``(N, H, W, C)``.

    Yields ``(images, labels)`` with ``labels == UNLABELLED`` for unlabelled examples. The
    pipeline repeats forever when ``labelled_fraction`` is set: pass ``steps_per_epoch`` to fit.
    """
    import tensorflow as tf

    from keras_ae.data.loading import check_shift, make_dataset, shift_image, to_float_images

    labelled_shift = check_shift(labelled_shift, np.shape(images), "labelled_shift")
    partial = keep_labels(labels, num_labels, seed=seed)
    if labelled_fraction is None:
        if labelled_shift:
            raise ValueError("labelled_shift needs labelled_fraction (the mixed pipeline).")
        return make_dataset(images, partial, batch_size=batch_size, seed=seed, flatten=flatten)
    if not 0.0 < labelled_fraction < 1.0:
        raise ValueError(f"labelled_fraction must be in (0, 1), got {labelled_fraction!r}.")
    mask = labelled_mask(partial)
    if not mask.any():
        raise ValueError("labelled_fraction needs at least one labelled example (num_labels > 0).")

    x = to_float_images(images)
    y = partial.astype(np.int32)
    flat = x.reshape(len(x), -1) if flatten else x  # flattened once, where nothing is shifted

    def stream(m, shift=0):
        ds = tf.data.Dataset.from_tensor_slices((x[m] if shift else flat[m], y[m]))
        ds = ds.shuffle(int(m.sum()), seed=seed).repeat()
        if shift:  # per draw, from a stateless seed: the same pipeline for the same seed
            ds = ds.enumerate().map(lambda i, xy: (shift_image(xy[0], shift, (seed, i)), xy[1]))
            if flatten:
                ds = ds.map(lambda image, label: (tf.reshape(image, [-1]), label))
        return ds

    mixed = tf.data.Dataset.sample_from_datasets(
        [stream(mask, labelled_shift), stream(~mask)],
        weights=[labelled_fraction, 1.0 - labelled_fraction], seed=seed)
    return mixed.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)

