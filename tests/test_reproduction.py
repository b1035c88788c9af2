"""The models table as data (keras_ae/reproduction/rows.toml): the rows validate, every figure is
read from a results file that exists, every row's protocol becomes command lines the CLI
parses, the table generator computes what a hand calculation gives, and `keras-ae reproduce`
lists, prints and runs the commands."""

import glob
import json
import os
import re

import numpy as np
import pytest

from keras_ae import catalog, cli, models, reproduction
from keras_ae.testing import load_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
ROWS = reproduction.rows()
IDS = [r["id"] for r in ROWS]
#: Speed-benchmark outputs, kept whether or not a page cites them.
SPEED = re.compile(
    r"^(bench_|pooling|wta_step|drsae_step|stacked_decoder|probe_heads|conv_ae_step)")


@pytest.fixture(scope="module")
def table_module():
    return load_script(os.path.join(ROOT, "benchmarks", "models_table.py"), "models_table_script")


def _parts(row):
    return [row[name] for name in ("paper_protocol", "best_labelled") if name in row]


def test_one_row_per_model_of_the_table():
    assert len(IDS) == len(set(IDS))
    assert IDS == [r["model"] for r in ROWS]  # one row per model, named after it
    # swwae_soft has no results yet; text_autoencoder is no image model (its results:
    # benchmarks/text_retrieval.py, docs/text.md)
    assert set(IDS) == set(catalog.names()) - {"swwae_soft", "text_autoencoder"}
    for r in ROWS:
        assert os.path.isfile(os.path.join(ROOT, r["docs"]))


@pytest.mark.parametrize("change, message", [
    (lambda r: r.update(model="no_such_model"), "unknown model"),
    (lambda r: r.update(family="wta"), "is of family"),
    (lambda r: r["protocol"]["train"].update(optimizer="sgd"), "unknown protocol option"),
    (lambda r: r["paper_protocol"].update(results=[]), "must list results files"),
    (lambda r: r["paper_protocol"].update(key="runs[labels=100"), "bad key"),
    (lambda r: r.update(paper="drsae.figures.no_such_figure"), "no_such_figure"),
    (lambda r: r["protocol"].update(output="probe"), "needs protocol.probe"),
])
def test_a_bad_row_is_refused(tmp_path, change, message):
    row = reproduction.row("drsae")
    change(row)
    path = tmp_path / "rows.toml"
    path.write_text(_toml([row]))
    with pytest.raises(ValueError, match=message):
        reproduction.rows(str(path))


def test_a_duplicate_id_is_refused(tmp_path):
    path = tmp_path / "rows.toml"
    path.write_text(_toml([reproduction.row("drsae")] * 2))
    with pytest.raises(ValueError, match="duplicate id"):
        reproduction.rows(str(path))


@pytest.mark.parametrize("row_id", IDS)
def test_every_results_file_exists_and_yields_numbers(row_id):
    row = reproduction.row(row_id)
    for part in _parts(row):
        for name in part["results"] + part.get("provenance", []):
            assert os.path.isfile(os.path.join(RESULTS, name)), name
        keys = ["key"] + (["baseline"] if "baseline" in part else [])
        for key in keys:
            for figure in reproduction.figures(part, RESULTS, key=key):
                assert figure["n"] >= 1 and np.isfinite(figure["mean"])
    citation, numbers, _ = reproduction.paper_figures(row)
    assert citation and all(np.isfinite(numbers))


@pytest.mark.parametrize("row_id", IDS)
def test_the_models_behind_each_figure_are_kept(row_id):
    """A re-probe records the model it loaded (load_model, stage0_from): the run that trained
    that model is listed with the row (results or provenance), so it is never trimmed away."""
    for part in _parts(reproduction.row(row_id)):
        listed = set(part["results"]) | set(part.get("provenance", []))
        todo = list(part["results"])
        while todo:
            with open(os.path.join(RESULTS, todo.pop())) as f:
                args = json.load(f).get("args", {})
            for source in (args.get("load_model"), args.get("stage0_from")):
                if source:
                    trained = os.path.basename(source).replace(".keras", ".json")
                    assert trained in listed, f"{trained} is not listed with row {row_id}"
                    todo.append(trained)


