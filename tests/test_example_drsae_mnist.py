"""The argument checks of ``examples/drsae_mnist.py`` (the script behind the DrSAE results): they
run before any data is read."""

import os

import pytest

from keras_ae.testing import load_script

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "drsae_mnist.py")


def _args(**changes):
    """train_one's arguments for a tiny run: one epoch of each phase, batches of 20."""
    import argparse

    args = dict(unsupervised_epochs=1, discriminative_epochs=1, lr=1e-3, optimizer="adam",
                momentum=0.0, sparsity=0.01, batch_size=20, classification_weight=1.0,
                verbose=False, shift=0, checkpoint_dir=None)
    return argparse.Namespace(**{**args, **changes})


@pytest.fixture(scope="module")
def script():
    return load_script(_PATH, "drsae_mnist_example")


@pytest.mark.parametrize("argv, message", [
    (["--momentum", "0.9"], "momentum is SGD's: optimizer 'adam' takes none"),
    (["--optimizer", "sgd", "--momentum", "1"], "momentum must be a number in [0, 1)"),
])
def test_bad_optimizer_arguments_are_usage_errors(script, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        script.main(argv + ["--data-dir", "/no/such/folder"])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err


def test_a_run_checkpoints_and_a_rerun_resumes_it(script, tmp_path):
    """train_one with --checkpoint-dir checkpoints its run in DIR/<units>x<steps>_seed<N>/; the
    same call again loads it, trains nothing and says so; the history keeps every epoch and the
    learning rate the scheduler logs (the checkpoint runs after the other callbacks)."""
    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.random((40, 28, 28, 1)).astype("float32")
    labels = np.arange(40) % 10
    args = _args(discriminative_epochs=2, checkpoint_dir=str(tmp_path))
    data = (images, labels)
    _, first = script.train_one(12, 2, 0, args, data, None, data)
    assert os.listdir(tmp_path) == ["12x2_seed0"] and "resumed_from_checkpoint" not in first
    assert len(first["history"]["loss"]) == 3
    np.testing.assert_allclose(first["history"]["learning_rate"], [1e-3, 1e-3, 1e-4], rtol=1e-5)
    _, again = script.train_one(12, 2, 0, args, data, None, data)
    assert again["resumed_from_checkpoint"] == 3
    assert again["history"] == first["history"]
    assert again["test_error_percent"] == first["test_error_percent"]


def test_negative_shift_is_a_usage_error(script, capsys):
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--shift", "-1", "--data-dir", "/no/such/folder"])
    assert exit_info.value.code == 2 and "--shift must be >= 0" in capsys.readouterr().err


def test_shift_trains_on_a_shifting_pipeline_and_the_report_says_so(script, monkeypatch):
    """--shift N: the training images come through make_dataset(shift=N), seeded by the run's
    seed, with every image of the split (no partial batch dropped); the markdown names it."""
    import numpy as np

    calls = []
    real = script.make_dataset

    def spy(*a, **kw):
        calls.append(kw)
        return real(*a, **kw)

    monkeypatch.setattr(script, "make_dataset", spy)
    rng = np.random.default_rng(0)
    images = rng.random((30, 28, 28, 1)).astype("float32")
    labels = np.arange(30) % 10
    args = _args(shift=2)
    _, result = script.train_one(12, 2, 3, args, (images, labels), None, (images, labels))
    assert calls == [{"batch_size": 20, "seed": 3, "drop_remainder": False, "shift": 2}]
    assert len(result["history"]["loss"]) == 2
    report = {"tag": "t", "command": "c", "backend": "b", "machine": "m", "train_size": 30,
              "val_size": 0, "unsupervised_epochs": 1, "discriminative_epochs": 1,
              "batch_size": 20, "lr": 1e-3, "sparsity": 0.01, "shift": 2, "protocol_note": "n",
              "summary": [], "runs": []}
    assert "training images shifted by up to 2 px (augmentation)" in script.markdown(report)
    del report["shift"]  # results files written before --shift read as unshifted
    assert "shifted" not in script.markdown(report)
