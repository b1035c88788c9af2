"""Masked autoencoder on MNIST: pre-training, linear probes, fine-tuning, mask-ratio ablation.

    python -m benchmarks.mae_mnist [--epochs 10] [--fine-tune-epochs 10] [--limit N]
        [--mask-ratios 0.5 0.9] [--data-dir DIR] [--dataset mnist] [--seed 0]
        [--set FIELD=VALUE ...] [--work-dir runs/mae_mnist] [--out-name mae_mnist]

1. Pre-trains ``mae`` (its defaults, ``--set`` overrides) for ``--epochs`` on the training split
   (the first ``--limit`` images) with its own procedure (``fit_procedure``: Adam, the model's
   rate), checkpointing every epoch under ``--work-dir`` (a rerun resumes), and draws test
   digits / their masked input / the reconstruction.
2. Linear probes (:func:`keras_ae.evaluation.probe_report`, weight decay chosen on held-out
   labelled examples) of the encoder's mean token with 100, 1,000 and all labels, for the
   pre-trained encoder, the same encoder at its random initialisation, and the same encoder
   trained supervised (a softmax classifier on it, all labels, ``--fine-tune-epochs``).
3. Fine-tuning: the classifier on the pre-trained encoder trained end to end with 1,000 labels
   and with all, against the same network from random initialisation (the supervised run of 2
   is the all-labels one).
4. Mask-ratio ablation: pre-training again at each ``--mask-ratios`` value, probe with 1,000
   labels (0.75 is the run of 1).

Writes ``benchmarks/results/<out-name>.json`` / ``.md`` after every part and
``<out-name>_reconstructions.png``.
"""

import argparse
import json
import os
import time

import numpy as np

from benchmarks._common import RESULTS, command_line, machine, timestamp, write_results

BUDGETS = ["100", "1000", "all"]


