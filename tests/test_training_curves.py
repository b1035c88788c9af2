"""``benchmarks/training_curves.py``: best epoch, gain and plateau of DrSAE validation curves,
against curves whose answers are known by construction."""

import json
import os

import pytest

from keras_ae.testing import load_script

_ROOT = os.path.join(os.path.dirname(__file__), "..")


@pytest.fixture()
def curves(tmp_path, monkeypatch):
    module = load_script(os.path.join(_ROOT, "benchmarks", "training_curves.py"),
                         "training_curves_benchmark")
    monkeypatch.setattr(module, "RESULTS", str(tmp_path))
    return module


def _record(tmp_path, name, val_errors, unsupervised=2):
    # Phase-1 epochs sit at chance (90 % error) and must not count.
    accuracy = [0.1] * unsupervised + [1 - e / 100 for e in val_errors]
    runs = [{"units": 400, "steps": 11, "seed": 3, "history": {"val_logits_accuracy": accuracy}}]
    (tmp_path / name).write_text(json.dumps({"unsupervised_epochs": unsupervised,
                                             "runs": runs}))


def test_best_epoch_gain_and_plateau(curves, tmp_path):
    # Final 1.5; 1.2 at discriminative epoch 3 (best); 1.7 at epoch 5 is the last more than
    # 0.1 above the final value, so the plateau starts at epoch 6.
    _record(tmp_path, "run.json", [3.0, 2.0, 1.2, 1.6, 1.7, 1.55, 1.45, 1.5])
    (row,) = curves.summarise(["run.json"], tolerance=0.1)
    assert (row["epochs"], row["best_epoch"], row["plateau_epoch"]) == (8, 3, 6)
    assert row["final"] == pytest.approx(1.5) and row["best"] == pytest.approx(1.2)
    assert row["gain"] == pytest.approx(0.3)
    assert (row["units"], row["steps"], row["seed"]) == (400, 11, 3)
    # A wider tolerance moves the plateau back: 1.7 is within 0.2 of 1.5, 2.0 is not.
    (wide,) = curves.summarise(["run.json"], tolerance=0.2)
    assert wide["plateau_epoch"] == 3
    # A curve that only falls has its plateau where it comes within tolerance of the end.
    assert curves.curve_summary([1.0, 0.95, 0.9], tolerance=0.5)["plateau_epoch"] == 1
    line = curves.table([row], 0.1).splitlines()[2]
    assert line == "| run.json | 400x11 | 3 | 8 | 1.50 | 1.20 (3) | 0.30 | 6 |"


def test_bad_input_is_a_usage_error(curves, tmp_path, capsys):
    with pytest.raises(SystemExit):
        curves.main(["missing.json"])
    assert "no results file 'missing.json'" in capsys.readouterr().err
    (tmp_path / "nohist.json").write_text(json.dumps(
        {"unsupervised_epochs": 1, "runs": [{"units": 4, "seed": 0, "history": {}}]}))
    with pytest.raises(SystemExit):
        curves.main(["nohist.json"])
    assert "no 'val_logits_accuracy' history" in capsys.readouterr().err
    _record(tmp_path, "run.json", [1.0])
    with pytest.raises(SystemExit):
        curves.main(["run.json", "--tolerance", "-1"])
    assert "--tolerance must be non-negative" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no discriminative epochs"):
        curves.curve_summary([])


def test_tag_writes_report_and_png(curves, tmp_path):
    _record(tmp_path, "run.json", [2.0, 1.5, 1.4])
    rows = curves.main(["run.json", "--tag", "c"])
    assert rows[0]["best_epoch"] == 3
    with open(tmp_path / "c.png", "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    record = json.loads((tmp_path / "c.json").read_text())
    assert record["png"] == "c.png" and record["runs"][0]["final"] == pytest.approx(1.4)
    assert "| run.json | 400x11 | 3 | 3 | 1.40 | 1.40 (3) | 0.00 | 2 |" in (
        tmp_path / "c.md").read_text()
