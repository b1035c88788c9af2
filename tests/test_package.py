"""Package-level promises: every public module is reachable from ``import keras_ae``; commands
that need no model import no Keras; the catalogue, the CLI's procedure flags and the registry
agree; unknown config fields are refused."""

import subprocess
import sys

import pytest

import keras_ae
from keras_ae import catalog, cli, models


def _run(code):
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_every_public_module_is_reachable_after_import_keras_ae():
    out = _run("import keras_ae\n"
               "for name in keras_ae.__all__: getattr(keras_ae, name)\n"
               "print(keras_ae.tuning.RegistryHyperModel.__name__, "
               "keras_ae.models.drsae.analysis.save_analysis.__name__)")
    assert out.split() == ["RegistryHyperModel", "save_analysis"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        keras_ae.nope  # noqa: B018


def test_list_and_help_import_no_keras():
    out = _run("import sys\nfrom keras_ae import cli\ncli.main(['list'])\n"
               "try:\n    cli.main(['train', '--help'])\nexcept SystemExit:\n    pass\n"
               "print('HEAVY', sorted(m for m in ('keras', 'tensorflow', 'jax', 'torch') "
               "if m in sys.modules))")
    assert out.strip().splitlines()[-1] == "HEAVY []"
    assert "fc_wta" in out and "--fine-tune-epochs" in out


def test_catalogue_and_registry_agree():
    assert catalog.names() == models.names()
    for name in models.names():
        family = catalog.MODELS[name][0]
        assert models.get(name).__module__ == f"keras_ae.models.{family}.model"


def test_cli_procedure_flags_are_the_models_procedure_options():
    offered = {option for name in models.names() for option in models.get(name).procedure_options}
    assert offered == set(cli.PROCEDURE_OPTIONS)
    for option, (users, _) in cli.PROCEDURE_OPTIONS.items():
        assert users.split(", ") == [n for n in models.names()
                                     if option in models.get(n).procedure_options]


def test_unknown_config_fields_are_refused_with_the_valid_ones():
    with pytest.raises(ValueError, match=r"ConvAutoencoder has no config field 'codesize'; its "
                                         r"fields are: activation, code_size, decoder"):
        models.build("conv_autoencoder", codesize=30)
    with pytest.raises(ValueError, match="'hidden_unit'"):  # a subclass: the parent's fields
        models.build("denoising_autoencoder", hidden_unit=[8])
    models.build("denoising_autoencoder", hidden_units=[8], code_size=2, name="ok")


@pytest.mark.parametrize("imports", ["import keras_ae, keras", "import keras, keras_ae",
                                     "import keras_ae, tensorflow, keras"])
def test_zoo_files_load_after_import_keras_ae_whatever_the_order(imports, tmp_path):
    path = tmp_path / "m.keras"
    models.build("dense_autoencoder", hidden_units=[4], code_size=2).save(path)
    out = _run(f"{imports}\nprint(type(keras.saving.load_model({str(path)!r})).__name__)")
    assert out.strip().splitlines()[-1] == "DenseAutoencoder"


def test_the_command_line_loads_zoo_files_in_a_fresh_process(tmp_path):
    """``keras-ae evaluate`` imports TensorFlow before Keras: the zoo's classes must still be
    registered when it loads the file."""
    path = tmp_path / "m.keras"
    models.build("dense_autoencoder", hidden_units=[4], code_size=2).save(path)
    result = subprocess.run([sys.executable, "-m", "keras_ae.cli", "evaluate", str(path),
                             "--limit", "20"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert '"examples": 20' in result.stdout
