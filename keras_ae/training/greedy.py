"""Greedy stage-by-stage training of a stacked model, then optional end-to-end fine-tuning.

One trainer for every stack of the zoo (``stacked_autoencoder``, ``stacked_conv_wta``). A stack
offers three things:

* ``num_stages``: how many stages it has;
* ``stage_model(i)``: a Keras model from images to stage ``i``'s reconstruction of its own input
  (the features of the stages below, or the images for stage 0), whose loss is added with
  ``add_loss`` (compile it with ``loss=None``), sharing its layers with the stack;
* ``stage_layers(i)``: the layers that stage ``i`` trains (the others are frozen meanwhile);

and optionally

* ``fine_tune_model()``: a Keras model from images to the stack's reconstruction whose loss is
  added with ``add_loss``, sharing every layer with the stack: what end-to-end fine-tuning fits
  (``stacked_conv_wta``: the images through every stage's sparsity). Without it, fine-tuning
  fits the stack itself on ``(images, images)`` with its own loss.
"""

import os

import keras

from keras_ae.training.checkpoint import resumable_fit
from keras_ae.training.schedules import check_schedule
from keras_ae.training.schedules import learning_rate as schedule_learning_rate

__all__ = ["train_greedily"]


def _images_only(data):
    """A ``tf.data`` pipeline of ``(images, ...)`` tuples -> images; arrays pass through."""
    element_spec = getattr(data, "element_spec", None)
    if isinstance(element_spec, tuple):
        return data.map(lambda *parts: parts[0])
    return data


def _per_stage_epochs(epochs, stages):
    per_stage = [epochs] * stages if isinstance(epochs, int) else list(epochs)
    if len(per_stage) != stages or not all(
            isinstance(e, int) and not isinstance(e, bool) and e >= 0 for e in per_stage):
        raise ValueError(f"epochs must be a non-negative int or a list of one per stage "
                         f"({stages}), got {epochs!r}.")
    return per_stage


def train_greedily(model, data, epochs, batch_size=100, fine_tune_epochs=0, learning_rate=1e-3,
                   lr_schedule="constant", callbacks=None, verbose=0, checkpoint_dir=None,
                   seed=0):
    """Trains ``model`` stage by stage, bottom up, then optionally end to end.

    Stage ``i`` trains ``model.stage_layers(i)`` through ``model.stage_model(i)``, every other
    stage frozen; with ``fine_tune_epochs > 0`` the whole model is then trained end to end on
    image reconstruction: ``model.fine_tune_model()`` if the stack has one, else the model with
    its own default loss (see the module docstring). A stack whose ``fine_tune_trains`` is
    ``"decoders"`` fine-tunes with its ``encoder`` frozen (its features stay the greedy ones).

    Args:
        model: a stack (see the module docstring): a ``StackedAutoencoder`` or a
            ``StackedConvWTA``.
        data: images (N, H, W, C) as an array, or a ``tf.data`` pipeline of batches of images or
            of ``(images, ...)`` tuples (batched with ``drop_remainder=True`` for WTA stacks:
            lifetime sparsity needs every batch large).
        epochs: epochs per stage (an int, or one int per stage; 0 skips a stage, e.g. one
            loaded with ``StackedConvWTA.load_stage``).
        batch_size: used when ``data`` is an array.
        fine_tune_epochs: end-to-end epochs after the greedy stages (0 here; the models'
            ``fit_procedure`` defaults to as many as ``epochs``).
        learning_rate: Adam's initial learning rate, for every stage and for fine-tuning.
        lr_schedule: ``"constant"``, or ``"cosine"``: each stage (and fine-tuning) anneals its
            own fresh Adam's rate from ``learning_rate`` to zero over its own epochs. A
            ``tf.data`` pipeline must then have a known number of batches.
        callbacks: Keras callbacks passed to every ``fit``.
        verbose: ``fit``'s verbosity.
        checkpoint_dir: a folder for checkpoints after every epoch, ``stage0``, ``stage1``, ...
            and ``fine_tune`` inside (:func:`keras_ae.training.resumable_fit`). Rerun with the
            same folder, training resumes where it stopped: finished stages are loaded, not
            trained again, and a stage whose successor has started cannot be given more epochs.
        seed: the shuffle seed when ``data`` is an array.

    Returns:
        a dict: the history (per-epoch lists, the epochs before a restart included) of each
        stage trained (``"stage0"``, ...) and of fine-tuning (``"fine_tune"``).
    """
    for attribute in ("num_stages", "stage_model", "stage_layers"):
        if not hasattr(model, attribute):
            raise TypeError(f"model must be a stack with num_stages, stage_model() and "
                            f"stage_layers() (stacked_autoencoder, stacked_conv_wta), got "
                            f"{type(model).__name__}.")
    per_stage = _per_stage_epochs(epochs, model.num_stages)
    if isinstance(fine_tune_epochs, bool) or not isinstance(fine_tune_epochs, int) \
            or fine_tune_epochs < 0:
        raise ValueError(f"fine_tune_epochs must be a non-negative int, got {fine_tune_epochs!r}.")
    check_schedule(lr_schedule)
    images = _images_only(data)
    if not hasattr(images, "element_spec"):
        import tensorflow as tf

        # A small last batch would make lifetime sparsity keep everything (or raise).
        images = (tf.data.Dataset.from_tensor_slices(images).shuffle(len(images), seed=seed)
                  .batch(batch_size, drop_remainder=len(images) >= batch_size)
                  .prefetch(tf.data.AUTOTUNE))
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

    def freeze_all_but(stage):
        for i in range(model.num_stages):
            for layer in model.stage_layers(i):
                layer.trainable = stage is None or i == stage

    histories = {}
    try:
        for stage, stage_epochs in enumerate(per_stage):
            if not stage_epochs:
                continue
            freeze_all_but(stage)
            if verbose:
                print(f"Greedy stage {stage + 1}/{model.num_stages}: {stage_epochs} epoch(s), "
                      f"the other stages frozen", flush=True)
            trainer = model.stage_model(stage)
            trainer.compile(optimizer=adam(stage_epochs), loss=None)
            histories[f"stage{stage}"] = fit(trainer, images, f"stage{stage}", stage_epochs)
    finally:
        freeze_all_but(None)
    if fine_tune_epochs:
        decoders_only = getattr(model, "fine_tune_trains", "all") == "decoders"
        if verbose:
            print(f"Fine-tuning end to end{' (decoders only, encoder frozen)' if decoders_only else ''}: "
                  f"{fine_tune_epochs} epoch(s)", flush=True)
        trainer = model.fine_tune_model() if hasattr(model, "fine_tune_model") else None
        encoder = model.encoder if decoders_only else None
        try:
            if encoder is not None:
                encoder.trainable = False  # before compiling: the optimizer skips its weights
            if trainer is None:
                model.compile(optimizer=adam(fine_tune_epochs))
                trainer, images = model, images.map(lambda x: (x, x))
            else:
                trainer.compile(optimizer=adam(fine_tune_epochs), loss=None)
            histories["fine_tune"] = fit(trainer, images, "fine_tune", fine_tune_epochs)
        finally:
            if encoder is not None:
                encoder.trainable = True
    return histories
