"""The argument checks of ``examples/drsae_mnist.py`` (the script behind the DrSAE results): they
run before any data is read."""

import os

import pytest

from keras_ae.testing import load_script

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "drsae_mnist.py")


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
    import argparse

    import numpy as np

    rng = np.random.default_rng(0)
    images = rng.random((40, 28, 28, 1)).astype("float32")
    labels = np.arange(40) % 10
    args = argparse.Namespace(unsupervised_epochs=1, discriminative_epochs=2, lr=1e-3,
                              optimizer="adam", momentum=0.0, sparsity=0.01, batch_size=20,
                              classification_weight=1.0, verbose=False,
                              checkpoint_dir=str(tmp_path))
    data = (images, labels)
    _, first = script.train_one(12, 2, 0, args, data, None, data)
    assert os.listdir(tmp_path) == ["12x2_seed0"] and "resumed_from_checkpoint" not in first
    assert len(first["history"]["loss"]) == 3
    np.testing.assert_allclose(first["history"]["learning_rate"], [1e-3, 1e-3, 1e-4], rtol=1e-5)
    _, again = script.train_one(12, 2, 0, args, data, None, data)
    assert again["resumed_from_checkpoint"] == 3
    assert again["history"] == first["history"]
    assert again["test_error_percent"] == first["test_error_percent"]
