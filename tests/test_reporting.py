import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from keras_ae import reporting


@pytest.fixture
def no_nvidia_smi(monkeypatch):
    monkeypatch.setattr(reporting.shutil, "which", lambda name: None)


def fake_nvidia_smi(monkeypatch, run):
    monkeypatch.setattr(reporting.shutil, "which", lambda name: "/usr/bin/" + name)
    monkeypatch.setattr(reporting.subprocess, "run", run)


def test_machine_mentions_cores_and_load_average(no_nvidia_smi, monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (2.5, 1.0, 0.5))
    text = reporting.machine()
    assert f"{os.cpu_count()} CPU cores" in text
    assert "load average 2.5" in text


def test_machines_line_reads_what_machine_writes(no_nvidia_smi, monkeypatch):
    lines = []
    for load in (1.0, 0.1):
        monkeypatch.setattr(os, "getloadavg", lambda load=load: (load, 0.0, 0.0))
        lines.append(reporting.machine())
    where = lines[0].split(", load average")[0]
    assert reporting.machines_line(lines + ["other box"]) == (
        f"{where}, load average at start 1.0 / 0.1; other box")


def test_machine_says_no_gpu_without_nvidia_smi(no_nvidia_smi):
    assert "no GPU" in reporting.machine()


def test_machine_names_the_gpus_nvidia_smi_lists(monkeypatch):
    def run(cmd, **kwargs):
        assert cmd[0] == "nvidia-smi" and kwargs["timeout"] > 0
        return subprocess.CompletedProcess(cmd, 0, stdout="NVIDIA H100\nNVIDIA H100\n", stderr="")

    fake_nvidia_smi(monkeypatch, run)
    text = reporting.machine()
    assert "2x NVIDIA H100" in text and "no GPU" not in text


@pytest.mark.parametrize("outcome", ["timeout", "failure"])
def test_machine_falls_back_to_no_gpu_when_nvidia_smi_fails(monkeypatch, outcome):
    def run(cmd, **kwargs):
        if outcome == "timeout":
            raise subprocess.TimeoutExpired(cmd, kwargs["timeout"])
        return subprocess.CompletedProcess(cmd, 9, stdout="", stderr="NVIDIA-SMI has failed")

    fake_nvidia_smi(monkeypatch, run)
    assert "no GPU" in reporting.machine()


def test_timestamp_format():
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", reporting.timestamp())


def test_command_line(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["benchmarks/bench.py", "--rounds", "3"])
    assert reporting.command_line() == "python benchmarks/bench.py --rounds 3"
    assert (reporting.command_line(["--tag", "a b"], backend="jax")
            == "KERAS_BACKEND=jax python benchmarks/bench.py --tag 'a b'")
    # started as a module (python -m benchmarks.bench): argv[0] is the module's file
    import importlib.machinery
    import types

    main = types.ModuleType("__main__")
    main.__spec__ = importlib.machinery.ModuleSpec("benchmarks.bench", None,
                                                   origin=os.path.abspath("benchmarks/bench.py"))
    monkeypatch.setitem(sys.modules, "__main__", main)
    monkeypatch.setattr(sys, "argv", [os.path.abspath("benchmarks/bench.py"), "--rounds", "3"])
    assert reporting.command_line() == "python -m benchmarks.bench --rounds 3"


def test_write_report(tmp_path, capsys):
    stem = str(tmp_path / "new_folder" / "result")
    reporting.write_report(stem, {"x": [1, 2]}, "# Title\n\n| a |\n")
    with open(stem + ".json") as f:
        assert json.load(f) == {"x": [1, 2], "versions": reporting.versions()}
    with open(stem + ".md") as f:
        assert f.read() == "# Title\n\n| a |\n"
    assert capsys.readouterr().out == "# Title\n\n| a |\n"


def test_versions_name_python_and_the_installed_frameworks():
    import platform

    import keras
    import numpy

    found = reporting.versions()
    # oracles: the modules' own version attributes
    assert found["python"] == platform.python_version()
    assert found["keras"] == keras.__version__ and found["numpy"] == numpy.__version__
    assert set(found) <= {"python", *reporting.PACKAGES} and "keras-ae" in found


def test_write_report_keeps_versions_the_record_already_has(tmp_path, capsys):
    stem = str(tmp_path / "r")
    reporting.write_report(stem, {"versions": {"keras": "3.0"}}, "")
    with open(stem + ".json") as f:
        assert json.load(f) == {"versions": {"keras": "3.0"}}


def test_a_failed_write_leaves_the_previous_report_whole(tmp_path, capsys):
    stem = str(tmp_path / "r")
    reporting.write_report(stem, {"x": 1}, "# old\n")
    with pytest.raises(TypeError):  # not JSON-serialisable: fails before any file is touched
        reporting.write_report(stem, {"x": object()}, "# new\n")
    with pytest.raises(TypeError):  # the Markdown fails while being written
        reporting.write_report(stem, {"x": 2}, b"# new\n")
    with open(stem + ".md") as f:
        assert f.read() == "# old\n"
    with open(stem + ".json") as f:
        assert json.load(f)["x"] == 1  # the pair stays a pair
    assert sorted(os.listdir(tmp_path)) == ["r.json", "r.md"]  # no temporary file left behind


def test_write_report_default_and_quiet(tmp_path, capsys):
    import pathlib

    stem = str(tmp_path / "r")
    reporting.write_report(stem, {"where": pathlib.PurePosixPath("a/b")}, "# quiet\n",
                           default=str, echo=False)
    with open(stem + ".json") as f:
        assert json.load(f)["where"] == "a/b"  # json.dumps(..., default=str)'s text for it
    assert capsys.readouterr().out == ""


def test_save_whole_lands_whole_or_not_at_all(tmp_path):
    import keras

    from keras_ae.reporting import save_whole

    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    path = str(tmp_path / "m.keras")
    assert save_whole(model, path) == path and os.listdir(tmp_path) == ["m.keras"]
    before = open(path, "rb").read()

    class Broken(keras.Model):
        def save(self, filepath, *args, **kwargs):
            open(filepath, "wb").write(b"half a file")
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        save_whole(Broken(inputs, model.outputs), path)
    assert os.listdir(tmp_path) == ["m.keras"] and open(path, "rb").read() == before
    restored = keras.saving.load_model(path)
    x = np.ones((1, 3), "float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    with pytest.raises(ValueError, match="path must end in .keras or .weights.h5, got"):
        save_whole(model, str(tmp_path / "m.h5"))