@pytest.mark.parametrize("row_id, best", [(r["id"], False) for r in ROWS]
                         + [(r["id"], True) for r in ROWS if "best_labelled" in r])
def test_every_command_parses(row_id, best):
    row = reproduction.row(row_id)
    parser = cli.build_parser()
    argvs = reproduction.commands(row_id, best_labelled=best, out="out")
    protocol = reproduction.protocol_of(row, best)
    runs = len(protocol["seeds"]) * len(protocol.get("variants", [None]))
    assert len(argvs) == runs * (2 if "probe" in protocol else 1)
    for argv in argvs:
        args = parser.parse_args(argv)
        assert args.dataset == "mnist" and args.out.startswith("out")
        if args.command == "train":
            cls = models.get(row["model"])
            assert args.model == row["model"]
            models.check_config_fields(cls, cli._parse_overrides(args.set))
            cli._check_procedure_flags(cls, args)
        else:
            assert args.command == "probe" and args.model_file.startswith("out")


def test_seeds_epochs_scale_and_best_labelled_changes():
    drsae = reproduction.commands("drsae", epochs_scale=0.01, data_dir="/data")
    assert [a[a.index("--seed") + 1] for a in drsae] == ["0", "1", "2"]
    assert "seed=2" in drsae[2]  # "{seed}" in `set` is the run's seed
    args = cli.build_parser().parse_args(drsae[0])
    assert (args.epochs, args.unsupervised_epochs, args.data_dir) == (1, 0, "/data")
    args = cli.build_parser().parse_args(reproduction.commands("drsae", epochs_scale=0.1)[0])
    assert (args.epochs, args.unsupervised_epochs) == (14, 10)  # 145 * 0.1, 100 * 0.1
    fc = reproduction.commands("fc_wta", epochs_scale=0.5, best_labelled=True)
    train, probe = (cli.build_parser().parse_args(a) for a in fc[:2])
    assert (train.epochs, train.shift, probe.epochs, probe.shift, probe.copies) == (20, 2, 15, 2, 2)
    assert train.out == os.path.join("runs", "reproduce", "fc_wta_best", "seed0")
    swwae = reproduction.commands("swwae", out="o")
    assert [cli.build_parser().parse_args(a).labels for a in swwae[:4]] == [100, 600, 1000, 3000]
    with pytest.raises(ValueError, match="epochs_scale"):
        reproduction.commands("fc_wta", epochs_scale=0)


def test_read_key_selects_by_field_and_pools_lists():
    data = {"runs": [{"labels": 100, "seed": 0, "e": 2.0}, {"labels": 100, "seed": 1, "e": 4.0},
                     {"labels": 600, "seed": 0, "e": 1.0}],
            "results": [{"pretrained": True, "x": 3}], "n": {"all": {"runs": [1.5, 2.5]}}}
    assert reproduction.read_key(data, "runs[labels=100].e") == [2.0, 4.0]
    assert reproduction.read_key(data, "runs[labels=100][seed=1].e") == [4.0]
    assert reproduction.read_key(data, "results[pretrained=true].x") == [3.0]
    assert reproduction.read_key(data, "n.all.runs") == [1.5, 2.5]
    with pytest.raises(KeyError):
        reproduction.read_key(data, "runs[labels=3000].e")
    with pytest.raises(ValueError):
        reproduction.read_key(data, "runs")


