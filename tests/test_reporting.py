import json
import os
import re
import subprocess
import sys

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


def test_write_report(tmp_path, capsys):
    stem = str(tmp_path / "new_folder" / "result")
    reporting.write_report(stem, {"x": [1, 2]}, "# Title\n\n| a |\n")
    with open(stem + ".json") as f:
        assert json.load(f) == {"x": [1, 2]}
    with open(stem + ".md") as f:
        assert f.read() == "# Title\n\n| a |\n"
    assert capsys.readouterr().out == "# Title\n\n| a |\n"
