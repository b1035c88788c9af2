"""``EpochCheckpoint``: resumable training whose checkpoints land whole or not at all."""

import json
import os

import keras
import numpy as np
import pytest

from keras_ae.training import EpochCheckpoint

X = np.random.default_rng(0).random((32, 6)).astype("float32")
Y = X @ np.random.default_rng(1).random((6, 2)).astype("float32")


def _model(seed=0, units=2):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((6,))
    model = keras.Model(inputs, keras.layers.Dense(units, name="dense")(inputs))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    return model


def _weights(model):
    return [keras.ops.convert_to_numpy(w) for w in model.weights]


def _iterations(model):
    return int(keras.ops.convert_to_numpy(model.optimizer.iterations))


def test_resume_continues_where_it_stopped(tmp_path):
    """Two epochs, then a new process-like start (a fresh model) resumes at epoch 2 with the
    saved weights and optimizer state, and the history keeps the first two epochs' logs."""
    folder = str(tmp_path / "ckpt")
    first, checkpoint = _model(), EpochCheckpoint(folder)
    assert checkpoint.restore(first) == 0
    run1 = first.fit(X, Y, batch_size=8, epochs=2, verbose=0, shuffle=False,
                     callbacks=[checkpoint])
    assert sorted(os.listdir(folder)) == ["epoch_00002.weights.h5", "state.json"]

    fresh, again = _model(seed=1), EpochCheckpoint(folder)   # other initial weights
    assert again.restore(fresh) == 2
    for a, b in zip(_weights(fresh), _weights(first)):       # the optimizer's state included
        np.testing.assert_array_equal(a, b)
    assert _iterations(fresh) == 2 * 4
    assert again.history["loss"] == pytest.approx(run1.history["loss"])
    fresh.fit(X, Y, batch_size=8, epochs=3, initial_epoch=2, verbose=0, shuffle=False,
              callbacks=[again])
    assert len(again.history["loss"]) == 3 and _iterations(fresh) == 3 * 4
    assert json.load(open(os.path.join(folder, "state.json")))["epoch"] == 3
    assert sorted(os.listdir(folder)) == ["epoch_00003.weights.h5", "state.json"]


def test_a_failed_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    folder = str(tmp_path / "ckpt")
    model, checkpoint = _model(), EpochCheckpoint(folder)
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[checkpoint])
    saved = _weights(model)

    def broken(path, overwrite=True):
        open(path, "wb").write(b"half a file")
        raise OSError("disk full")

    monkeypatch.setattr(model, "save_weights", broken)
    with pytest.raises(OSError, match="disk full"):
        model.fit(X, Y, batch_size=8, epochs=2, initial_epoch=1, verbose=0,
                  callbacks=[checkpoint])
    assert sorted(os.listdir(folder)) == ["epoch_00001.weights.h5", "state.json"]  # nothing half
    other = _model(seed=2)
    assert EpochCheckpoint(folder).restore(other) == 1
    for a, b in zip(_weights(other)[:2], saved[:2]):
        np.testing.assert_array_equal(a, b)


def test_saves_every_n_epochs_and_the_last(tmp_path):
    folder = str(tmp_path / "ckpt")
    saves = []
    checkpoint = EpochCheckpoint(folder, every=2)
    original = checkpoint.save
    checkpoint.save = lambda: (saves.append(checkpoint.epochs_done), original())[1]
    _model().fit(X, Y, batch_size=8, epochs=5, verbose=0, callbacks=[checkpoint])
    assert saves == [2, 4, 5]


def test_restore_errors(tmp_path):
    folder = tmp_path / "ckpt"
    model, checkpoint = _model(), EpochCheckpoint(str(folder))
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[checkpoint])
    with pytest.raises(ValueError, match="another configuration"):
        EpochCheckpoint(str(folder)).restore(_model(units=3))
    (folder / "epoch_00001.weights.h5").write_bytes(b"truncated")
    with pytest.raises(ValueError, match="cannot load the checkpoint"):
        EpochCheckpoint(str(folder)).restore(_model())
    (folder / "epoch_00001.weights.h5").unlink()
    with pytest.raises(ValueError, match="which is missing"):
        EpochCheckpoint(str(folder)).restore(_model())
    (folder / "state.json").write_text("{not json")
    with pytest.raises(ValueError, match="is not a keras-ae checkpoint state"):
        EpochCheckpoint(str(folder)).restore(_model())
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        EpochCheckpoint(str(folder), every=0)


def test_an_optimizer_state_keras_skips_is_an_error(tmp_path):
    """Keras loads an optimizer state of another structure with only a warning (Adam with a
    constant rate has a learning-rate variable, with a schedule none): the resumed run would
    restart its optimizer, and its schedule, from step 0. restore() says so instead."""
    folder = str(tmp_path / "ckpt")
    model = _model()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[EpochCheckpoint(folder)])
    assert json.load(open(os.path.join(folder, "state.json")))["optimizer_iterations"] == 4
    scheduled = _model()
    scheduled.compile(optimizer=keras.optimizers.Adam(
        keras.optimizers.schedules.CosineDecay(0.01, decay_steps=8)), loss="mse")
    with pytest.raises(ValueError, match="did not load into the model's optimizer"):
        EpochCheckpoint(folder).restore(scheduled)
    fresh = _model()
    assert EpochCheckpoint(folder).restore(fresh) == 1 and _iterations(fresh) == 4
