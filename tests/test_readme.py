"""The README is for users: every code block in it runs, its generated parts are up to date, it
stays short, and CI runs exactly its test command."""

import os
import re
import shlex
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
README = open(os.path.join(ROOT, "README.md")).read()
BLOCKS = re.findall(r"```(\w+)\n(.*?)```", README, re.S)
#: lines the suite cannot run on itself (CI runs them: .ci/run is the test command)
SETUP = ("python3 -m venv", "bash tests/run_all_backends.sh")


def test_short_for_users():
    assert len(README.splitlines()) <= 300
    assert "PAPERS.md" not in README


def test_ci_runs_exactly_the_readme_test_command():
    section = README.split("## Run the tests", 1)[1]
    command = re.search(r"```bash\n(.*?)\n```", section, re.S).group(1)
    ci = open(os.path.join(ROOT, ".ci", "run")).read().splitlines()
    assert command in ci


def test_generated_parts_are_up_to_date():
    """Every number and flag in the README and docs/ comes from results files or the parser."""
    result = subprocess.run([sys.executable, "-m", "benchmarks.readme", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_code_block_runs(tmp_path, monkeypatch):
    from keras_ae import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KERAS_AE_DATA_DIR", raising=False)  # the shipped sample, as documented
    ran = 0
    for language, body in BLOCKS:
        if language == "python":
            exec(compile(body, "README.md", "exec"), {"__name__": "readme"})
            ran += 1
        elif language == "bash":
            for line in body.splitlines():
                for command in line.split("&&"):
                    command = command.strip()
                    if command.startswith("keras-ae "):
                        argv = shlex.split(command)[1:]
                        assert cli.main(argv) == 0, command
                        ran += 1
                    else:
                        assert command.startswith(SETUP) or command.startswith(
                            ("pip install", ". .venv")), command
    assert ran >= 8


def test_no_machine_paths_in_the_tree():
    """Commands in the tree name paths relative to a checkout (``../shared/datasets``), never
    the development machine's folders."""
    machine = ("/" + "work/", "/" + "root/", "/" + "home/")
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in ("runs", "__pycache__")
                   and not d.endswith(".egg-info")]
        for name in files:
            if name.endswith((".py", ".md", ".json", ".toml", ".txt", ".sh", ".cfg")) or \
                    name == "run":
                with open(os.path.join(folder, name), errors="replace") as f:
                    text = f.read()
                found += [f"{os.path.relpath(os.path.join(folder, name), ROOT)}: {m}"
                          for m in machine if m in text]
    assert not found, found
