"""``benchmarks/models_table.py``: the README's SWWAE rows say met / not met from the numbers in
the results files, and an augmented run gets a row of its own, labelled as such."""

import json
import os

import pytest

from keras_ae.testing import load_script

_ROOT = os.path.join(os.path.dirname(__file__), "..")


@pytest.fixture()
def table(tmp_path, monkeypatch):
    module = load_script(os.path.join(_ROOT, "benchmarks", "models_table.py"),
                         "models_table_benchmark")
    monkeypatch.setattr(module, "RESULTS", str(tmp_path))
    return module


def _semi(tmp_path, name, errors, shift=None):
    config = {"chosen": None} if shift is None else {"chosen": None, "labelled_shift": shift}
    summary = [{"labels": n, "mean_error_pct": e, "std_error_pct": 0.1, "seeds": 2,
                "paper_error_pct": p}
               for (n, p), e in zip(((100, 8.71), (600, 3.31), (1000, 2.83)), errors)]
    (tmp_path / name).write_text(json.dumps(
        {"summary": summary, "config": config, "epochs_over_60k_equivalent": 12.03}))


def test_status_counts_a_tie_as_met_and_names_the_misses(table):
    rows = [{"labels": 100, "mean_error_pct": 8.71, "paper_error_pct": 8.71, "seeds": 2},
            {"labels": 600, "mean_error_pct": 3.32, "paper_error_pct": 3.31, "seeds": 2}]
    assert table._swwae_status(rows) == "target met by the mean with 100 labels only"
    assert table._swwae_status(rows[:1]) == "target met by the mean at every label count"
    assert table._swwae_status(rows[1:]) == "target not met"


def test_an_augmented_run_gets_its_own_labelled_row(table, tmp_path):
    _semi(tmp_path, "swwae_semi_supervised_pre_pool_d07_12p.json", (10.81, 2.98, 2.85))
    rows = [r for r in table.swwae_rows() if r.startswith("| `swwae`")]
    assert len(rows) == 1 and "augmentation" not in rows[0]
    assert "10.81 ± 0.10 / 2.98 ± 0.10 / 2.85 ± 0.10" in rows[0]
    assert "target met by the mean with 600 labels only" in rows[0]

    _semi(tmp_path, "swwae_semi_supervised_pre_pool_d07_shift2_12p.json", (6.11, 1.77, 2.0),
          shift=2)
    rows = [r for r in table.swwae_rows() if r.startswith("| `swwae`")]
    assert len(rows) == 2 and "augmentation" not in rows[0]  # the unaugmented row stays first
    assert rows[1].startswith("| `swwae` + 2-px labelled-image shifts (augmentation not in the paper)")
    assert "target met by the mean at every label count" in rows[1]


@pytest.mark.parametrize("name, args, text", [
    ("fc_wta", {"filters": [128, 128]}, ""),
    ("conv_wta", {"filters": [128]}, "128 maps, "),
    ("stacked_conv_wta", {"filters": [128, 512]}, "128+512 maps, "),
])
def test_wta_rows_name_the_conv_models_maps(table, name, args, text):
    assert table._conv_maps(name, args) == text


def test_wta_rows_say_when_every_stage_was_probed(table):
    assert table._probed_stages({"probe_stages": "top"}) == ""
    assert table._probed_stages({}) == ""  # runs from before the option: the top stage
    assert table._probed_stages({"probe_stages": "all"}) == (
        "probe on every stage's pooled features concatenated, ")


def test_a_reprobe_is_described_by_the_run_that_trained_its_model(table, tmp_path):
    # The re-probe repeats the epochs but cannot repeat the decoder kernels, the stage-0 source
    # or the schedule (usage errors with --load-model): those come from the training run's file.
    trained = {"epochs": [0, 4], "stage0_from": "/m/wta_s0.keras", "lr_schedule": "cosine",
               "decoder_kernel_size": [11, 7], "filters": [128, 512]}
    (tmp_path / "wta_stacked.json").write_text(json.dumps({"args": trained}))
    (tmp_path / "wta_s0.json").write_text(json.dumps({"args": {"epochs": 30}}))
    probe = {"epochs": [0, 4], "load_model": "/m/wta_stacked.keras", "lr_schedule": "constant",
             "decoder_kernel_size": 11, "filters": [128, 512], "probe_stages": "all"}
    assert table._first_trained(probe) == trained
    assert table._wta_epochs("stacked_conv_wta", probe) == (
        "stage 0 = a 30-epoch conv_wta (`wta_s0.keras`), then 0+4 epochs stage by stage "
        "(cosine learning rate)")
    assert table._decoder_kernels(table._first_trained(probe)) == (
        "decoder kernels 11+7 (paper: 11), ")
    assert table._conv_maps("stacked_conv_wta", table._first_trained(probe)) == "128+512 maps, "


