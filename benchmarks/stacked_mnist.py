"""Stacked autoencoder on MNIST: greedy layer-wise pre-training, then a classifier fine-tuned on
the pre-trained encoder, against the same classifier trained from random initialisation.

    python -m benchmarks.stacked_mnist --data-dir ../shared/datasets --pretrain-epochs 2 --finetune-epochs 5

Both classifiers have the same architecture, optimiser, epochs and data, so the difference is
what pre-training gives. Writes benchmarks/results/stacked_mnist.{json,md}.

``--study NAME`` runs the search for settings under which greedy (denoising) pre-training beats
random initialisation (issue 34, part 3) instead, and writes benchmarks/results/NAME.{json,md}:

    python -m benchmarks.stacked_mnist --study stacked_pretraining_study --data-dir ../shared/datasets

A validation split (``--val-size`` images) is carved from the training set; the rest is the pool
that the labelled subsets and the unlabelled pre-training images (``--pretrain-images``) come
from. Every combination of ``--activations`` x ``--noise-levels`` x ``--optimizers`` x
``--labels`` is run once (seed 0) with pre-training and from random initialisation, scored on
the validation split. For each label count, the setting with the largest validation advantage
of pre-training (random error minus pre-trained error) is chosen, and so is the random-init
setting with the lowest validation error; the chosen settings are then rerun with ``--seeds``
and scored on the test set. Pre-trained and random classifiers of a pair share the
architecture, the classifier head's initial weights, the labelled examples, the optimiser and
the number of fine-tuning steps.
"""

import argparse
import time