def test_the_generator_computes_mean_and_std_of_fake_results(tmp_path, table_module):
    """Oracle: errors 2, 4, 4 and 6 % over four seed files have mean 4 and (population)
    standard deviation sqrt(8 / 4) = 1.41; a merged file's 100-label runs 10 and 12 have mean 11
    and deviation 1, its 600-label run 3 stands alone."""
    for seed, error in enumerate([2.0, 4.0, 4.0, 6.0]):
        (tmp_path / f"fake_s{seed}.json").write_text(
            json.dumps({"test_error_percent": {"all": {"runs": [error]}}}))
    (tmp_path / "fake_aug.json").write_text(
        json.dumps({"test_error_percent": {"all": {"runs": [0.5]}}}))
    (tmp_path / "fake_semi.json").write_text(json.dumps({"runs": [
        {"labels": 100, "err": 10.0}, {"labels": 100, "err": 12.0}, {"labels": 600, "err": 3.0}]}))
    fc = reproduction.row("fc_wta")
    fc["paper_protocol"].update(results=[f"fake_s{s}.json" for s in range(4)], provenance=[])
    fc["best_labelled"].update(results=["fake_aug.json"], provenance=[])
    swwae = reproduction.row("swwae")
    swwae["paper"] = swwae["paper"][:2]
    swwae["paper_protocol"].update(results=["fake_semi.json"],
                                   key=["runs[labels=100].err", "runs[labels=600].err"])
    swwae["protocol"]["variants"] = swwae["protocol"]["variants"][:2]
    del swwae["best_labelled"]
    rows_file = tmp_path / "rows.toml"
    rows_file.write_text(_toml([fc, swwae]))
    text = table_module.table(reproduction.rows(str(rows_file)), str(tmp_path))
    fc_line = next(line for line in text.splitlines() if line.startswith("| `fc_wta`"))
    cells = [c.strip() for c in fc_line.strip("|").split(" | ")]
    from keras_ae.models.wta import PAPERS

    assert cells[3] == "4.00 ± 1.41 (4 seeds)"
    assert cells[4].startswith("0.50: autoencoder trained on images shifted")
    assert cells[5] == str(PAPERS["fc_wta"]["figures"]["mnist_error_percent"])
    assert cells[7].startswith("`keras-ae reproduce fc_wta`")
    sw_line = next(line for line in text.splitlines() if line.startswith("| `swwae`"))
    assert " | 11.00 ± 1.00 / 3.00 (2/1 seeds) | — | " in sw_line
    assert "`fake_s0.json`, `fake_s1.json`, `fake_s2.json`, `fake_s3.json`" in text


def test_the_committed_table_is_the_generators_output(table_module):
    with open(os.path.join(RESULTS, "models_table.md")) as f:
        assert f.read() == table_module.table(), "run: python -m benchmarks.models_table"


def test_reproduce_lists_the_rows(capsys):
    for argv in (["reproduce", "--list"], ["reproduce"]):
        assert cli.main(argv) == 0
        lines = capsys.readouterr().out.splitlines()
        assert [line.split()[0] for line in lines] == IDS
    assert re.search(r"^fc_wta\s+fc_wta\s+\d+\.\d\d ± \d+\.\d\d \(4 seeds\)\s+\(paper: ",
                     "\n".join(lines), re.MULTILINE)


def test_reproduce_dry_run_prints_the_commands(capsys, tmp_path):
    out = str(tmp_path / "o")
    assert cli.main(["reproduce", "conv_wta", "--dry-run", "--out", out]) == 0
    printed = [line for line in capsys.readouterr().out.splitlines()
               if line.startswith("keras-ae ")]
    commands = reproduction.commands("conv_wta", out=out)
    assert printed == [reproduction.shell_line(a) for a in commands]
    assert printed[0].startswith("keras-ae train conv_wta ")
    assert printed[1].startswith("keras-ae probe ")
    assert not os.path.exists(out)  # nothing run, nothing written
    assert cli.main(["reproduce", "no_such_row", "--dry-run"]) == 2
    assert "no row 'no_such_row'" in capsys.readouterr().err
    assert cli.main(["reproduce", "conv_wta", "--best-labelled", "--dry-run"]) == 2


def test_run_stops_at_a_failure_and_summarises(tmp_path):
    """run() calls main with each argv in order and reads each run's figure from its output."""
    calls = []

    def fake_main(argv):
        calls.append(argv)
        folder = argv[argv.index("--out") + 1]
        if argv[0] == "train":
            os.makedirs(folder, exist_ok=True)
        else:  # probe: the figure file, errors 1 + seed
            seed = int(argv[argv.index("--seed") + 1])
            with open(folder, "w") as f:
                json.dump({"probes": {"all": {"test_error_percent": 1.0 + seed}}}, f)
        return 0

    summary = reproduction.run("conv_wta", out=str(tmp_path / "r"), main=fake_main)
    assert calls == reproduction.commands("conv_wta", out=str(tmp_path / "r"))
    assert summary["ok"] and summary["figures"][0]["values"] == [1.0, 2.0, 3.0]
    assert summary["figures"][0]["mean"] == pytest.approx(2.0)
    assert _json(tmp_path / "r" / "summary.json")["figures"] == summary["figures"]
    calls.clear()
    failed = reproduction.run("conv_wta", out=str(tmp_path / "f"),
                              main=lambda argv: calls.append(argv) or 1)
    assert not failed["ok"] and failed["exit_codes"] == [1] and len(calls) == 1


