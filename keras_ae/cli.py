"""The ``keras-ae`` command line: list, train, evaluate, export, probe and plot the zoo's models.

    keras-ae list
    keras-ae train conv_autoencoder --epochs 3 --out runs/conv
    keras-ae train dense_autoencoder --dataset /data/fashion_mnist --set code_size=2
    keras-ae train drsae --epochs 40 --unsupervised-epochs 25 --set sparsity=0.01
    keras-ae train stacked_conv_wta --epochs 5 --fine-tune-epochs 2 --set 'filters=[128,512]'
    keras-ae evaluate runs/conv/model.keras --dataset mnist
    keras-ae export runs/conv/model.keras exported/conv_encoder
    keras-ae probe runs/conv/model.keras --dataset mnist --labels all 1000 100 --l2 auto
    keras-ae probe runs/wta/model.keras --dataset mnist --labels 100 --shift 2 --copies 2
    keras-ae plot runs/conv/model.keras --dataset mnist --out runs/conv/plots

The backend is Keras's: set ``KERAS_BACKEND=tensorflow|jax|torch``. Errors are one line on
stderr and a non-zero exit status.
"""

import argparse
import inspect
import json
import os
import sys
import time

from keras_ae.reporting import save_whole, write_whole


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(message)


def _parse_overrides(pairs):
    config = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise CLIError(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            config[key] = json.loads(value)
        except json.JSONDecodeError:
            config[key] = value
    return config


def _atomic_json(obj, path):
    write_whole({path: json.dumps(obj, indent=2, sort_keys=True)})


def _evaluate(model, x, y, batch_size):
    """Metrics of ``model`` on arrays: reconstruction MSE (NumPy) and, for classifiers, accuracy.

    Reconstructions are the output of image-target models or the ``reconstruction_key`` entry of
    dict outputs; class scores are the output of label-target models or the ``probabilities`` /
    ``logits`` entry of dict outputs.
    """
    import numpy as np

    metrics = {"examples": int(len(x))}
    out = model.predict(x, batch_size=batch_size, verbose=0)
    label_target = getattr(model, "fit_target", "image") == "label"
    if isinstance(out, dict):
        key = getattr(model, "reconstruction_key", None)
        recon = out.get(key) if key else None
        scores = out.get("probabilities", out.get("logits"))
    else:
        recon, scores = (None, out) if label_target else (out, None)
    if recon is not None:
        metrics["reconstruction_mse"] = float(np.mean((np.asarray(recon) - x) ** 2))
    if scores is not None:
        metrics["accuracy"] = float(np.mean(np.argmax(scores, axis=-1) == y))
        metrics["error_percent"] = 100.0 * (1.0 - metrics["accuracy"])
    return metrics


def _load_split(args, split):
    from keras_ae.data import load_arrays, to_float_images

    images, labels = load_arrays(args.dataset, split, data_dir=args.data_dir)
    if getattr(args, "limit", None):
        images, labels = images[: args.limit], labels[: args.limit]
    return to_float_images(images), labels


def cmd_list(args):
    from keras_ae import models

    width = max(len(n) for n in models.names())
    for name in models.names():
        print(f"{name:<{width}}  {models.describe(name)}")
    return 0


def cmd_train(args):
    import keras

    from keras_ae import models, visualize
    from keras_ae.data import make_dataset
    from keras_ae.export import export_saved_model

    if args.epochs < 1 or args.batch_size < 1:
        raise CLIError("--epochs and --batch-size must be positive integers")
    if args.validation_size < 0:
        raise CLIError(f"--validation-size must be >= 0, got {args.validation_size}")
    cls = models.get(args.model)
    _check_procedure_arguments(cls, args)
    x_train, y_train = _load_split(args, "train")
    x_test, y_test = _load_split(args, "test")
    held = args.validation_size
    if held:
        if not 0 < held <= len(x_train) - args.batch_size:
            raise CLIError(f"--validation-size must leave at least --batch-size "
                           f"({args.batch_size}) of the {len(x_train)} training images, got {held}")
        x_val, y_val = x_train[-held:], y_train[-held:]
        x_train, y_train = x_train[:-held], y_train[:-held]
    if len(x_train) < args.batch_size:
        raise CLIError(f"--batch-size {args.batch_size} exceeds the {len(x_train)} training images")
    y_fit = y_train
    if args.labels is not None:
        from keras_ae.data import keep_labels

        if not 0 <= args.labels <= len(x_train):
            raise CLIError(f"--labels must be between 0 and the {len(x_train)} training images, "
                           f"got {args.labels}")
        # only the training pipeline loses labels; train metrics below use them all
        y_fit = keep_labels(y_train, args.labels, seed=args.seed)
    config = {"input_shape": list(x_train.shape[1:]), **_parse_overrides(args.set)}
    if "num_classes" in inspect.signature(cls.__init__).parameters and "num_classes" not in config:
        config["num_classes"] = int(max(y_train.max(), y_test.max()) + 1)
    keras.utils.set_random_seed(args.seed)
    model = models.build(args.model, **config)
    if args.learning_rate or args.lr_schedule != "constant":
        from keras_ae.training import learning_rate

        steps = args.epochs * (len(x_train) // args.batch_size)  # training batches are whole
        model.compile(optimizer=keras.optimizers.Adam(learning_rate(
            args.learning_rate or model.default_learning_rate, args.lr_schedule, steps)))
    else:
        model.compile()

    train = model.fit_pairs(make_dataset(x_train, y_fit, batch_size=args.batch_size,
                                         seed=args.seed, shift=args.shift))
    # Per-epoch validation reads held-out training images, never the test split.
    val = (model.fit_pairs(make_dataset(x_val, y_val, batch_size=args.batch_size, shuffle=False))
           if held else None)
    os.makedirs(args.out, exist_ok=True)
    procedure = _procedure(model, args)
    print(f"Training {args.model} ({keras.backend.backend()} backend) on {len(x_train)} images "
          f"of shape {x_train.shape[1:]}: {procedure['description']}; writing to {args.out}")
    start = time.time()
    history = _fit(model, procedure, args, x_train, y_train, train, val)
    seconds = time.time() - start

    model_path = os.path.join(args.out, "model.keras")
    save_whole(model, model_path)
    _atomic_json(history, os.path.join(args.out, "history.json"))
    metrics = {
        "model": args.model, "config": model.get_config(), "backend": keras.backend.backend(),
        "dataset": args.dataset or os.environ.get("KERAS_AE_DATA_DIR") or "shipped MNIST sample",
        "epochs": args.epochs, "procedure": procedure, "labels_kept": args.labels,
        "learning_rate": args.learning_rate, "lr_schedule": args.lr_schedule,
        "batch_size": args.batch_size, "shift": args.shift,
        "train_examples": int(len(x_train)),
        "train_seconds": round(seconds, 2),
        "validation_examples": held,
        "test": _evaluate(model, x_test, y_test, args.batch_size),
        "train": _evaluate(model, x_train[:len(x_test)], y_train[:len(x_test)], args.batch_size),
    }
    if held:
        metrics["validation"] = _evaluate(model, x_val, y_val, args.batch_size)
    _atomic_json(metrics, os.path.join(args.out, "metrics.json"))
    n = min(16, len(x_test))
    recon = model.reconstruct(x_test[:n]) if (model.reconstruction_key or model.fit_target == "image") else None
    if recon is not None:
        visualize.save_reconstructions(
            x_test[:n], recon, os.path.join(args.out, "reconstructions.png"),
            title=f"{args.model}: test inputs (top) and reconstructions (bottom), "
                  f"MSE {metrics['test'].get('reconstruction_mse', float('nan')):.4f}")
    if not args.no_export:
        export_saved_model(model.encoder, os.path.join(args.out, "encoder_savedmodel"), overwrite=True)
    summary = ", ".join(f"{k}={v:.4g}" for k, v in metrics["test"].items() if k != "examples")
    print(f"Done in {seconds:.1f}s. Test: {summary}. Files in {args.out}: "
          + ", ".join(sorted(os.listdir(args.out))))
    return 0


def _greedy_classes():
    from keras_ae.models import StackedAutoencoder, StackedConvWTA

    return (StackedAutoencoder, StackedConvWTA)


def _unlabelled_capable():
    """Models whose classifier ignores examples labelled UNLABELLED (-1): SWWAE (its compiled
    cross-entropy's ignore_class) and DrSAE (its own loss)."""
    from keras_ae.models import DrSAE, SWWAE

    return (DrSAE, SWWAE)


def _check_procedure_arguments(cls, args):
    """Flags that only some models use (--unsupervised-epochs: the two-phase DrSAE;
    --fine-tune-epochs: the greedy stacks; --labels: classifiers that ignore unlabelled
    examples; --shift and --lr-schedule: not stacked_autoencoder's greedy pre-training):
    anywhere else they would be silently ignored, so they are errors."""
    from keras_ae import models
    from keras_ae.models import DrSAE, StackedAutoencoder

    def users(kinds):
        return ", ".join(n for n in models.names() if issubclass(models.get(n), kinds))

    if args.unsupervised_epochs is not None:
        if not issubclass(cls, DrSAE):
            raise CLIError(f"--unsupervised-epochs applies to {users(DrSAE)} only, "
                           f"not {args.model}")
        if not 0 <= args.unsupervised_epochs <= args.epochs:
            raise CLIError(f"--unsupervised-epochs must be between 0 and --epochs "
                           f"({args.epochs}), got {args.unsupervised_epochs}")
    if args.labels is not None and not issubclass(cls, _unlabelled_capable()):
        raise CLIError(f"--labels needs a classifier that ignores unlabelled examples; "
                       f"{args.model} has none (models that have one: "
                       f"{users(_unlabelled_capable())})")
    if args.shift:
        if args.shift < 0:
            raise CLIError(f"--shift must be >= 0, got {args.shift}")
        if issubclass(cls, StackedAutoencoder):
            raise CLIError(f"--shift: {args.model}'s greedy pre-training trains on the images "
                           f"as they are")
    if args.lr_schedule != "constant" and issubclass(cls, StackedAutoencoder):
        raise CLIError(f"--lr-schedule {args.lr_schedule}: {args.model}'s greedy pre-training "
                       f"keeps a constant rate")
    if args.fine_tune_epochs:
        if not issubclass(cls, _greedy_classes()):
            raise CLIError(f"--fine-tune-epochs applies to the greedily trained models "
                           f"({users(_greedy_classes())}) only, not {args.model}")
        if args.fine_tune_epochs < 0:
            raise CLIError(f"--fine-tune-epochs must be >= 0, got {args.fine_tune_epochs}")


def _procedure(model, args):
    """How ``train`` fits ``model``: its paper's procedure where it has one. DrSAE trains in two
    phases (reconstruction + sparsity, then + cross-entropy: ``DrSAEPhaseSwitch``); stacked
    models train greedily, ``--epochs`` per stage, then optionally end to end."""
    from keras_ae.models import DrSAE

    if isinstance(model, DrSAE):
        first = args.epochs // 2 if args.unsupervised_epochs is None else args.unsupervised_epochs
        weight = model.get_config()["classification_weight"]
        return {"kind": "two_phase", "unsupervised_epochs": first,
                "discriminative_epochs": args.epochs - first, "classification_weight": weight,
                "description": f"{first} unsupervised epoch(s) (reconstruction + sparsity), then "
                               f"{args.epochs - first} with the cross-entropy (weight {weight:g})"}
    if isinstance(model, _greedy_classes()):
        tune = args.fine_tune_epochs
        return {"kind": "greedy", "epochs_per_stage": args.epochs, "fine_tune_epochs": tune,
                "description": f"greedily, {args.epochs} epoch(s) per stage, then "
                               + (f"{tune} end-to-end epoch(s)" if tune else
                                  "no end-to-end fine-tuning (--fine-tune-epochs N)")}
    return {"kind": "fit", "description": f"{args.epochs} epoch(s)"}


def _fit(model, procedure, args, x_train, y_train, train, val):
    """Trains ``model`` by ``procedure``; returns its history as a JSON-ready dict (for greedy
    training, one entry per stage and one for fine-tuning). With ``--checkpoint-dir`` every fit
    checkpoints each epoch (greedy procedures: one folder per stage inside) and a rerun resumes."""
    from keras_ae.data import make_dataset
    from keras_ae.models import DrSAEPhaseSwitch, StackedConvWTA, train_greedily
    from keras_ae.training import greedy_pretrain, resumable_fit

    folder = args.checkpoint_dir

    def fit(name, epochs, callbacks=()):
        """One end-to-end fit of ``model`` on ``train``, checkpointed in ``folder``/``name``."""
        where = folder and (os.path.join(folder, name) if name else folder)
        return resumable_fit(model, train, epochs, where, callbacks=callbacks,
                             validation_data=val, verbose=1,
                             shuffle=False)  # the pipelines shuffle themselves

    if procedure["kind"] == "fit":
        return fit(None, args.epochs)
    if procedure["kind"] == "two_phase":
        return fit(None, args.epochs, callbacks=[DrSAEPhaseSwitch(
            procedure["unsupervised_epochs"], procedure["classification_weight"])])
    rate = args.learning_rate or model.default_learning_rate
    tune = procedure["fine_tune_epochs"]
    if isinstance(model, StackedConvWTA):
        images = make_dataset(x_train, y_train, batch_size=args.batch_size, seed=args.seed,
                              shift=args.shift)
        return train_greedily(model, images, epochs=args.epochs, fine_tune_epochs=tune,
                              learning_rate=rate, lr_schedule=args.lr_schedule, verbose=1,
                              checkpoint_dir=folder)
    histories = greedy_pretrain(model, x_train, epochs=args.epochs, batch_size=args.batch_size,
                                learning_rate=rate, verbose=1, checkpoint_dir=folder,
                                later=[os.path.join(folder, "fine_tune")] if folder else ())
    out = {f"stage{i}": history for i, history in enumerate(histories)}
    if tune:
        out["fine_tune"] = fit("fine_tune", tune)
    return out


def _load_model(path):
    import keras

    import keras_ae  # noqa: F401  (registers the zoo's classes)

    if not os.path.isfile(path):
        raise CLIError(f"model file not found: {path}")
    try:
        return keras.saving.load_model(path)
    except Exception as e:  # a corrupt or foreign file: say so in one line
        raise CLIError(f"cannot load {path} as a Keras model: {str(e).splitlines()[0]}") from None


def _check_images_fit(model, x):
    expected = tuple(model.inputs[0].shape[1:])
    if tuple(x.shape[1:]) != expected:
        raise CLIError(f"the data's images have shape {x.shape[1:]} but the model expects {expected}")


def cmd_evaluate(args):
    model = _load_model(args.model_file)
    x, y = _load_split(args, args.split)
    _check_images_fit(model, x)
    metrics = _evaluate(model, x, y, args.batch_size)
    print(json.dumps(metrics, indent=2, sort_keys=True))
    return 0


def _filter_kernel(model):
    """What ``plot`` draws as filters: the model's own ``learned_filters()`` where it has one
    (the WTA models: what each unit draws), else the first kernel of its encoder, the weights
    that look at the images (a conv kernel, or a dense kernel over the flattened image)."""
    import keras

    if hasattr(model, "learned_filters"):
        return model.learned_filters(), "learned_filters()"
    for layer in model.encoder.layers:
        kernel = getattr(layer, "kernel", None)
        if kernel is not None and len(kernel.shape) in (2, 4):
            return keras.ops.convert_to_numpy(kernel), f"encoder layer {layer.name!r}"
    return None, "the encoder has no dense or conv kernel"


def cmd_plot(args):
    from keras_ae import evaluation, visualize
    from keras_ae.models import ZooModel
    from keras_ae.models import drsae

    model = _load_model(args.model_file)
    if not isinstance(model, ZooModel):
        raise CLIError(f"{args.model_file} holds a {type(model).__name__}, not a keras-ae model")
    if args.examples < 1:
        raise CLIError(f"--examples must be >= 1, got {args.examples}")
    x, y = _load_split(args, args.split)
    _check_images_fit(model, x)
    x, y = x[: args.examples], y[: args.examples]
    os.makedirs(args.out, exist_ok=True)
    name = model.get_config().get("name", type(model).__name__)
    written, skipped = {}, {}

    def draw(key, make):
        try:
            written[key] = make(os.path.join(args.out, f"{key}.png"))
        except ValueError as e:  # nothing of that kind to draw: say why
            skipped[key] = str(e).splitlines()[0]

    if model.reconstruction_key or model.fit_target == "image":
        n = min(16, len(x))
        draw("reconstructions", lambda path: visualize.save_reconstructions(
            x[:n], model.reconstruct(x[:n]), path, title=f"{name}: inputs and reconstructions"))
    kernel, source = _filter_kernel(model)
    if kernel is None:
        skipped["filters"] = source
    else:
        draw("filters", lambda path: visualize.save_filters(
            kernel, path, title=f"{name}: filters ({source})"))
    features = evaluation.extract_features(model, x)
    draw("codes", lambda path: visualize.save_codes(
        features, y, path, title=f"{name}: codes of {len(x)} {args.split} images"))
    if isinstance(model, drsae.DrSAE):
        stats = drsae.unit_statistics(model, x, y)
        units = drsae.label_units(stats)
        draw("prototypes", lambda path: drsae.save_prototypes(model, stats, units, path))
        draw("part_units", lambda path: drsae.save_part_units(model, stats, units, path))
        draw("activity", lambda path: drsae.save_activity_over_iterations(
            stats, units, path, title=f"{name}: activity over the iterations"))
    print(json.dumps({"files": written, "skipped": skipped}, indent=2, sort_keys=True))
    return 0


def cmd_export(args):
    from keras_ae.export import export_saved_model

    model = _load_model(args.model_file)
    target = model if args.full_model or not hasattr(model, "encoder") else model.encoder
    path = export_saved_model(target, args.out, overwrite=args.overwrite)
    print(f"Exported {'model' if target is model else 'encoder'} of {model.name} to {path}")
    return 0


def cmd_probe(args):
    from keras_ae import evaluation

    if args.epochs < 1 or args.batch_size < 1:
        raise CLIError("--epochs and --batch-size must be positive integers")
    if args.copies is not None and not args.shift:
        raise CLIError("--copies is for --shift N >= 1 (the probe's moved copies of each image)")
    try:
        copies = evaluation.check_probe_shift(args.shift, 1 if args.copies is None
                                              else args.copies)
    except ValueError as e:
        raise CLIError(f"--shift/--copies: {e}") from None
    model = _load_model(args.model_file)
    x_train, y_train = _load_split(args, "train")
    x_test, y_test = _load_split(args, "test")
    _check_images_fit(model, x_train)
    if copies:
        from keras_ae.data.loading import check_shift

        check_shift(args.shift, x_train.shape, name="--shift")  # before anything is encoded
    pool = None if args.pool == "none" else args.pool
    start = time.time()
    features = (evaluation.extract_features if args.stages == "top" else
                evaluation.all_stage_features)
    try:
        train_features = features(model, x_train, pool_size=pool)
    except TypeError as e:
        raise CLIError(f"--stages all: {e}") from None
    test_features = features(model, x_test, pool_size=pool)
    copy_features = None
    if copies:
        from keras_ae.data import shifted_copies

        copy_features = [features(model, moved, pool_size=pool)
                         for moved in shifted_copies(x_train, args.shift, copies, seed=args.seed)]
    report = {"model_file": args.model_file, "train_examples": int(len(x_train)),
              "test_examples": int(len(x_test)), "feature_dim": int(train_features.shape[1]),
              "pool_size": args.pool, "stages": args.stages,
              "shift": args.shift, "copies": copies,
              "encode_seconds": round(time.time() - start, 2),
              "probes": {}}
    for spec in args.labels:
        result = evaluation.probe_features(
            train_features, y_train, test_features, y_test,
            num_labels=evaluation.label_budget(spec), epochs=args.epochs,
            batch_size=args.batch_size, l2=args.l2, folds=args.folds, label_seed=args.seed,
            seed=args.seed, train_copies=copy_features)
        report["probes"][spec] = {
            "test_error_percent": 100.0 * result["test_error"],
            "train_error_percent": 100.0 * result["train_error"],
            "num_labels": result["num_labels"], "l2": result["probe"]["l2"],
            "l2_selection": result["l2_selection"], "fit_seconds": result["fit_seconds"]}
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        write_whole({args.out: text})
    print(text)
    return 0


def build_parser():
    parser = _Parser(prog="keras-ae", description="Train, evaluate and export keras-ae models.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    sub.add_parser("list", help="list the registered models")

    def data_args(p):
        p.add_argument("--dataset", default=None,
                       help="TFDS name (e.g. mnist) or a folder of MNIST-style IDX files; default: "
                            "$KERAS_AE_DATA_DIR, else the MNIST sample shipped in the package")
        p.add_argument("--data-dir", default=None,
                       help="folder holding IDX files or one sub-folder per dataset name "
                            "(overrides $KERAS_AE_DATA_DIR)")
        p.add_argument("--batch-size", type=int, default=128)
        p.add_argument("--limit", type=int, default=None, help="use only the first N images of each split")

    train = sub.add_parser("train", help="train a model and write it, its metrics and pictures")
    train.add_argument("model", help="a registered model name (see `keras-ae list`)")
    data_args(train)
    train.add_argument("--epochs", type=int, default=5)
    train.add_argument("--out", default="runs/latest", help="output folder")
    train.add_argument("--learning-rate", type=float, default=None,
                       help="Adam's (initial) learning rate; default the model's")
    train.add_argument("--lr-schedule", choices=["constant", "cosine"], default="constant",
                       help="cosine: anneal the rate to zero over the run (each greedy stage "
                            "over its own epochs)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="model config override, value as JSON (repeatable), e.g. --set code_size=2")
    train.add_argument("--no-export", action="store_true", help="skip the encoder SavedModel")
    train.add_argument("--validation-size", type=int, default=0,
                       help="hold out the last N training images for per-epoch validation "
                            "(val_* in history.json; default none: the test split is only "
                            "evaluated once, after training)")
    train.add_argument("--shift", type=int, default=0, metavar="N",
                       help="data augmentation: move each training image by a random whole "
                            "number of pixels in [-N, N] along each axis, drawn afresh every "
                            "epoch (zeros fill in; an autoencoder reconstructs the moved image)")
    train.add_argument("--labels", type=int, default=None,
                       help="swwae, drsae: semi-supervised, keeping N training labels (balanced "
                            "per class, drawn with --seed); the other images train only the "
                            "reconstruction terms")
    train.add_argument("--checkpoint-dir", default=None,
                       help="save a checkpoint (weights, optimizer state, history) after every "
                            "epoch here (greedy stacks: a folder per stage inside), and resume "
                            "from it when it exists: rerun the same command after an "
                            "interruption")
    train.add_argument("--unsupervised-epochs", type=int, default=None,
                       help="drsae: how many of --epochs train without the cross-entropy "
                            "(phase 1; default half)")
    train.add_argument("--fine-tune-epochs", type=int, default=0,
                       help="stacked_autoencoder, stacked_conv_wta: end-to-end epochs after the "
                            "greedy stages (--epochs each)")

    evaluate = sub.add_parser("evaluate", help="evaluate a saved .keras model on a split")
    evaluate.add_argument("model_file")
    data_args(evaluate)
    evaluate.add_argument("--split", default="test")

    export = sub.add_parser("export", help="export a saved model's encoder as a TF SavedModel")
    export.add_argument("model_file")
    export.add_argument("out")
    export.add_argument("--full-model", action="store_true", help="export the whole model, not the encoder")
    export.add_argument("--overwrite", action="store_true")

    plot = sub.add_parser("plot", help="draw a saved model's reconstructions, filters and codes")
    plot.add_argument("model_file")
    data_args(plot)
    plot.add_argument("--split", default="test")
    plot.add_argument("--examples", type=int, default=2000,
                      help="images encoded for the codes picture (and DrSAE's unit analysis)")
    plot.add_argument("--out", default="plots", help="output folder for the PNG files")

    probe = sub.add_parser("probe", help="linear-probe a saved model's encoder features")
    probe.add_argument("model_file")
    data_args(probe)
    probe.add_argument("--labels", nargs="+", default=["all"],
                       type=_evaluation_argument("label_argument"),
                       help="labelled training examples per probe: 'all' or a count (balanced "
                            "per class), e.g. --labels all 1000 100")
    probe.add_argument("--l2", default="auto", type=_evaluation_argument("l2_argument"),
                       help="the probe's weight decay, or 'auto': chosen on held-out labels")
    probe.add_argument("--folds", default=1, type=_evaluation_argument("folds_argument"),
                       help="with --l2 auto: 1 holds out a sixth of the labels, k >= 2 k-fold CV")
    probe.add_argument("--epochs", type=int, default=30, help="the probe's training epochs")
    probe.add_argument("--pool", default="auto", type=_evaluation_argument("pool_argument"),
                       help="feature maps: max-pool window, 'auto' (about 4x4 regions) or 'none'")
    probe.add_argument("--stages", choices=["top", "all"], default="top",
                       help="stacked_conv_wta: probe the top stage's pooled maps, or every "
                            "stage's (each pooled on its own grid) concatenated")
    probe.add_argument("--shift", type=int, default=0,
                       help="augmentation for the probe: also fit it on copies of each labelled "
                            "image moved by up to N px at random (validation and test unmoved)")
    probe.add_argument("--copies", type=int, default=None,
                       help="with --shift: moved copies of each image (default 1)")
    probe.add_argument("--seed", type=int, default=0,
                       help="seed of the label draw, the moved copies and the probe")
    probe.add_argument("--out", default=None, help="also write the JSON report to this file")
    return parser


def _evaluation_argument(name):
    """``keras_ae.evaluation.<name>`` as an argparse type, imported only when a probe argument is
    parsed (the other commands do not need Keras's import time)."""
    def parse(text):
        from keras_ae import evaluation

        return getattr(evaluation, name)(text)

    parse.__name__ = name
    return parse


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return {"list": cmd_list, "train": cmd_train, "evaluate": cmd_evaluate,
                "export": cmd_export, "probe": cmd_probe, "plot": cmd_plot}[args.command](args)
    except CLIError as e:
        print(f"keras-ae: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as e:
        print(f"keras-ae: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