@pytest.mark.parametrize("name, stacked, single, text", [
    ("stacked_conv_wta", {"mean": 0.86, "runs": [0.86]}, 0.91,
     "; below the one-stage conv_wta row's 0.91 (one seed)"),
    ("stacked_conv_wta", {"mean": 1.02, "runs": [1.0, 1.04]}, 0.91,
     "; not below the one-stage conv_wta row's 0.91"),
    ("stacked_conv_wta", {"mean": 0.86, "runs": [0.86]}, None, ""),
    ("conv_wta", {"mean": 0.86, "runs": [0.86]}, 0.91, ""),
])
def test_stacked_row_says_whether_it_is_below_the_one_stage_row(table, name, stacked, single,
                                                                  text):
    assert table._below_single_stage(name, stacked, single) == text


def test_stacked_seeds_over_one_shared_stage0_say_so(table, tmp_path):
    # Two re-probes of stage-1 models trained with seeds 0 and 1 over the same stage 0: the
    # seeds vary the upper stage only, and the row must not pass them off as full seeds.
    probes = []
    for stage0 in ("wta_s0", "other"):  # two stage-0 models of one protocol
        (tmp_path / f"{stage0}.json").write_text(json.dumps({"args": {"epochs": 30}}))
    for seed, stage0 in ((0, "/m/wta_s0.keras"), (1, "/m/wta_s0.keras"), (2, "/m/other.keras")):
        (tmp_path / f"wta_t{seed}.json").write_text(json.dumps(
            {"args": {"stage0_from": stage0, "seeds": [seed]}}))
        probe = {"args": {"load_model": f"/m/wta_t{seed}.keras", "seeds": [seed]},
                 "test_error_percent": {"all": {"mean": 0.8, "std": 0.0, "runs": [0.8]}}}
        (tmp_path / f"wta_p{seed}.json").write_text(json.dumps(probe))
        probes.append(f"wta_p{seed}.json")
    shared = table._seed_group(tuple(probes[:2]))
    assert table._seeds("stacked_conv_wta", shared) == "2 stage-1 seeds over that one stage 0, "
    assert table._seeds("stacked_conv_wta", table._seed_group((probes[0], probes[2]))) == (
        "2 seed(s), ")
    assert table._seeds("conv_wta", shared) == "2 seed(s), "
    assert table._seeds("stacked_conv_wta", table._load(probes[0])) == "1 seed(s), "


def test_seed_group_summary_prints_test_and_cross_validated_means(table, tmp_path, capsys):
    # Oracle: the two runs' numbers written below, averaged by hand.
    files = []
    for seed, (test, cv) in enumerate(((0.80, 0.0078), (0.84, 0.0082))):
        run = {"probe": {"all": {"l2_selection": {"candidates": [0.0, 1e-4],
                                                   "validation_error": [0.02, cv],
                                                   "chosen": 1e-4}}}}
        (tmp_path / f"wta_g{seed}.json").write_text(json.dumps(
            {"args": {"seeds": [seed]}, "runs": [run],
             "test_error_percent": {"all": {"mean": test, "std": 0.0, "runs": [test]}}}))
        files.append(f"wta_g{seed}.json")
    table.main(["--seed-group", *files])
    assert capsys.readouterr().out.splitlines() == [
        "wta_g0.json + wta_g1.json: seeds [0, 1]", "test error % (all labels): 0.82 ± 0.02",
        "cross-validated error % (all labels): 0.80"]
    assert not (tmp_path / "models_table.md").exists()  # the table is not written
    with pytest.raises(SystemExit, match="not every file"):
        table.main(["--seed-group", "wta_g0.json", "wta_missing.json"])


