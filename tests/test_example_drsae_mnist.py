"""The argument checks of ``examples/drsae_mnist.py`` (the script behind the DrSAE results): they
run before any data is read."""

import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(__file__), "..", "examples", "drsae_mnist.py")


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("drsae_mnist_example", _PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("argv, message", [
    (["--momentum", "0.9"], "momentum is SGD's: optimizer 'adam' takes none"),
    (["--optimizer", "sgd", "--momentum", "1"], "momentum must be a number in [0, 1)"),
])
def test_bad_optimizer_arguments_are_usage_errors(script, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        script.main(argv + ["--data-dir", "/no/such/folder"])
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
