"""Resumable training: a checkpoint after every epoch, each landing whole or not at all.

    checkpoint = EpochCheckpoint("runs/drsae/checkpoints")
    start = checkpoint.restore(model)          # 0 on a fresh folder, else the epochs already done
    model.fit(data, epochs=145, initial_epoch=start, callbacks=[checkpoint, ...])
    history = checkpoint.history               # every epoch's logs, those before a restart too

Each checkpoint is the model's weights with its optimizer's state (``model.save_weights``)
written under a temporary name and renamed into place, then ``state.json`` (the epoch count, the
weights file, the logs so far, what the model must match) is replaced in one rename to point at it;
only then is the previous weights file deleted. A run killed at any moment leaves ``state.json``
pointing at a complete checkpoint. Keras's own ``BackupAndRestore`` writes its weights and its
metadata in place, one after the other, and sets the start epoch through a private attribute.

Procedures of several ``fit`` calls (greedy stage-by-stage training) keep one folder per stage,
each through :func:`resumable_fit`.
"""

import glob
import json
import os

import keras

from keras_ae.reporting import save_whole, write_whole

STATE = "state.json"


def _signature(model):
    """What a checkpoint must match: the shapes of the model's weights and, for a zoo model,
    its config without the name (layer and model names change from one build to the next), as
    they read back from JSON."""
    config = None
    if hasattr(model, "_zoo_config"):  # a zoo model (training sits below keras_ae.models)
        config = {k: v for k, v in model.get_config().items() if k != "name"}
    signature = {"config": config, "shapes": [list(w.shape) for w in model.weights]}
    return json.loads(json.dumps(signature, default=str))


def _iterations(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


class EpochCheckpoint(keras.callbacks.Callback):
    """Saves the model (weights and optimizer state) after every ``every``-th epoch and at the
    last one into ``directory``; :meth:`restore` loads the latest into a compiled model.

    Args:
        directory: the checkpoint folder (created on the first save).
        every: save after every ``every`` epochs (the last epoch of a ``fit`` is always saved).
    """

    def __init__(self, directory, every=1):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be an int >= 1, got {every!r}.")
        self.directory = os.fspath(directory)
        self.every = every
        self.history = {}
        self.epochs_done = 0

    @property
    def state_path(self):
        return os.path.join(self.directory, STATE)

    def read_state(self):
        """The stored state (a dict), or None when the folder holds no checkpoint."""
        if not os.path.isfile(self.state_path):
            return None
        try:
            with open(self.state_path) as f:
                state = json.load(f)
            if not isinstance(state, dict) or not {"epoch", "weights", "history"} <= set(state):
                raise ValueError("keys missing")
        except ValueError as e:
            raise ValueError(f"{self.state_path} is not a keras-ae checkpoint state "
                             f"({str(e).splitlines()[0]}).") from None
        return state

    def restore(self, model):
        """Loads the latest checkpoint into ``model`` (compiled, as for ``fit``) and returns the
        number of epochs it had trained (0 when there is none); :attr:`history` then holds
        their logs. A checkpoint of another model (other weight shapes, or for a zoo model
        another config) is an error."""
        state = self.read_state()
        self.history, self.epochs_done = {}, 0
        if state is None:
            return 0
        if state.get("model") != _signature(model):
            raise ValueError(f"The checkpoint in {self.directory} is of a model with another "
                             f"configuration; use another folder or remove this one.")
        weights = os.path.join(self.directory, state["weights"])
        if not os.path.isfile(weights):
            raise ValueError(f"{self.state_path} names {weights}, which is missing.")
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)  # so its state can be loaded
        try:
            model.load_weights(weights)
        except Exception as e:  # a truncated or foreign file
            raise ValueError(f"cannot load the checkpoint {weights}: "
                             f"{str(e).splitlines()[0]}") from None
        expected = state.get("optimizer_iterations")  # absent from checkpoints before 2026-11-27
        if model.optimizer is not None and expected is not None and _iterations(model) != expected:
            # Keras skips an optimizer state of another structure with a mere warning
            raise ValueError(f"The optimizer state in {weights} did not load into the model's "
                             f"optimizer (another optimizer, or a learning-rate schedule where "
                             f"the checkpointed run had a constant rate, or the reverse); "
                             f"compile the model as that run did.")
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epochs_done = int(state["epoch"])
        return self.epochs_done

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        self.epochs_done = epoch + 1
        last = self.params.get("epochs") == epoch + 1
        if self.epochs_done % self.every == 0 or last:
            self.save()

    def save(self):
        """Writes the checkpoint of the epochs done so far (see the module docstring)."""
        os.makedirs(self.directory, exist_ok=True)
        name = f"epoch_{self.epochs_done:05d}.weights.h5"
        save_whole(self.model, os.path.join(self.directory, name))
        state = {"epoch": self.epochs_done, "weights": name, "history": self.history,
                 "model": _signature(self.model),
                 "optimizer_iterations": (_iterations(self.model)
                                          if self.model.optimizer is not None else None)}
        write_whole({self.state_path: json.dumps(state)})
        for old in glob.glob(os.path.join(self.directory, "epoch_*.weights.h5")):
            if os.path.basename(old) != name:
                os.remove(old)


def resumable_fit(model, x, epochs, directory=None, later=(), callbacks=None, **fit_kwargs):
    """``model.fit(x, epochs=epochs, ...)`` that checkpoints every epoch into ``directory``
    and, when it already holds a checkpoint, restores it and trains only the epochs left (none
    when it is complete). One stage of a procedure of several fits.

    Args:
        model: a compiled model.
        directory: the stage's checkpoint folder; None for a plain ``fit``.
        later: the folders of the stages trained after this one on its result. A stage cannot
            train on once one of them has a checkpoint (they were trained on what it was then).
        callbacks, fit_kwargs: passed to ``fit`` (``y``, ``batch_size``, ...).

    Returns:
        the history as a dict of per-epoch lists, the epochs before a restart included.

    Resumed epochs read ``x`` from its start: a pipeline that shuffles itself does not repeat
    the order its uninterrupted run would have used.
    """
    callbacks = list(callbacks or [])
    if directory is None:
        history = model.fit(x, epochs=epochs, callbacks=callbacks, **fit_kwargs)
        return {k: [float(v) for v in vals] for k, vals in history.history.items()}
    checkpoint = EpochCheckpoint(directory)
    done = checkpoint.restore(model)
    if done > epochs:
        raise ValueError(f"The checkpoint in {directory} has {done} epochs, more than the "
                         f"{epochs} asked for.")
    if done < epochs:
        started = [d for d in later if os.path.isfile(os.path.join(d, STATE))]
        if started:
            raise ValueError(f"The checkpoint in {directory} has {done} of {epochs} epochs, but "
                             f"the later stage in {started[0]} was trained on it as it was; use "
                             f"a new checkpoint folder.")
        if done and fit_kwargs.get("verbose", "auto"):
            print(f"Resuming from the checkpoint in {directory}: {done} of {epochs} epoch(s) "
                  f"done")
        # last, so that it records the logs the other callbacks add (as Keras's History does)
        model.fit(x, epochs=epochs, initial_epoch=done, callbacks=callbacks + [checkpoint],
                  **fit_kwargs)
    return checkpoint.history