def test_reproduce_runs_a_row_through_the_cli(tmp_path, capsys):
    """One real run, shortened (--epochs-scale) on a tiny MNIST-shaped IDX folder."""
    from keras_ae.data import write_idx

    data = tmp_path / "mnist"
    data.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 256), ("t10k", 64)):
        write_idx(str(data / f"{prefix}-images-idx3-ubyte"),
                  rng.integers(0, 256, (n, 28, 28)).astype(np.uint8))
        write_idx(str(data / f"{prefix}-labels-idx1-ubyte"), (np.arange(n) % 10).astype(np.uint8))
    out = str(tmp_path / "run")
    assert cli.main(["reproduce", "linear_autoencoder", "--epochs-scale", "0.1", "--out", out,
                     "--data-dir", str(data)]) == 0
    summary = _json(os.path.join(out, "summary.json"))
    metrics = _json(os.path.join(out, "seed0", "metrics.json"))
    assert metrics["epochs"] == 1 and metrics["config"]["code_size"] == 30
    assert summary["figures"][0]["values"] == [metrics["test"]["reconstruction_mse"]]
    assert summary["recorded"][0]["n"] == 1


@pytest.mark.parametrize("page", sorted({r["docs"] for r in ROWS}))
def test_docs_pages_give_the_reproduce_commands(page):
    with open(os.path.join(ROOT, page)) as f:
        text = f.read()
    assert "<!-- reproduce: filled in by the rows file -->" not in text
    for r in ROWS:
        if r["docs"] == page:
            assert f"keras-ae reproduce {r['id']}" in text
            if "best_labelled" in r:
                assert f"keras-ae reproduce {r['id']} --best-labelled" in text


def _cited():
    """What benchmarks/results/ may hold: files a row lists, files the docs pages, README.md or
    saved_models/README.md name (the
    page gives a .json's stem alone in backticks, or `swwae_sweep_r1.json … swwae_sweep_r5.json`
    as a range), the record (.json) behind a cited .md and the files that .md names,
    speed-benchmark outputs, the table itself and the reconstructions benchmarks/classic_mnist.py
    reads back."""
    names = set(os.listdir(RESULTS))
    cited = {"models_table.md", "classic_mnist_reconstructions.npz"}
    cited |= {f for r in ROWS for part in _parts(r)
              for f in part["results"] + part.get("provenance", [])}
    docs = "".join(_text(p) for p in glob.glob(os.path.join(ROOT, "docs", "*.md")) + [
        os.path.join(ROOT, "README.md"), os.path.join(ROOT, "saved_models", "README.md")])
    for stem, first, last in re.findall(r"`(\w+?)(\d+)\.json` … `\w+?(\d+)\.json`", docs):
        cited |= {f"{stem}{i}.json" for i in range(int(first), int(last) + 1)}
    cited |= {f for f in names if f in docs or (f.endswith(".json") and f"`{f[:-5]}`" in docs)}
    cited |= {f for f in names if SPEED.match(f)}
    for md in [f for f in cited if f.endswith(".md") and f in names]:
        text = _text(os.path.join(RESULTS, md))
        cited |= {md[:-3] + ".json"} | {f for f in names if f in text}
    return cited


def test_results_folder_holds_only_cited_files():
    uncited = sorted(set(os.listdir(RESULTS)) - _cited())
    assert not uncited, f"cited by no row of rows.toml and no docs page: {uncited}"


def _text(path):
    with open(path) as f:
        return f.read()


def _json(path):
    return json.loads(_text(path))


def _toml(rows):
    """Rows written back as TOML (JSON's strings, numbers, booleans and arrays are TOML's)."""

    def value(v):
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(v)

    return "".join("[[row]]\n" + "".join(f"{k} = {value(v)}\n" for k, v in r.items()) + "\n"
                   for r in rows)
