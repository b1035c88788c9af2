"""DrSAE unit analysis (after the paper's section 4).

``unit_statistics`` / ``label_units`` split hidden units into *categorical* units
(class-selective, switched on late in the recurrence, i.e. through the recurrent connections) and
*part* units (driven by the input from the first step, little class selectivity);
``save_prototypes``, ``save_part_units`` and ``save_activity_over_iterations`` draw them, and
``save_analysis`` draws all three for a model and a labelled set of images.
"""

import keras
import numpy as np
from keras_ae.layers.recurrent import UnrolledSparseEncoder

__all__ = ["encoder_iterates", "unit_statistics", "label_units", "save_prototypes",
           "save_part_units", "save_activity_over_iterations", "save_analysis"]

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


def save_analysis(model, images, labels, folder, title=None):
    """Draws ``prototypes.png``, ``part_units.png`` and ``activity.png`` into ``folder``.

    Returns ``{"files": {name: path}, "skipped": {name: why}}``: a picture with nothing to draw
    (an untrained model may have no categorical units) is skipped, with the reason."""
    import os

    stats = unit_statistics(model, images, labels)
    units = label_units(stats)
    os.makedirs(folder, exist_ok=True)
    drawings = {
        "prototypes": lambda path: save_prototypes(model, stats, units, path),
        "part_units": lambda path: save_part_units(model, stats, units, path),
        "activity": lambda path: save_activity_over_iterations(stats, units, path, title=title),
    }
    report = {"files": {}, "skipped": {}}
    for name, draw in drawings.items():
        try:
            report["files"][name] = draw(os.path.join(folder, f"{name}.png"))
        except ValueError as e:
            report["skipped"][name] = str(e).splitlines()[0]
    return report