def _drsae(tmp_path, name, train_size, val_size, error, shift=None):
    summary = [{"units": 400, "steps": 11, "seeds": 3, "test_error_mean": error,
                "test_error_std": 0.05, "paper_error_percent": 1.08}]
    extra = {} if shift is None else {"shift": shift}
    (tmp_path / name).write_text(json.dumps(
        {"summary": summary, "unsupervised_epochs": 100, "discriminative_epochs": 45,
         "train_size": train_size, "val_size": val_size, **extra}))


def test_drsae_rows_say_when_no_validation_split_was_held_out(table, tmp_path):
    _drsae(tmp_path, "drsae_phase1_100.json", 50000, 10000, 1.38)
    _drsae(tmp_path, "drsae_phase1_100_train60k.json", 60000, 0, 1.05)
    split, full = table.drsae_rows()
    assert "| 1.38 ± 0.05 | 1.08 | target not met: 100+45 epochs, Adam, 3 seeds, CPU |" in split
    assert ("| 1.05 ± 0.05 | 1.08 | target met: 100+45 epochs, Adam, 3 seeds, CPU, trained on "
            "all 60,000 training images (no validation split; the paper's is 50k / 10k) |"
            in full)


def test_an_augmented_drsae_run_gets_its_own_labelled_row(table, tmp_path):
    _drsae(tmp_path, "drsae_phase1_100.json", 50000, 10000, 1.38, shift=0)
    _drsae(tmp_path, "drsae_phase1_100_shift2.json", 50000, 10000, 1.01, shift=2)
    plain, shifted = table.drsae_rows()
    assert plain.startswith("| `drsae` | Rolfe & LeCun 2013 |")
    assert shifted.startswith("| `drsae` + 2-px training-image shifts (augmentation not in the "
                              "paper) | Rolfe & LeCun 2013 | MNIST test error %, 400 units, "
                              "T = 11 | 1.01 ± 0.05 | 1.08 | target met: 100+45 epochs")


def _stacked_fixture(tmp_path, stage0_epochs=(30, 30)):
    """Two stage-0 conv_wta runs (seeds 0 and 1, same protocol), stage-1 models trained over
    them: seeds 0 and 1 over stage 0 A, re-probed on every stage; seed 2 over stage 0 B, trained
    and probed on every stage in one run."""
    for name, seed, epochs in (("A", 0, stage0_epochs[0]), ("B", 1, stage0_epochs[1])):
        (tmp_path / f"wta_stage0_{name}.json").write_text(json.dumps({"args": {
            "model": "conv_wta", "epochs": epochs, "labels": ["100"], "seeds": [seed],
            "tag": f"stage0_{name}", "data_dir": f"/data{seed}",
            **({"zca_epsilon": None} if seed else {})}}))  # an option added after stage 0 A
    trained = {"model": "stacked_conv_wta", "epochs": [0, 4], "lr_schedule": "cosine",
               "decoder_kernel_size": [11, 7], "probe_stages": "top", "labels": ["all"]}
    err = {"all": {"mean": 0.8, "std": 0.0, "runs": [0.8]}}
    files = []
    for seed in (0, 1):
        (tmp_path / f"wta_t{seed}.json").write_text(json.dumps({"args": dict(
            trained, stage0_from="/m/wta_stage0_A.keras", seeds=[seed], save_model=True)}))
        (tmp_path / f"wta_p{seed}.json").write_text(json.dumps({"args": {
            "model": "stacked_conv_wta", "epochs": [0, 4], "lr_schedule": "constant",
            "decoder_kernel_size": 11, "stage0_from": None, "probe_stages": "all",
            "labels": ["all"], "load_model": f"/m/wta_t{seed}.keras", "seeds": [seed]},
            "test_error_percent": err}))
        files.append(f"wta_p{seed}.json")
    (tmp_path / "wta_d2.json").write_text(json.dumps({"args": dict(
        trained, stage0_from="saved_models/x/wta_stage0_B.keras", probe_stages="all",
        seeds=[2], data_dir="../shared/datasets"), "test_error_percent": err}))
    return files + ["wta_d2.json"]