from benchmarks._common import command_line, machine, timestamp, write_results  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--units", type=int, nargs="+", default=[500, 250, 30])
    parser.add_argument("--noise-level", type=float, default=0.2, help="masking noise in pre-training (0: none)")
    parser.add_argument("--pretrain-epochs", type=int, default=2)
    parser.add_argument("--finetune-epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--num-labels", type=int, default=None,
                        help="fine-tune on this many labels (balanced), pre-train on all images")
    parser.add_argument("--study", default=None, metavar="NAME",
                        help="run the settings study instead and write results/NAME.{json,md}")
    parser.add_argument("--activations", nargs="+", default=["sigmoid", "relu"])
    parser.add_argument("--noise-levels", type=float, nargs="+", default=[0.0, 0.25])
    parser.add_argument("--optimizers", nargs="+", default=["sgd", "adam"])
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 1000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--val-size", type=int, default=10000)
    parser.add_argument("--pretrain-images", type=int, default=20000)
    parser.add_argument("--finetune-steps", type=int, default=1000)
    parser.add_argument("--finetune-batch-size", type=int, default=32)
    parser.add_argument("--sgd-learning-rate", type=float, default=0.05)
    parser.add_argument("--sgd-momentum", type=float, default=0.9)
    parser.add_argument("--adam-learning-rate", type=float, default=1e-3)
    args = parser.parse_args()
    if args.study:
        return study(args)

    import keras
    import numpy as np

    import keras_ae
    from keras_ae.models import StackedAutoencoder
    from keras_ae.training import train_greedily

    start, where = time.time(), machine()
    x_train, y_train = keras_ae.data.load_arrays("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = keras_ae.data.load_arrays("mnist", "test", data_dir=args.data_dir)
    x_train, x_test = keras_ae.data.to_float_images(x_train), keras_ae.data.to_float_images(x_test)
    if args.num_labels:
        keep = keras_ae.data.labelled_mask(keras_ae.data.keep_labels(y_train, args.num_labels, seed=0))
        x_labelled, y_labelled = x_train[keep], y_train[keep]
    else:
        x_labelled, y_labelled = x_train, y_train
    noise = "masking" if args.noise_level > 0 else None

    def classifier_error(pretrain):
        keras.utils.set_random_seed(0)
        model = StackedAutoencoder(units=args.units, noise=noise, noise_level=args.noise_level)
        t = time.time()
        recon_mse = None
        if pretrain:
            train_greedily(model, x_train, epochs=args.pretrain_epochs, batch_size=args.batch_size,
                           verbose=2)
            recon_mse = float(np.mean((model.reconstruct(x_test) - x_test) ** 2))
        pretrain_seconds = time.time() - t
        clf = model.classifier(10)
        clf.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
        t = time.time()
        clf.fit(x_labelled, y_labelled, epochs=args.finetune_epochs, batch_size=args.batch_size,
                verbose=2)
        _, accuracy = clf.evaluate(x_test, y_test, verbose=0)
        return {"pretrained": pretrain, "test_error_percent": 100 * (1 - float(accuracy)),
                "pretrain_seconds": round(pretrain_seconds, 1),
                "finetune_seconds": round(time.time() - t, 1),
                "pretrained_stack_test_mse_per_pixel": recon_mse}

    rows = [classifier_error(True), classifier_error(False)]
    took = time.time() - start
    payload = {"benchmark": "stacked autoencoder, greedy pre-training + fine-tuning, MNIST",
               "command": command_line(), "machine": where, "date": timestamp(),
               "backend": keras.backend.backend(), "units": args.units,
               "noise_level": args.noise_level, "pretrain_epochs_per_layer": args.pretrain_epochs,
               "finetune_epochs": args.finetune_epochs, "labelled_examples": int(len(x_labelled)),
               "seconds": round(took, 1), "results": rows}
    md = [f"Stacked autoencoder 784-{'-'.join(map(str, args.units))} on MNIST, "
          f"{keras.backend.backend()} backend: greedy pre-training ({args.pretrain_epochs} epoch(s) per "
          f"layer on 60,000 images, masking noise {args.noise_level}), then a softmax classifier on the "
          f"encoder fine-tuned end to end for {args.finetune_epochs} epochs on {len(x_labelled):,} "
          "labelled images; the baseline is the same classifier from random initialisation.", "",
          "| initialisation | test error % | pre-training time | fine-tuning time |",
          "| --- | ---: | ---: | ---: |"]
    for r in rows:
        md.append(f"| {'greedy pre-training' if r['pretrained'] else 'random'} | "
                  f"{r['test_error_percent']:.2f} | {r['pretrain_seconds']:.0f} s | {r['finetune_seconds']:.0f} s |")
    md += ["", f"Command: `{payload['command']}` · machine: {where} · {payload['date']} · took {took:.0f} s."]
    write_results("stacked_mnist", payload, "\n".join(md) + "\n")


def study(args):
    """Issue 34 part 3: the settings study (see the module docstring)."""
    import math

    import keras
    import numpy as np

    import keras_ae
    from keras_ae.models import StackedAutoencoder
    from keras_ae.training import describe_optimizer, make_optimizer, train_greedily

    start, where, date = time.time(), machine(), timestamp()
    x_all, y_all = keras_ae.data.load_arrays("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = keras_ae.data.load_arrays("mnist", "test", data_dir=args.data_dir)
    x_all, x_test = keras_ae.data.to_float_images(x_all), keras_ae.data.to_float_images(x_test)
    order = np.random.default_rng(12345).permutation(len(x_all))
    val_idx, pool_idx = order[:args.val_size], order[args.val_size:]
    x_val, y_val = x_all[val_idx], y_all[val_idx]
    x_pool, y_pool = x_all[pool_idx], y_all[pool_idx]
    x_unlabelled = x_pool[:args.pretrain_images]

    pretrained_cache = {}

    def build(activation, noise_level, seed):
        keras.utils.set_random_seed(seed)
        return StackedAutoencoder(units=args.units, activation=activation, code_activation=activation,
                                  noise="masking" if noise_level > 0 else None,
                                  noise_level=noise_level)

    def pretrained_weights(activation, noise_level, seed):
        key = (activation, noise_level, seed)
        if key not in pretrained_cache:
            model = build(activation, noise_level, seed)
            t = time.time()
            train_greedily(model, x_unlabelled, epochs=args.pretrain_epochs,
                           batch_size=args.batch_size, seed=seed)
            pretrained_cache[key] = (model.get_weights(), time.time() - t)
        return pretrained_cache[key]

    def error(clf, x, y):
        probs = clf.predict(x, batch_size=1000, verbose=0)
        return 100.0 * float(np.mean(np.argmax(probs, axis=1) != y))

    def run(activation, noise_level, optimizer, num_labels, seed, pretrain, x_eval, y_eval):
        keep = keras_ae.data.labelled_mask(keras_ae.data.keep_labels(y_pool, num_labels, seed=seed))
        x_lab, y_lab = x_pool[keep], y_pool[keep]
        model = build(activation, noise_level, seed)
        pre_seconds = 0.0
        if pretrain:
            weights, pre_seconds = pretrained_weights(activation, noise_level, seed)
            model.set_weights(weights)
        keras.utils.set_random_seed(seed + 1000)  # the same head for both initialisations
        clf = model.classifier(10)
        rate = args.sgd_learning_rate if optimizer == "sgd" else args.adam_learning_rate
        clf.compile(optimizer=make_optimizer(optimizer, rate,
                                             args.sgd_momentum if optimizer == "sgd" else 0.0),
                    loss="sparse_categorical_crossentropy")
        epochs = math.ceil(args.finetune_steps * args.finetune_batch_size / len(x_lab))
        t = time.time()
        clf.fit(x_lab, y_lab, epochs=epochs, batch_size=args.finetune_batch_size, verbose=0)
        row = {"activation": activation, "noise_level": noise_level, "optimizer": optimizer,
               "labels": num_labels, "seed": seed, "pretrained": pretrain,
               "error_percent": round(error(clf, x_eval, y_eval), 2),
               "train_error_percent": round(error(clf, x_lab, y_lab), 2),
               "finetune_epochs": epochs, "finetune_seconds": round(time.time() - t, 1),
               "pretrain_seconds": round(pre_seconds, 1)}
        print(row, flush=True)
        return row

    # Phase 1: every setting once (seed 0), scored on the validation split.
    validation = []
    for activation in args.activations:
        for noise_level in args.noise_levels:
            for optimizer in args.optimizers:
                for num_labels in args.labels:
                    for pretrain in (True, False):
                        if not pretrain and noise_level != args.noise_levels[0]:
                            continue  # noise only acts in pre-training: one random run suffices
                        validation.append(run(activation, noise_level, optimizer, num_labels, 0,
                                              pretrain, x_val, y_val))
    val_seconds = time.time() - start

    def random_row(rows, activation, optimizer, num_labels):
        return next(r for r in rows if not r["pretrained"] and r["activation"] == activation
                    and r["optimizer"] == optimizer and r["labels"] == num_labels)

    chosen = {}
    for num_labels in args.labels:
        pre = [r for r in validation if r["pretrained"] and r["labels"] == num_labels]
        gaps = [(random_row(validation, r["activation"], r["optimizer"], num_labels)["error_percent"]
                 - r["error_percent"], r) for r in pre]
        gap, best = max(gaps, key=lambda g: g[0])
        best_random = min((r for r in validation if not r["pretrained"] and r["labels"] == num_labels),
                          key=lambda r: r["error_percent"])
        chosen[num_labels] = {"paired": {k: best[k] for k in ("activation", "noise_level", "optimizer")},
                              "validation_advantage_points": round(gap, 2),
                              "best_random": {k: best_random[k] for k in ("activation", "optimizer")}}

    # Phase 2: the chosen settings with every seed, scored on the test set.
    test = []
    for num_labels in args.labels:
        c = chosen[num_labels]
        for seed in args.seeds:
            p = c["paired"]
            for pretrain in (True, False):
                row = run(p["activation"], p["noise_level"], p["optimizer"], num_labels, seed,
                          pretrain, x_test, y_test)
                test.append({**row, "role": "paired"})
            b = c["best_random"]
            if (b["activation"], b["optimizer"]) != (p["activation"], p["optimizer"]):
                row = run(b["activation"], args.noise_levels[0], b["optimizer"], num_labels, seed,
                          False, x_test, y_test)
                test.append({**row, "role": "best random on validation"})

    took = time.time() - start
    summary = []
    for num_labels in args.labels:
        def errs(role, pretrain):
            return [r["error_percent"] for r in test if r["labels"] == num_labels
                    and r["role"] == role and r["pretrained"] == pretrain]
        pre, rnd = errs("paired", True), errs("paired", False)
        best = errs("best random on validation", False) or rnd
        summary.append({"labels": num_labels, **chosen[num_labels],
                        "test_error_pretrained": pre, "test_error_random": rnd,
                        "test_error_best_random": best,
                        "mean_pretrained": round(float(np.mean(pre)), 2),
                        "mean_random": round(float(np.mean(rnd)), 2),
                        "mean_best_random": round(float(np.mean(best)), 2),
                        "pretraining_wins_seeds": int(sum(a < b for a, b in zip(pre, rnd)))})

    def describe(p):
        noise = f"masking {p['noise_level']:g}" if p.get("noise_level") else "no noise"
        return f"{p['activation']}, {noise}, {describe_optimizer(p['optimizer'], args.sgd_momentum if p['optimizer'] == 'sgd' else 0.0)}"

    arch = "784-" + "-".join(map(str, args.units))
    payload = {"benchmark": "stacked autoencoder: when does greedy (denoising) pre-training beat "
                            "random initialisation? MNIST, issue 34 part 3",
               "command": command_line(), "machine": where, "date": date,
               "backend": keras.backend.backend(), "units": args.units,
               "validation_images": args.val_size, "pretrain_images": len(x_unlabelled),
               "pretrain_epochs_per_stage": args.pretrain_epochs,
               "pretrain_optimizer": "Adam 1e-3 (train_greedily)",
               "pretrain_batch_size": args.batch_size,
               "finetune_steps": args.finetune_steps, "finetune_batch_size": args.finetune_batch_size,
               "sgd_learning_rate": args.sgd_learning_rate, "sgd_momentum": args.sgd_momentum,
               "adam_learning_rate": args.adam_learning_rate,
               "grid": {"activations": args.activations, "noise_levels": args.noise_levels,
                        "optimizers": args.optimizers, "labels": args.labels},
               "selection": "per label count, the setting with the largest validation advantage "
                            "of pre-training (random minus pre-trained error), seed 0",
               "test_seeds": args.seeds, "validation_seconds": round(val_seconds, 1),
               "seconds": round(took, 1), "summary": summary, "validation": validation,
               "test": test}
    md = [f"Stacked autoencoder {arch} on MNIST, {keras.backend.backend()} backend. Greedy "
          f"pre-training: {args.pretrain_epochs} epoch(s) per stage (Adam 1e-3, batch "
          f"{args.batch_size}) on {len(x_unlabelled):,} unlabelled training images; then a softmax "
          f"classifier on the encoder fine-tuned end to end for {args.finetune_steps:,} steps of "
          f"batch {args.finetune_batch_size} on the labelled examples (SGD lr "
          f"{args.sgd_learning_rate:g} momentum {args.sgd_momentum:g}, or Adam "
          f"{args.adam_learning_rate:g}). Settings chosen on {args.val_size:,} validation images "
          "carved from the training set (seed 0); the random-init baseline has the same "
          "architecture, head initialisation, labels, optimiser and steps.", "",
          "### Validation error % (seed 0)", "",
          "| activation | optimizer | labels | random init | " +
          " | ".join(f"pre-trained, noise {n:g}" for n in args.noise_levels) + " |",
          "| --- | --- | ---: | ---: | " + " | ".join("---:" for _ in args.noise_levels) + " |"]
    for activation in args.activations:
        for optimizer in args.optimizers:
            for num_labels in args.labels:
                rnd = random_row(validation, activation, optimizer, num_labels)["error_percent"]
                pre = [next(r for r in validation if r["pretrained"] and r["activation"] == activation
                            and r["optimizer"] == optimizer and r["labels"] == num_labels
                            and r["noise_level"] == n)["error_percent"] for n in args.noise_levels]
                md.append(f"| {activation} | {optimizer} | {num_labels:,} | {rnd:.2f} | " +
                          " | ".join(f"{e:.2f}" for e in pre) + " |")
    md += ["", f"### Test error % of the chosen settings, seeds {', '.join(map(str, args.seeds))}", "",
           "| labels | setting (chosen on validation) | pre-trained | random init, same setting | "
           "best random setting on validation | pre-training wins |",
           "| ---: | --- | --- | --- | --- | ---: |"]
    for s in summary:
        def cell(values, mean):
            return f"{mean:.2f} ({', '.join(f'{v:.2f}' for v in values)})"
        md.append(f"| {s['labels']:,} | {describe(s['paired'])} | "
                  f"{cell(s['test_error_pretrained'], s['mean_pretrained'])} | "
                  f"{cell(s['test_error_random'], s['mean_random'])} | "
                  f"{describe(s['best_random']).replace(', no noise', '')}: "
                  f"{cell(s['test_error_best_random'], s['mean_best_random'])} | "
                  f"{s['pretraining_wins_seeds']}/{len(args.seeds)} |")
    md += ["", f"Command: `{payload['command']}` · machine: {where} · {date} · took {took:.0f} s "
           f"(validation grid {val_seconds:.0f} s)."]
    write_results(args.study, payload, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
