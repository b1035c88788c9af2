"""Short learning-rate check for the FC-WTA autoencoder: training loss only, no labels.

    KERAS_BACKEND=tensorflow python benchmarks/wta_lr_check.py --data-dir ../shared/datasets \
        --optimizer sgd --momentum 0.9 --learning-rates 1 5 20 50 100 --epochs 4 --tag sgd

For each learning rate a fresh FC-WTA (2000 units, k = 5 %, tied weights unless
``--untied``; seed 0) trains ``--epochs`` epochs on the 60,000 MNIST training images with the
given optimizer, and the per-epoch training loss (the reconstruction MSE) is recorded, with the
number of hidden units never active on the training images afterwards (sparsity off). This is
how a learning rate is picked for a longer run without looking at any label: the lowest final
training loss among the rates that did not diverge. It says nothing about the features'
quality, which ``examples/wta_mnist.py``'s probe measures.

Writes ``benchmarks/results/wta_lr_check_<tag>.json`` and ``.md``.
"""

import argparse
import math
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import command_line, machine, timestamp, write_results  # noqa: E402

from keras_ae.training import OPTIMIZERS, check_optimizer_arguments  # noqa: E402


def check(args):
    import keras
    import numpy as np

    from keras_ae.data import load_arrays, make_dataset, to_float_images
    from keras_ae.models.wta import FCWTA
    from keras_ae.training import describe_optimizer, make_optimizer

    images, _ = load_arrays("mnist", "train", data_dir=args.data_dir)
    images = to_float_images(images)
    if args.train_limit:
        images = images[:args.train_limit]
    rows = []
    for rate in args.learning_rates:
        keras.utils.set_random_seed(args.seed)
        model = FCWTA(hidden_units=args.hidden_units, k=args.k, tied_weights=not args.untied)
        model.compile(optimizer=make_optimizer(args.optimizer, rate, momentum=args.momentum))
        data = make_dataset(images, np.zeros(len(images)), batch_size=args.batch_size,
                            seed=args.seed, target="image")
        start = time.perf_counter()
        history = model.fit(data, epochs=args.epochs, verbose=0, shuffle=False)
        seconds = time.perf_counter() - start
        losses = [float(v) for v in history.history["loss"]]
        codes = keras.ops.convert_to_numpy(model.encoder.predict(images, batch_size=1000,
                                                                 verbose=0))
        diverged = not all(math.isfinite(v) for v in losses)
        rows.append({"learning_rate": rate, "loss_per_epoch": losses, "diverged": diverged,
                     "never_active_units": int(np.sum(~(codes > 0).any(axis=0))),
                     "train_seconds": round(seconds, 1)})
        print(f"lr {rate:g}: losses {[round(v, 5) for v in losses]}, "
              f"{rows[-1]['never_active_units']} units never active, {seconds:.0f} s", flush=True)
    finite = [r for r in rows if not r["diverged"]]
    best = min(finite, key=lambda r: r["loss_per_epoch"][-1]) if finite else None
    return {"optimizer": describe_optimizer(args.optimizer, args.momentum),
            "images": len(images), "rows": rows,
            "lowest_final_loss_rate": None if best is None else best["learning_rate"]}


def markdown(payload, args):
    lines = [f"# FC-WTA learning-rate check ({payload['optimizer']}, {args.epochs} epochs)", "",
             f"`{payload['command']}`", "",
             "| learning rate | training loss per epoch | units never active | train s |",
             "| --- | --- | --- | --- |"]
    for r in payload["rows"]:
        losses = " / ".join("diverged" if not math.isfinite(v) else f"{v:.5f}"
                            for v in r["loss_per_epoch"])
        lines.append(f"| {r['learning_rate']:g} | {losses} | {r['never_active_units']} | "
                     f"{r['train_seconds']:.0f} |")
    chosen = payload["lowest_final_loss_rate"]
    lines += ["", f"FC-WTA, {args.hidden_units} units, k = {100 * args.k:g} %, "
              f"{'untied' if args.untied else 'tied'} weights, batch {args.batch_size}, seed "
              f"{args.seed}, {payload['images']} training images; no labels used. Lowest final "
              f"training loss: learning rate {'none (all diverged)' if chosen is None else f'{chosen:g}'}. "
              f"{payload['machine']}; {payload['wall_seconds']:.0f} s, {payload['timestamp']}.", ""]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ IDX files")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd")
    p.add_argument("--momentum", type=float, default=0.0)
    p.add_argument("--learning-rates", type=float, nargs="+", required=True)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--hidden-units", type=int, default=2000)
    p.add_argument("--k", type=float, default=0.05)
    p.add_argument("--untied", action="store_true")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-limit", type=int, default=None, help="first N training images")
    p.add_argument("--tag", required=True, help="output name: wta_lr_check_<tag>.*")
    args = p.parse_args(argv)
    try:
        check_optimizer_arguments(args.optimizer, args.momentum)
    except ValueError as error:
        p.error(f"--optimizer / --momentum: {error}")
    if args.epochs < 1 or any(r <= 0 for r in args.learning_rates):
        p.error("--epochs and every --learning-rates value must be positive")

    import keras

    where, when, start = machine(), timestamp(), time.perf_counter()
    payload = check(args)
    payload.update(command=command_line(argv, backend=keras.backend.backend()),
                   backend=keras.backend.backend(), machine=where, timestamp=when,
                   wall_seconds=round(time.perf_counter() - start, 1))
    write_results(f"wta_lr_check_{args.tag}", payload, markdown(payload, args))


if __name__ == "__main__":
    main()
