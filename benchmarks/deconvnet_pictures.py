"""A deconvnet picture (Zeiler & Fergus 2014) of a briefly trained SWWAE, through the CLI.

    python -m benchmarks.deconvnet_pictures --data-dir ../shared/datasets --dataset mnist \\
        --work-dir runs/swwae_deconvnet

1. ``keras-ae train swwae --epochs 1 --limit 10000 ...`` into ``--work-dir`` (skipped when
   ``--work-dir``/model.keras exists: a rerun only draws again);
2. ``keras-ae plot deconvnet MODEL --layer conv_1 --units 0 1 2 3 ...``: each unit's nine
   strongest of 2,000 test images beside their projections, one PNG a unit, in
   ``--work-dir``/plots;
3. copies the unit ``--picture-unit``'s PNG to ``benchmarks/results/<out-name>.png`` and writes
   ``<out-name>.json`` / ``.md`` with both commands, the machine, the date and the wall time.
"""

import argparse
import os
import shutil
import time

from benchmarks._common import RESULTS, command_line, machine, timestamp, write_results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--work-dir", required=True, help="where the SWWAE and all PNGs go")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=10000)
    parser.add_argument("--layer", default="conv_1")
    parser.add_argument("--units", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--picture-unit", type=int, default=None,
                        help="the unit whose PNG is kept in benchmarks/results (default the first)")
    parser.add_argument("--out-name", default="deconvnet_swwae")
    args = parser.parse_args(argv)
    unit = args.units[0] if args.picture_unit is None else args.picture_unit
    if unit not in args.units:
        parser.error(f"--picture-unit {unit} is not one of --units {args.units}")
    where, started = machine(), time.time()

    import keras

    from keras_ae import cli

    data = ["--dataset", args.dataset] + (["--data-dir", args.data_dir] if args.data_dir else [])
    model_file = os.path.join(args.work_dir, "model.keras")
    train = ["train", "swwae", "--epochs", str(args.epochs), "--limit", str(args.limit), *data,
             "--out", args.work_dir, "--no-export"]
    trained_now = not os.path.exists(model_file)
    if trained_now and cli.main(train) != 0:
        raise SystemExit("training failed")
    plots = os.path.join(args.work_dir, "plots")
    plot = ["plot", "deconvnet", model_file, "--layer", args.layer, "--units",
            *map(str, args.units), "--examples", str(args.examples), *data, "--out", plots]
    if cli.main(plot) != 0:
        raise SystemExit("plot deconvnet failed")
    png = os.path.join(RESULTS, f"{args.out_name}.png")
    shutil.copyfile(os.path.join(plots, f"deconvnet_{args.layer}_unit{unit}.png"), png)

    def shown(words):
        return "keras-ae " + " ".join(words)

    record = {"benchmark": "deconvnet projections of a briefly trained SWWAE",
              "command": command_line(), "machine": where, "date": timestamp(),
              "backend": keras.backend.backend(), "train_command": shown(train),
              "trained_now": trained_now, "plot_command": shown(plot), "layer": args.layer,
              "units": args.units, "picture_unit": unit,
              "picture": os.path.relpath(png, os.path.dirname(os.path.dirname(RESULTS))),
              "wall_seconds": round(time.time() - started, 1)}
    markdown = "\n".join([
        f"Deconvnet projections of `{args.layer}`'s unit {unit} in a `swwae` trained "
        f"{args.epochs} epoch(s) on {args.limit:,} {args.dataset} images ({record['backend']}): "
        f"its nine strongest of {args.examples:,} test images (left) and what each projects "
        f"to in pixel space (right; zero is mid-grey).", "",
        f"- train: `{record['train_command']}`", f"- draw: `{record['plot_command']}`",
        f"- run by `{record['command']}` ({where}, {record['date']}; "
        f"{record['wall_seconds']:.0f} s wall{'' if trained_now else ', the model trained earlier'})",
        "", f"![deconvnet]({record['picture']})", ""])
    write_results(args.out_name, record, markdown)


if __name__ == "__main__":
    main()