def fine_tune(mae, x, y, x_test, y_test, labels, epochs, seed, batch_size=128):
    """Trains ``mae.classifier`` end to end on ``labels`` balanced labelled examples (``"all"``:
    every one) for ``epochs`` (at least 300 steps), Adam 1e-3 cosine-annealed; returns the test
    error % and the seconds."""
    import keras

    from keras_ae.evaluation import label_budget_mask
    from keras_ae.checks import label_budget

    count = label_budget(labels)
    keep = label_budget_mask(y, count, seed=seed)
    xs, ys = x[keep], y[keep]
    steps_per_epoch = max(1, int(np.ceil(len(xs) / batch_size)))
    epochs = max(epochs, int(np.ceil(300 / steps_per_epoch)))
    clf = mae.classifier(int(y.max()) + 1)
    rate = keras.optimizers.schedules.CosineDecay(1e-3, epochs * steps_per_epoch)
    clf.compile(optimizer=keras.optimizers.Adam(rate), loss="sparse_categorical_crossentropy",
                metrics=["accuracy"])
    start = time.time()
    clf.fit(xs, ys, batch_size=batch_size, epochs=epochs, verbose=0, shuffle=True)
    seconds = time.time() - start
    probs = clf.predict(x_test, batch_size=256, verbose=0)
    return {"labels": labels, "examples": int(len(xs)), "epochs": epochs,
            "test_error_percent": float(100 * np.mean(np.argmax(probs, -1) != y_test)),
            "seconds": round(seconds, 1)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--fine-tune-epochs", type=int, default=10)
    parser.add_argument("--limit", type=int, default=None, help="training images (default all)")
    parser.add_argument("--mask-ratios", type=float, nargs="*", default=[0.5, 0.9])
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--work-dir", default=os.path.join("runs", "mae_mnist"))
    parser.add_argument("--out-name", default="mae_mnist")
    args = parser.parse_args(argv)

    import keras

    from keras_ae import models, visualize
    from keras_ae.data import load_arrays, make_dataset, to_float_images
    from keras_ae.evaluation import probe_report

    from keras_ae.cli import _parse_overrides  # the CLI's --set parsing (JSON values)

    overrides = _parse_overrides(args.set)
    x, y = load_arrays(args.dataset, "train", data_dir=args.data_dir)
    x_test, y_test = load_arrays(args.dataset, "test", data_dir=args.data_dir)
    x, x_test = to_float_images(x), to_float_images(x_test)
    if args.limit:
        x, y = x[:args.limit], y[:args.limit]
    record = {"benchmark": "masked autoencoder on MNIST", "command": command_line(),
              "machine": machine(), "date": timestamp(), "backend": keras.backend.backend(),
              "dataset": args.dataset, "train_examples": int(len(x)),
              "test_examples": int(len(x_test)), "epochs": args.epochs,
              "fine_tune_epochs": args.fine_tune_epochs, "batch_size": args.batch_size,
              "seed": args.seed, "overrides": overrides}
    started = time.time()
    stem = args.out_name

    def save():
        record["wall_seconds"] = round(time.time() - started, 1)
        write_results(stem, record, markdown(record, stem))

    def build(mask_ratio=None):
        keras.utils.set_random_seed(args.seed)
        config = {"input_shape": list(x.shape[1:]), "seed": args.seed, **overrides}
        if mask_ratio is not None:
            config["mask_ratio"] = mask_ratio
        return models.build("mae", **config)

    def pretrain(mask_ratio=None):
        model = build(mask_ratio)
        ratio = model.get_config()["mask_ratio"]
        data = make_dataset(x, y, batch_size=args.batch_size, seed=args.seed)
        folder = os.path.join(args.work_dir, f"pretrain_r{ratio}_s{args.seed}")
        state = os.path.join(folder, "state.json")
        done_before = json.load(open(state))["epoch"] if os.path.exists(state) else 0
        start = time.time()
        history = model.fit_procedure(data, args.epochs, verbose=2, checkpoint_dir=folder)
        return model, {"mask_ratio": ratio, "loss": [round(v, 5) for v in history["loss"]],
                       "seconds": round(time.time() - start, 1),
                       "epochs_resumed_from_checkpoint": done_before}

    def probe(model, budgets):
        report = probe_report(model, x, y, x_test, y_test, budgets=budgets, seed=args.seed,
                              verbose=1)
        return {b: report["probes"][b]["test_error_percent"] for b in budgets}

    # 1. pre-training
    mae, record["pretrain"] = pretrain()
    record["config"] = mae.get_config()
    record["parameters"] = int(mae.count_params())
    out = mae.masked_outputs(x_test[:16])
    visualize.save_reconstructions(
        x_test[:16], [out["masked_input"], out["reconstruction"]],
        os.path.join(RESULTS, f"{stem}_reconstructions.png"),
        row_titles=["input", f"masked {record['pretrain']['mask_ratio']:.0%}", "reconstruction"],
        title=f"MAE on {args.dataset}, {args.epochs} epoch(s): test digits, masked, reconstructed")
    record["pretrain"]["test_masked_patch_mse"] = _masked_patch_mse(mae, x_test[:2000])
    weights = os.path.join(args.work_dir, f"pretrained_s{args.seed}.weights.h5")
    mae.save_weights(weights)
    save()

    # 2. linear probes
    record["probe"] = {"pretrained": probe(mae, BUDGETS)}
    save()
    record["probe"]["random_init"] = probe(build(), BUDGETS)
    save()
    supervised = build()
    record["fine_tune"] = {"scratch": {"all": fine_tune(supervised, x, y, x_test, y_test, "all",
                                                        args.fine_tune_epochs, args.seed)}}
    record["probe"]["supervised"] = probe(supervised, BUDGETS)
    save()

    # 3. fine-tuning
    record["fine_tune"]["scratch"]["1000"] = fine_tune(build(), x, y, x_test, y_test, "1000",
                                                       args.fine_tune_epochs, args.seed)
    record["fine_tune"]["pretrained"] = {}
    for labels in ("1000", "all"):
        mae.load_weights(weights)
        record["fine_tune"]["pretrained"][labels] = fine_tune(
            mae, x, y, x_test, y_test, labels, args.fine_tune_epochs, args.seed)
        save()

    # 4. mask ratio ablation
    record["mask_ratio_ablation"] = [{"mask_ratio": record["pretrain"]["mask_ratio"],
                                      "probe_1000_error_percent": record["probe"]["pretrained"]["1000"]}]
    for ratio in args.mask_ratios:
        model, run = pretrain(ratio)
        run["probe_1000_error_percent"] = probe(model, ["1000"])["1000"]
        record["mask_ratio_ablation"].append(run)
        save()
    return 0


def _masked_patch_mse(model, images):
    """Mean squared error of the predictions on the masked patches only (the training loss's
    quantity, without norm_pix_loss) on ``images``."""
    out = model.masked_outputs(images)
    p = model.get_config()["patch_size"]
    mask = np.repeat(np.repeat(out["mask"].reshape(len(images), images.shape[1] // p, -1), p, 1),
                     p, 2)[..., None]
    return float((((out["prediction"] - images) ** 2) * mask).sum()
                 / (mask.sum() * images.shape[-1]))


def _cell(value):
    return "—" if value is None else f"{value:.2f}"


def markdown(r, stem):
    lines = [f"# MAE on {r['dataset']}",
             "",
             f"Command: `{r['command']}`  ",
             f"Machine: {r['machine']}, backend {r['backend']}  ",
             f"Date: {r['date']}, wall time {r['wall_seconds'] / 60:.1f} min  ",
             f"Data: {r['train_examples']} training / {r['test_examples']} test images; "
             f"pre-training {r['epochs']} epoch(s), batches of {r['batch_size']}, seed {r['seed']}; "
             f"supervised and fine-tuned classifiers {r['fine_tune_epochs']} epoch(s) (at least 300 "
             f"steps), Adam 1e-3 cosine."]
    pre = r.get("pretrain")
    if pre:
        lines += ["", f"Pre-training (mask ratio {pre['mask_ratio']}): loss by epoch "
                      f"{', '.join(f'{v:.4f}' for v in pre['loss'])}; test MSE on masked patches "
                      f"{pre.get('test_masked_patch_mse', float('nan')):.4f}; "
                      + (f"{pre['seconds']:.0f} s; " if not pre.get("epochs_resumed_from_checkpoint")
                         else f"{pre['epochs_resumed_from_checkpoint']} epoch(s) loaded from an "
                              f"earlier run's checkpoint; ")
                      + f"{r.get('parameters', 0):,} parameters."]
    probe = r.get("probe", {})
    if probe:
        lines += ["", "Linear probe of the encoder's mean token, test error % (weight decay chosen "
                      "on held-out labelled examples):", "",
                  "| encoder | 100 labels | 1,000 labels | all labels |", "| --- | ---: | ---: | ---: |"]
        names = {"pretrained": "MAE pre-trained", "random_init": "same encoder, random init",
                 "supervised": "same encoder, trained supervised (all labels)"}
        for key, label in names.items():
            if key in probe:
                lines.append(f"| {label} | " + " | ".join(_cell(probe[key].get(b)) for b in BUDGETS)
                             + " |")
    tune = r.get("fine_tune", {})
    if tune:
        lines += ["", "Fine-tuned classifier (encoder + softmax, end to end), test error %:", "",
                  "| start | 1,000 labels | all labels |", "| --- | ---: | ---: |"]
        for key, label in (("pretrained", "MAE pre-trained"), ("scratch", "random init")):
            if key in tune:
                lines.append(f"| {label} | " + " | ".join(
                    _cell(tune[key][b]["test_error_percent"]) if b in tune[key] else "—"
                    for b in ("1000", "all")) + " |")
    if "supervised" in probe and "pretrained" in probe:
        from keras_ae.models.mae.reference import PAPERS

        example = PAPERS["keras_mim_example"]["figures"]
        ours = probe["pretrained"]["all"] - probe["supervised"]["all"]
        theirs = example["cifar10_supervised_percent"] - example["cifar10_linear_probe_percent"]
        lines += ["", f"Gap between the pre-trained encoder's linear probe and the same encoder "
                      f"trained with all labels: {ours:.1f} points of accuracy here; in the Keras "
                      f"masked image modeling example on CIFAR-10, "
                      f"{example['cifar10_supervised_percent']:.0f} % supervised (second-hand) "
                      f"against a {example['cifar10_linear_probe_percent']} % probe: "
                      f"{theirs:.1f} points."]
    ablation = r.get("mask_ratio_ablation")
    if ablation:
        lines += ["", "Mask ratio ablation, linear probe with 1,000 labels, test error %:", "",
                  "| mask ratio | probe error % |", "| ---: | ---: |"]
        for row in sorted(ablation, key=lambda a: a["mask_ratio"]):
            lines.append(f"| {row['mask_ratio']:.2f} | {row['probe_1000_error_percent']:.2f} |")
    lines += ["", f"![input, masked input, reconstruction](benchmarks/results/{stem}_reconstructions.png)"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
