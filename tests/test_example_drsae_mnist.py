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