def test_stacked_seeds_over_several_stage0_models_group_and_say_so(table, tmp_path):
    """Re-probes and a direct run group by the protocol of the run that trained each model
    (re-probes cannot repeat decoder kernels, schedule or stage 0) with their own probe
    settings; stage-0 models of one protocol but different seeds count as one protocol, and the
    row names them."""
    files = _stacked_fixture(tmp_path)
    group = table._seed_group(tuple(files))
    assert group["args"]["seeds"] == [0, 1, 2]
    assert table._seeds("stacked_conv_wta", group) == "3 stage-1 seeds over 2 stage-0 models, "
    assert table._wta_epochs("stacked_conv_wta", group["args"], group["group_args"]) == (
        "stage 0 = 30-epoch conv_wta models (`wta_stage0_A.keras`, `wta_stage0_B.keras`), then "
        "0+4 epochs stage by stage (cosine learning rate)")
    pair = table._seed_group((files[0], files[2]))       # one stage 0 each: full seeds
    assert table._seeds("stacked_conv_wta", pair) == "2 seed(s), "


def test_stacked_seeds_over_stage0_models_of_other_protocols_do_not_group(table, tmp_path):
    files = _stacked_fixture(tmp_path, stage0_epochs=(30, 15))
    with pytest.raises(ValueError, match=r"not run with the same arguments .*\['stage0.epochs'\]"):
        table._seed_group(tuple(files))


def test_a_group_must_share_its_probe_settings(table, tmp_path):
    files = _stacked_fixture(tmp_path)
    direct = json.loads((tmp_path / files[2]).read_text())
    direct["args"]["probe_stages"] = "top"
    (tmp_path / files[2]).write_text(json.dumps(direct))
    with pytest.raises(ValueError, match=r"\['probe_stages'\]"):
        table._seed_group(tuple(files))


def _fc(tmp_path, name, seed, error, shift=None, probe_shift=None):
    args = {"epochs": 40, "k": 0.05, "tied_weights": True, "seeds": [seed], "probe_l2": "auto",
            "probe_folds": 5, "probe_schedule": "cosine"}
    if shift is not None:
        args["shift"] = shift
    if probe_shift is not None:
        args.update(probe_shift=probe_shift, probe_copies=2)
    (tmp_path / name).write_text(json.dumps(
        {"args": args, "data": {"autoencoder_train_images": 60000},
         "paper_test_error_percent": {"all": 1.2},
         "test_error_percent": {"all": {"mean": error, "std": 0.0, "runs": [error]}}}))


def test_an_augmented_fc_wta_group_gets_its_own_labelled_row(table, tmp_path):
    # The shifted seeds that exist form one row of their own, after the paper-protocol row,
    # which they never replace; the mean is the two seeds' (oracle: (1.10 + 1.30) / 2).
    _fc(tmp_path, "wta_fc_40ep.json", 0, 1.50)
    _fc(tmp_path, "wta_fc_40ep_tied_shift2_cv5_s0.json", 0, 1.10, shift=2)
    _fc(tmp_path, "wta_fc_40ep_tied_shift2_cv5_s1.json", 1, 1.30, shift=2)
    plain, shifted = table.wta_rows()
    assert plain.startswith("| `fc_wta` |") and "| 1.50 |" in plain
    assert shifted.startswith("| `fc_wta` + 2-px training-image shifts (augmentation not in the "
                              "paper) |")
    assert "| 1.20 ± 0.10 |" in shifted and "2 seed(s)" in shifted
    assert "wta_fc_40ep_tied_shift2_cv5_s1.json" in shifted


def test_a_probe_augmented_fc_wta_group_gets_its_own_labelled_row(table, tmp_path):
    # Re-probes with shifted copies for the probe form a third row, after the shifted one;
    # the mean is the three seeds' (oracle: (1.0 + 1.2 + 1.1) / 3 = 1.10; std 0.08).
    _fc(tmp_path, "wta_fc_40ep.json", 0, 1.50)
    _fc(tmp_path, "wta_fc_40ep_tied_shift2_cv5_s0.json", 0, 1.25, shift=2)
    for seed, error in enumerate((1.0, 1.2, 1.1)):
        _fc(tmp_path, f"wta_fc_40ep_tied_shift2_pshift2x2_cv5_s{seed}.json", seed, error,
            shift=2, probe_shift=2)
    plain, shifted, probed = table.wta_rows()
    assert "| 1.25 |" in shifted and "pshift" not in shifted
    assert probed.startswith("| `fc_wta` + 2-px training-image shifts + probe also fitted on "
                             "2 copies of each labelled image shifted by up to 2 px "
                             "(augmentation not in the paper) |")
    assert "| 1.10 ± 0.08 |" in probed and "3 seed(s)" in probed
    assert "target met by the mean" in probed
