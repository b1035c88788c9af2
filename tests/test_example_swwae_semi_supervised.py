"""The validation hold-out, argument checks and merging of ``examples/swwae_semi_supervised.py``
and the configuration names of ``benchmarks/swwae_sweep.py`` (the scripts behind SWWAE's row)."""

import json
import os

import keras
import numpy as np
import pytest

from keras_ae.testing import load_script

_ROOT = os.path.join(os.path.dirname(__file__), "..")


def _load(relative, name):
    return load_script(os.path.join(_ROOT, relative), name)


@pytest.fixture(scope="module")
def script():
    return _load(os.path.join("examples", "swwae_semi_supervised.py"), "swwae_semi_example")


@pytest.fixture(scope="module")
def sweep():
    return _load(os.path.join("benchmarks", "swwae_sweep.py"), "swwae_sweep_benchmark")


def test_hold_out_is_a_fixed_disjoint_split(script):
    images = np.arange(50, dtype=np.uint8).reshape(50, 1, 1, 1) * 5
    labels = np.arange(50) % 10
    train_x, train_y, val_x, val_y = script.hold_out(images, labels, 12)
    assert train_x.shape == (38, 1, 1, 1) and val_x.shape == (12, 1, 1, 1)
    kept = set(train_x.ravel().tolist())
    held = {int(round(v * 255)) for v in val_x.ravel()}  # validation images come as floats
    assert val_x.dtype == np.float32 and float(val_x.max()) <= 1.0
    assert not kept & held and len(kept | held) == 50
    np.testing.assert_array_equal(train_y, (train_x.ravel() // 5) % 10)  # labels follow images
    np.testing.assert_array_equal(val_y, (np.rint(val_x.ravel() * 255).astype(int) // 5) % 10)
    again = script.hold_out(images, labels, 12)  # the same draw every time, whatever the run seed
    np.testing.assert_array_equal(again[0], train_x)


def test_hold_out_needs_training_images_left(script):
    images, labels = np.zeros((10, 2, 2, 1), np.uint8), np.zeros(10, int)
    with pytest.raises(ValueError, match="--validation-size must be below the 10"):
        script.hold_out(images, labels, 10)


def test_negative_validation_size_is_refused(script, capsys):
    with pytest.raises(SystemExit):
        script.main(["--validation-size", "-1"])
    assert "--validation-size must be >= 0" in capsys.readouterr().err


def _record(tmp_path, name, seed, **config):
    base = {"epochs": 2, "steps_per_epoch": 3, "batch_size": 128, "labelled_fraction": 0.5,
            "filters": [32, 64], "head_units": [128], "dropout": 0.5, "lambda_rec": 1.0,
            "lambda_m": 0.2, "learning_rate": 1e-3, "model": "swwae"}
    record = {"config": {**base, **config}, "machine": "test", "train_images": 60000,
              "test_images": 10000,
              "runs": [{"labels": 100, "seed": seed, "test_error_pct": 10.0 + seed,
                        "wall_time_s": 1.0}]}
    path = tmp_path / name
    path.write_text(json.dumps(record))
    return str(path)


def test_merge_reads_files_written_before_the_new_options(script, tmp_path):
    old = _record(tmp_path, "old.json", 0)  # no lr_schedule, kernel_sizes or validation_size
    new = _record(tmp_path, "new.json", 1, lr_schedule="constant", kernel_sizes=[3],
                  validation_size=0)
    script.main(["--merge", old, new, "--out", str(tmp_path), "--tag", "m"])
    merged = json.loads((tmp_path / "swwae_semi_supervised_m.json").read_text())
    assert merged["summary"] == [{"labels": 100, "mean_error_pct": 10.5, "std_error_pct": 0.5,
                                  "seeds": 2, "paper_error_pct": 8.71}]
    assert "No validation set" in merged["protocol_gap"]


def test_merge_reports_the_runs_backend_and_commands_not_its_own(script, tmp_path):
    a = _record(tmp_path, "a.json", 0)
    b = _record(tmp_path, "b.json", 1)
    for path, command in ((a, "python run-a"), (b, "python run-b")):
        record = json.loads(open(path).read())
        record.update(backend="torch", command=command, machine="box, load 0.5")
        if path == b:
            record["versions"] = {"keras": "3.99"}  # a is an older file: none recorded
        open(path, "w").write(json.dumps(record))
    script.main(["--merge", a, b, "--out", str(tmp_path), "--tag", "m"])
    merged = json.loads((tmp_path / "swwae_semi_supervised_m.json").read_text())
    assert merged["backend"] == "torch"  # the runs' backend, whatever this process runs on
    assert not merged["command"].startswith("KERAS_BACKEND")
    assert merged["source_commands"] == ["python run-a", "python run-b"]
    assert merged["source_versions"] == [None, {"keras": "3.99"}]
    assert merged["versions"]["keras"] == keras.__version__  # the merging process's own
    assert merged["machine"] == "box, load 0.5"  # listed once
    text = (tmp_path / "swwae_semi_supervised_m.md").read_text()
    assert "`python run-a`" in text and "`python run-b`" in text


def test_merge_lists_a_machine_once_with_each_runs_load(script, tmp_path):
    paths = [_record(tmp_path, f"{i}.json", i) for i in range(3)]
    where = "x86_64, 2 CPU cores, 24 GiB RAM, no GPU"
    for path, machine in zip(paths, (f"{where}, load average 1.0 at start",
                                     f"{where}, load average 0.1 at start", "other box")):
        record = json.loads(open(path).read())
        record["machine"] = machine
        open(path, "w").write(json.dumps(record))
    script.main(["--merge", *paths, "--out", str(tmp_path), "--tag", "m"])
    merged = json.loads((tmp_path / "swwae_semi_supervised_m.json").read_text())
    assert merged["machine"] == f"{where}, load average at start 1.0 / 0.1; other box"


def test_merge_refuses_different_validation_sets(script, tmp_path):
    a = _record(tmp_path, "a.json", 0, validation_size=0)
    b = _record(tmp_path, "b.json", 1, validation_size=5000)
    with pytest.raises(ValueError, match="same settings"):
        script.main(["--merge", a, b, "--out", str(tmp_path)])


def test_sweep_configs_combine_and_unknown_names_fail(sweep):
    assert sweep.config_args("base") == []
    assert sweep.config_args("deep+kernel_5") == ["--filters", "32", "64", "128",
                                                  "--kernel-sizes", "5"]
    with pytest.raises(SystemExit, match="unknown config 'bogus'"):
        sweep.config_args("base+bogus")


def test_every_sweep_config_is_a_valid_command_line_of_the_example(sweep, script):
    # a misspelt option would only fail an hour into a sweep, in a subprocess
    parser = script.build_parser()
    defaults = vars(parser.parse_args([]))
    for name, extra in sweep.CONFIGS.items():
        changed = {k for k, v in vars(parser.parse_args(extra)).items() if v != defaults[k]}
        assert bool(changed) == (name != "base"), name  # each changes something, base nothing
    assert vars(parser.parse_args(sweep.config_args("cosine")))["lr_schedule"] == "cosine"


def _sweep_file(tmp_path):
    path = tmp_path / "swwae_sweep_x.json"
    path.write_text(json.dumps({"chosen": "frac_0.1+deep", "labels": 100, "results": [
        {"config": "base", "arguments": []},
        {"config": "frac_0.1+deep", "arguments": ["--labelled-fraction", "0.1",
                                                  "--filters", "32", "64", "128"]}]}))
    return str(path)


def test_settings_from_a_sweep_are_checked_and_recorded(script, tmp_path):
    parser = script.build_parser()
    args = parser.parse_args(["--settings-from", _sweep_file(tmp_path), "--labelled-fraction",
                              "0.1", "--filters", "32", "64", "128", "--epochs", "9"])
    chosen = script.check_settings(parser, args)
    assert chosen == {"file": "swwae_sweep_x.json", "config": "frac_0.1+deep",
                      "arguments": ["--labelled-fraction", "0.1", "--filters", "32", "64", "128"],
                      "labels": 100}
    args.chosen = chosen
    assert "config 'frac_0.1+deep' of swwae_sweep_x.json" in script.validation_text(args)


def test_settings_from_a_sweep_refuses_a_run_that_differs(script, tmp_path, capsys):
    parser = script.build_parser()
    args = parser.parse_args(["--settings-from", _sweep_file(tmp_path), "--labelled-fraction",
                              "0.1"])  # filters left at the defaults
    with pytest.raises(SystemExit):
        script.check_settings(parser, args)
    assert "this run differs in --filters" in capsys.readouterr().err


def test_merge_treats_older_files_as_unshifted_and_refuses_mixed_shifts(script, tmp_path):
    old = _record(tmp_path, "old.json", 0)  # written before --labelled-shift: no augmentation
    plain = _record(tmp_path, "plain.json", 1, labelled_shift=0)
    shifted = _record(tmp_path, "shifted.json", 2, labelled_shift=2)
    script.main(["--merge", old, plain, "--out", str(tmp_path), "--tag", "m"])
    merged = json.loads((tmp_path / "swwae_semi_supervised_m.json").read_text())
    assert "No data augmentation" in merged["protocol_gap"]
    with pytest.raises(ValueError, match="same settings"):
        script.main(["--merge", old, shifted, "--out", str(tmp_path), "--tag", "x"])
    shifted_too = _record(tmp_path, "shifted_too.json", 3, labelled_shift=2)
    script.main(["--merge", shifted, shifted_too, "--out", str(tmp_path), "--tag", "s"])
    merged = json.loads((tmp_path / "swwae_semi_supervised_s.json").read_text())
    assert "up to 2 pixel(s)" in merged["protocol_gap"]


def test_checkpoint_dir_resumes_each_run(script, tmp_path, capsys):
    """--checkpoint-dir: each (labels, seed) run checkpoints in DIR/labels<N>_seed<S>/; the same
    command again loads it, trains nothing and records how many epochs it held."""
    import glob

    from keras_ae.data import SAMPLE_DIR

    argv = ["--data-dir", SAMPLE_DIR, "--labels", "20", "--epochs", "2", "--steps-per-epoch",
            "2", "--batch-size", "16", "--filters", "4", "8", "--head-units", "--test-size",
            "40", "--checkpoint-dir", str(tmp_path / "ckpt"), "--out", str(tmp_path),
            "--tag", "_t"]
    script.main(argv)
    assert os.listdir(tmp_path / "ckpt") == ["labels20_seed0"]
    record, = glob.glob(str(tmp_path / "*.json"))
    first = json.load(open(record))["runs"][0]
    assert "resumed_from_checkpoint" not in first
    capsys.readouterr()
    script.main(argv)
    assert "Epoch 1/2" not in capsys.readouterr().out
    again = json.load(open(record))["runs"][0]
    assert again["resumed_from_checkpoint"] == 2
    assert again["test_error_pct"] == first["test_error_pct"]
    assert again["final_train_loss"] == first["final_train_loss"]
