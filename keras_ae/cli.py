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
    keras-ae plot codes runs/dense2/model.keras --dataset mnist --out runs/dense2/plots
    keras-ae plot deconvnet runs/swwae/model.keras --layer conv_1 --units 0 1 2 --out runs/swwae/plots
    keras-ae search runs/conv/model.keras --index mnist --queries 100 --k 10 --out runs/conv/search
    keras-ae tune fc_wta --trials 10 --objective probe_accuracy --labels 1000 --out runs/tune
    keras-ae train fc_wta --config runs/tune/best_config.json --epochs 20

The backend is Keras's: set ``KERAS_BACKEND=tensorflow|jax|torch``. Errors are one line on
stderr and a non-zero exit status.
"""

import argparse
import json
import math
import os
import sys
import time

from keras_ae.reporting import save_whole, write_whole


#: The options of the models' training procedures (``ZooModel.procedure_options``), offered as
#: ``train`` flags without importing the models (a test keeps the two in step).
PROCEDURE_OPTIONS = {
    "unsupervised_epochs": ("drsae", "how many of --epochs train without the cross-entropy "
                                     "(phase 1; default half)"),
    "fine_tune_epochs": ("stacked_autoencoder, stacked_conv_wta",
                         "end-to-end epochs after the greedy stages (--epochs each; default: "
                         "--epochs; 0: greedy stages only; stacked_conv_wta: its decoders "
                         "only)"),
}


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
    """Metrics of ``model`` on arrays: the reconstruction MSE (NumPy, against what the model
    reconstructs: :meth:`ZooModel.reconstruction_target`, through the sparsity a WTA decoder was
    trained with) and, for classifiers, accuracy."""
    import numpy as np

    metrics = {"examples": int(len(x))}
    if getattr(model, "reconstructs", False):
        recon = np.asarray(model.reconstruct(x, batch_size=batch_size))
        metrics["reconstruction_mse"] = float(np.mean((recon - model.reconstruction_target(x)) ** 2))
    if getattr(model, "fit_target", "image") == "label":
        out = model.predict(x, batch_size=batch_size, verbose=0)
        scores = out.get("probabilities", out.get("logits")) if isinstance(out, dict) else out
        metrics["accuracy"] = float(np.mean(np.argmax(scores, axis=-1) == y))
        metrics["error_percent"] = 100.0 * (1.0 - metrics["accuracy"])
    return metrics


def _load_split(args, split):
    from keras_ae.data import load_arrays, to_float_images

    images, labels = load_arrays(args.dataset, split, data_dir=args.data_dir,
                                 image_size=getattr(args, "image_size", None))
    if getattr(args, "limit", None):
        images, labels = images[: args.limit], labels[: args.limit]
    return to_float_images(images), labels


def cmd_list(args):
    from keras_ae import catalog

    if args.presets:
        from keras_ae.models.presets import list_presets

        shipped = list_presets()
        if not shipped:
            print("no presets shipped with this installation")
        width = max((len(n) for n in shipped), default=0)
        for name, meta in shipped.items():
            print(f"{name:<{width}}  {meta['registered_name']:<16}  "
                  f"{meta['parameter_count']:>9,} params  {meta['description']}")
        return 0
    width = max(len(n) for n in catalog.names())
    for name in catalog.names():
        family, description = catalog.MODELS[name]
        print(f"{name:<{width}}  {family:<7}  {description}")
    return 0


def _procedure_flags(args):
    """The model-specific procedure options given on the command line: ``{option: value}``."""
    return {option: getattr(args, option) for option in PROCEDURE_OPTIONS
            if getattr(args, option) is not None}


def _check_procedure_flags(cls, args):
    """A procedure flag the model does not take would be silently ignored: it is an error that
    names the models that take it."""
    from keras_ae import models

    for option, value in _procedure_flags(args).items():
        if option not in cls.procedure_options:
            users = [n for n in models.names() if option in models.get(n).procedure_options]
            raise CLIError(f"--{option.replace('_', '-')} applies to {', '.join(users)} only, "
                           f"not {args.model}")
    if args.labels is not None and not cls.accepts_unlabelled:
        users = [n for n in models.names() if models.get(n).accepts_unlabelled]
        raise CLIError(f"--labels needs a classifier that ignores unlabelled examples; "
                       f"{args.model} has none (models that have one: {', '.join(users)})")


def cmd_train(args):
    import contextlib

    with contextlib.ExitStack() as scope:  # --distribute's, for building and fitting the model
        return _train(args, scope)


def _distribute(args, scope):
    """Enters ``scope`` into data-parallel training (:func:`keras_ae.training.data_parallel`)
    and says how each batch splits; the replica count."""
    import keras

    from keras_ae.training import check_global_batch, data_parallel

    replicas = scope.enter_context(data_parallel())
    check_global_batch(args.batch_size, replicas, name="--batch-size")
    if args.validation_size % replicas:  # its last batch too must split evenly (JAX)
        raise CLIError(f"--validation-size must be a multiple of the {replicas} replicas with "
                       f"--distribute, got {args.validation_size}")
    print(f"--distribute: {replicas} replica(s) ({keras.backend.backend()} backend); each global "
          f"batch of {args.batch_size} splits into {args.batch_size // replicas} per replica")
    return replicas


def _train(args, scope):
    from keras_ae import models
    from keras_ae.reporting import check_writable_folder

    if args.epochs < 1 or args.batch_size < 1:
        raise CLIError("--epochs and --batch-size must be positive integers")
    if args.validation_size < 0:
        raise CLIError(f"--validation-size must be >= 0, got {args.validation_size}")
    if args.shift < 0:
        raise CLIError(f"--shift must be >= 0, got {args.shift}")
    if args.model not in _catalog_names():
        raise CLIError(f"unknown model {args.model!r}; registered models are: "
                       f"{', '.join(_catalog_names())}")
    overrides = _parse_overrides(args.set)
    from_file = _read_config_file(args) if args.config else {}
    out = check_writable_folder(args.out, name="--out")  # before any data or training
    if args.checkpoint_dir:
        check_writable_folder(args.checkpoint_dir, name="--checkpoint-dir")
    if args.tensorboard:
        check_writable_folder(args.tensorboard, name="--tensorboard")

    import keras

    from keras_ae import visualize
    from keras_ae.data import make_dataset
    from keras_ae.export import export_saved_model

    cls = models.get(args.model)
    try:
        models.check_config_fields(cls, from_file)
    except ValueError as e:
        raise CLIError(f"--config {args.config}: {e}") from None
    try:
        models.check_config_fields(cls, overrides)
    except ValueError as e:
        raise CLIError(f"--set: {e}") from None
    overrides = {**from_file, **overrides}  # --set wins over the file
    _check_procedure_flags(cls, args)
    replicas = _distribute(args, scope) if args.distribute else 1
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
    config = {"input_shape": list(x_train.shape[1:]), **overrides}
    if "num_classes" in models.config_fields(cls):
        config.setdefault("num_classes", int(max(y_train.max(), y_test.max()) + 1))
    keras.utils.set_random_seed(args.seed)
    model = models.build(args.model, **config)
    options = _procedure_flags(args)
    try:
        procedure = model.procedure(args.epochs, **options)
    except ValueError as e:
        raise CLIError(str(e)) from None

    train = make_dataset(x_train, y_fit, batch_size=args.batch_size, seed=args.seed,
                         shift=args.shift)
    # Per-epoch validation reads held-out training images, never the test split.
    val = (make_dataset(x_val, y_val, batch_size=args.batch_size, shuffle=False)
           if held else None)
    print(f"Training {args.model} ({keras.backend.backend()} backend) on {len(x_train)} images "
          f"of shape {x_train.shape[1:]}: {procedure['description']}; writing to {args.out}")
    callbacks = []
    if args.tensorboard:
        from keras_ae.training import MonitorCallback

        # the fixed monitored batch: held-out images if any, else training images (never test)
        callbacks = [keras.callbacks.TensorBoard(args.tensorboard),
                     MonitorCallback(args.tensorboard, x_val[:8] if held else x_train[:8])]
    start = time.time()
    history = model.fit_procedure(train, args.epochs, validation_data=val,
                                  learning_rate=args.learning_rate, lr_schedule=args.lr_schedule,
                                  checkpoint_dir=args.checkpoint_dir, callbacks=callbacks,
                                  verbose=1, **options)
    seconds = time.time() - start
    scope.close()  # predictions after it need not split evenly across the devices

    save_whole(model, os.path.join(out, "model.keras"))
    _atomic_json(history, os.path.join(out, "history.json"))
    metrics = {
        "model": args.model, "config": model.get_config(), "backend": keras.backend.backend(),
        "dataset": args.dataset or os.environ.get("KERAS_AE_DATA_DIR") or "shipped MNIST sample",
        "epochs": args.epochs, "procedure": procedure, "labels_kept": args.labels,
        "learning_rate": args.learning_rate, "lr_schedule": args.lr_schedule,
        "batch_size": args.batch_size, "shift": args.shift,
        "replicas": replicas,
        "train_examples": int(len(x_train)),
        "train_seconds": round(seconds, 2),
        "validation_examples": held,
        "test": _evaluate(model, x_test, y_test, args.batch_size),
        "train": _evaluate(model, x_train[:len(x_test)], y_train[:len(x_test)], args.batch_size),
    }
    if held:
        metrics["validation"] = _evaluate(model, x_val, y_val, args.batch_size)
    _atomic_json(metrics, os.path.join(out, "metrics.json"))
    if model.reconstructs:
        n = min(16, len(x_test))
        visualize.save_reconstructions(
            model.reconstruction_target(x_test[:n]), model.reconstruct(x_test[:n]),
            os.path.join(out, "reconstructions.png"),
            title=f"{args.model}: test inputs (top) and reconstructions (bottom), "
                  f"MSE {metrics['test']['reconstruction_mse']:.4f}")
    if not args.no_export:
        export_saved_model(model.encoder, os.path.join(out, "encoder_savedmodel"), overwrite=True)
    summary = ", ".join(f"{k}={v:.4g}" for k, v in metrics["test"].items() if k != "examples")
    print(f"Done in {seconds:.1f}s. Test: {summary}. Files in {args.out}: "
          + ", ".join(sorted(os.listdir(out))))
    if args.tensorboard:
        print(f"TensorBoard logs in {args.tensorboard}; view them with: "
              f"tensorboard --logdir {args.tensorboard}")
    return 0


def _read_config_file(args):
    """The config fields of a ``keras-ae tune`` result (``best_config.json``: ``model``,
    ``config``, ``learning_rate``) for ``train --config``; its learning rate becomes
    ``--learning-rate`` unless that is given."""
    try:
        with open(args.config) as f:
            data = json.load(f)
    except OSError as e:
        raise CLIError(f"--config: cannot read {args.config}: {e.strerror}") from None
    except json.JSONDecodeError as e:
        raise CLIError(f"--config: {args.config} is not JSON: {e}") from None
    if not isinstance(data, dict) or not isinstance(data.get("config"), dict):
        raise CLIError(f"--config: {args.config} must hold a JSON object with a \"config\" "
                       f"object of model config fields (as `keras-ae tune` writes)")
    if data.get("model", args.model) != args.model:
        raise CLIError(f"--config: {args.config} is a configuration of {data['model']}, "
                       f"not {args.model}")
    rate = data.get("learning_rate")
    if rate is not None and args.learning_rate is None:
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not rate > 0:
            raise CLIError(f"--config: learning_rate must be a positive number, got {rate!r}")
        args.learning_rate = float(rate)
    return data["config"]


def cmd_tune(args):
    from keras_ae.checks import label_budget
    from keras_ae.reporting import check_writable_folder

    for flag, value in (("--trials", args.trials), ("--epochs", args.epochs),
                        ("--batch-size", args.batch_size)):
        if value < 1:
            raise CLIError(f"{flag} must be >= 1, got {value}")
    if args.model not in _catalog_names():
        raise CLIError(f"unknown model {args.model!r}; registered models are: "
                       f"{', '.join(_catalog_names())}")
    overrides = _parse_overrides(args.set)
    out = check_writable_folder(args.out, name="--out")

    import keras
    import keras_tuner

    from keras_ae import models, tuning

    cls = models.get(args.model)
    try:
        models.check_config_fields(cls, overrides)
    except ValueError as e:
        raise CLIError(f"--set: {e}") from None
    x, y = _load_split(args, "train")
    held = len(x) // 6 if args.validation_size is None else args.validation_size
    if not 0 < held <= len(x) - args.batch_size:
        raise CLIError(f"--validation-size must be positive and leave at least --batch-size "
                       f"({args.batch_size}) of the {len(x)} training images, got {held}")
    x_val, y_val, x, y = x[-held:], y[-held:], x[:-held], y[:-held]
    fixed = {"input_shape": list(x.shape[1:]), **overrides}
    if "num_classes" in models.config_fields(cls):
        fixed.setdefault("num_classes", int(max(y.max(), y_val.max()) + 1))
    num_labels = label_budget(args.labels)
    hypermodel = tuning.hypermodel(args.model, objective=args.objective, num_labels=num_labels,
                                   batch_size=args.batch_size, seed=args.seed, **fixed)
    tuner = keras_tuner.RandomSearch(hypermodel, objective=hypermodel.objective,
                                     max_trials=args.trials, seed=args.seed, directory=out,
                                     project_name="search", overwrite=True)
    print(f"Tuning {args.model} ({keras.backend.backend()} backend): {args.trials} trial(s) of "
          f"{args.epochs} epoch(s) on {len(x)} images, {args.objective} on {held} held-out "
          f"training images" + (f" (probe on {num_labels or 'all'} labels)"
                                if args.objective == "probe_accuracy" else ""))
    tuner.search_space_summary()
    tuner.search(x, y, validation_data=(x_val, y_val), epochs=args.epochs, verbose=1)
    trials = sorted(tuner.oracle.trials.values(), key=lambda t: t.trial_id)
    done = [t for t in trials if t.score is not None]
    if not done:
        raise CLIError("no trial completed; see the tuner's output above")
    best = tuner.oracle.get_best_trials(1)[0]

    def searched(trial):
        config, rate = hypermodel.values(trial.hyperparameters)
        return {k: v for k, v in config.items() if k not in fixed or k in overrides}, rate

    config, rate = searched(best)
    result = {
        "model": args.model, "config": config, "learning_rate": rate,
        "objective": args.objective, "score": best.score, "trial": best.trial_id,
        "backend": keras.backend.backend(), "epochs": args.epochs,
        "dataset": args.dataset or os.environ.get("KERAS_AE_DATA_DIR") or "shipped MNIST sample",
        "train_examples": int(len(x)), "validation_examples": int(held),
        "probe_labels": num_labels if args.objective == "probe_accuracy" else None,
        "trials": [{"trial": t.trial_id, "status": t.status, "score": t.score,
                    "config": searched(t)[0], "learning_rate": searched(t)[1]}
                   for t in trials],
    }
    path = os.path.join(out, "best_config.json")
    _atomic_json(result, path)
    print(f"Best {args.objective} {best.score:.4g} (trial {best.trial_id}; {len(done)} of "
          f"{len(trials)} trial(s) completed); wrote {path}. Train it with: keras-ae train "
          f"{args.model} --config {path}")
    return 0


def _catalog_names():
    from keras_ae import catalog

    return catalog.names()


def _load_model(path):
    import keras

    import keras_ae.models  # noqa: F401  (registers the zoo's classes with Keras)

    if not os.path.isfile(path):
        raise CLIError(f"model file not found: {path}")
    try:
        return keras.saving.load_model(path)
    except Exception as e:  # a corrupt or foreign file: say so in one line
        raise CLIError(f"cannot load {path} as a Keras model: {str(e).splitlines()[0]}") from None


def _load_zoo_model(path):
    model = _load_model(path)
    if getattr(model, "_zoo_config", None) is None:
        raise CLIError(f"{path} holds a {type(model).__name__}, not a keras-ae model")
    return model


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


#: What ``plot`` draws: everything a model has (the default), the code map alone, or deconvnet
#: projections of chosen units.
PLOT_KINDS = ("all", "codes", "deconvnet")


def cmd_plot(args):
    from keras_ae.reporting import check_writable_folder

    if args.examples < 1:
        raise CLIError(f"--examples must be >= 1, got {args.examples}")
    if args.what != "deconvnet":
        given = [flag for flag, value in (("--layer", args.layer), ("--units", args.units),
                                          ("--top", args.top), ("--keep", args.keep))
                 if value is not None]
        if given:
            raise CLIError(f"{', '.join(given)} apply to `plot deconvnet` only")
    out = check_writable_folder(args.out, name="--out")
    if args.what == "deconvnet":
        return _plot_deconvnet(args, out)

    from keras_ae import evaluation, visualize

    # the code map needs only an encoder (any Keras model); the rest, a zoo model
    model = _load_model(args.model_file) if args.what == "codes" else _load_zoo_model(args.model_file)
    x, y = _load_split(args, args.split)
    _check_images_fit(model, x)
    x, y = x[: args.examples], y[: args.examples]
    name = model.get_config().get("name", type(model).__name__)
    written, skipped = {}, {}

    def draw(key, make):
        try:
            written[key] = make(os.path.join(out, f"{key}.png"))
        except ValueError as e:  # nothing of that kind to draw: say why
            skipped[key] = str(e).splitlines()[0]

    if args.what == "all":
        if model.reconstructs:
            n = min(16, len(x))
            draw("reconstructions", lambda path: visualize.save_reconstructions(
                model.reconstruction_target(x[:n]), model.reconstruct(x[:n]), path,
                title=f"{name}: inputs and reconstructions"))
        kernel, source = _filter_kernel(model)
        if kernel is None:
            skipped["filters"] = source
        else:
            draw("filters", lambda path: visualize.save_filters(
                kernel, path, title=f"{name}: filters ({source})"))
    features = evaluation.extract_features(model, x)
    draw("codes", lambda path: visualize.save_codes(
        features, y, path, title=f"{name}: codes of {len(x)} {args.split} images"))
    if args.what == "all":
        analysis = model.save_analysis(x, y, out)  # the family's own pictures (DrSAE's units)
        written.update(analysis["files"])
        skipped.update(analysis["skipped"])
    print(json.dumps({"files": written, "skipped": skipped}, indent=2, sort_keys=True))
    return 0


def _plot_deconvnet(args, out):
    """``plot deconvnet``: for each unit of ``--layer``, its ``--top`` strongest images of the
    split beside their deconvnet projections (:mod:`keras_ae.deconvnet`), one PNG a unit."""
    if args.layer is None:
        raise CLIError("plot deconvnet needs --layer (a conv or pooling layer of the encoder)")
    top = 9 if args.top is None else args.top
    if top < 1:
        raise CLIError(f"--top must be >= 1, got {top}")

    from keras_ae import deconvnet, visualize

    model = _load_model(args.model_file)  # any conv net, not only the zoo's
    x, _ = _load_split(args, args.split)
    _check_images_fit(model, x)
    x = x[: args.examples]
    units = [0] if args.units is None else args.units
    found = deconvnet.top_projections(model, args.layer, units, x, k=top,
                                      keep=args.keep or "max", batch_size=args.batch_size)
    written = {}
    for result in found:
        key = f"deconvnet_{args.layer}_unit{result['unit']}"
        written[key] = visualize.save_projections(
            x[result["indices"]], result["projections"], os.path.join(out, f"{key}.png"),
            title=f"{args.layer}, unit {result['unit']}: top {len(result['indices'])} of "
                  f"{len(x)} {args.split} images")
    print(json.dumps({"files": written, "skipped": {}}, indent=2, sort_keys=True))
    return 0


def cmd_export(args):
    from keras_ae.export import export_for_serving, export_saved_model

    if (args.out is None) == (args.serving_dir is None):
        raise CLIError("give either OUT (a SavedModel folder) or --serving-dir, not both")
    if args.serving_dir is None and (args.name is not None or args.version is not None):
        raise CLIError("--name and --version go with --serving-dir")
    if args.serving_dir is not None and args.overwrite:
        raise CLIError("--overwrite does not apply to --serving-dir: versions are never replaced")
    model = _load_model(args.model_file)
    target = model if args.full_model or not hasattr(model, "encoder") else model.encoder
    what = "model" if target is model else "encoder"
    if args.serving_dir is None:
        path = export_saved_model(target, args.out, overwrite=args.overwrite)
        print(f"Exported {what} of {model.name} to {path}")
        return 0
    name = args.name or model.name
    path, signature = export_for_serving(target, args.serving_dir, name=name,
                                         version=args.version)
    print(f"Exported {what} of {model.name} for TF Serving: {path} (model {name!r}, version "
          f"{os.path.basename(path)})")
    print(json.dumps(signature, indent=1))
    return 0


def cmd_probe(args):
    if args.epochs < 1 or args.batch_size < 1:
        raise CLIError("--epochs and --batch-size must be positive integers")
    if args.copies is not None and not args.shift:
        raise CLIError("--copies is for --shift N >= 1 (the probe's moved copies of each image)")
    if args.out:
        from keras_ae.reporting import check_writable_folder

        check_writable_folder(os.path.dirname(os.path.abspath(args.out)), name="--out")
    from keras_ae import evaluation

    try:
        evaluation.check_probe_shift(args.shift, 1 if args.copies is None else args.copies)
    except ValueError as e:
        raise CLIError(f"--shift/--copies: {e}") from None

    model = _load_model(args.model_file)
    x_train, y_train = _load_split(args, "train")
    x_test, y_test = _load_split(args, "test")
    _check_images_fit(model, x_train)
    if args.shift:
        from keras_ae.data.loading import check_shift

        check_shift(args.shift, x_train.shape, name="--shift")  # before anything is encoded
    if args.stages == "all" and not hasattr(model, "stage_encoder"):
        raise CLIError(f"--stages all: every stage's features need a stacked model with "
                       f"stage_encoder() (stacked_conv_wta), got {type(model).__name__}")
    report = evaluation.probe_report(
        model, x_train, y_train, x_test, y_test, budgets=args.labels,
        pool_size=None if args.pool == "none" else args.pool, stages=args.stages,
        epochs=args.epochs, batch_size=args.batch_size, l2=args.l2, folds=args.folds,
        shift=args.shift, copies=1 if args.copies is None else args.copies, seed=args.seed,
        verbose=1)
    report = {"model_file": args.model_file, **report, "pool_size": args.pool}
    text = json.dumps(report, indent=2, sort_keys=True)
    if args.out:
        write_whole({args.out: text})
    print(text)
    return 0


def cmd_search(args):
    for flag, value in (("--k", args.k), ("--queries", args.queries), ("--show", args.show),
                        ("--batch-size", args.batch_size)):
        if value < 1:
            raise CLIError(f"{flag} must be >= 1, got {value}")
    if args.limit is not None and args.limit < 1:
        raise CLIError(f"--limit must be >= 1, got {args.limit}")
    from keras_ae.reporting import check_writable_folder

    out = check_writable_folder(args.out, name="--out")
    from keras_ae import search

    model = _load_model(args.model_file)
    query_data = args.index if args.query is None else args.query

    def split(data, name, limit):
        return _load_split(argparse.Namespace(dataset=data, data_dir=args.data_dir, limit=limit,
                                              image_size=args.image_size), name)

    x_index, y_index = split(args.index, args.index_split, args.limit)
    x_query, y_query = split(query_data, args.query_split, args.queries)
    _check_images_fit(model, x_index)
    _check_images_fit(model, x_query)
    if args.k > len(x_index):
        raise CLIError(f"--k {args.k} is more than the {len(x_index)} indexed images")
    index = search.CodeIndex(model, metric=args.metric, batch_size=args.batch_size)
    start = time.perf_counter()
    index.add(x_index, labels=y_index)
    built = time.perf_counter() - start
    start = time.perf_counter()
    indices, scores = index.search(x_query, args.k)
    searched = time.perf_counter() - start
    found = y_index[indices]
    precision = search.precision_at_k(y_query, found)
    shown = min(args.show, len(x_query))
    picture = search.save_search_picture(
        x_query[:shown], x_index[indices[:shown]], os.path.join(out, "search.png"),
        query_titles=[f"query {i}\nlabel {y_query[i]}" for i in range(shown)],
        result_titles=[[f"#{j}: label {found[i, r]}\n{scores[i, r]:.3f}"
                        for r, j in enumerate(indices[i])] for i in range(shown)],
        title=f"{os.path.basename(args.model_file)}: {args.k} nearest of {len(x_index)} "
              f"{args.index_split} images by {args.metric} "
              f"{'similarity' if args.metric == 'cosine' else 'distance'} of codes")
    report = {
        "model_file": args.model_file, "metric": args.metric, "k": args.k,
        "index": {"data": args.index, "split": args.index_split, "images": len(x_index),
                  "code_size": index.dim, "seconds": round(built, 3)},
        "queries": {"data": query_data, "split": args.query_split, "images": len(x_query),
                    "seconds": round(searched, 3)},
        "precision_at_k": precision,
        "precision_at_k_by_label": {
            str(label): search.precision_at_k(y_query[y_query == label],
                                              found[y_query == label])
            for label in sorted(set(y_query.tolist()))},
        "results": [{"query": i, "label": int(y_query[i]), "indices": indices[i].tolist(),
                     "scores": scores[i].tolist(), "labels": found[i].tolist()}
                    for i in range(len(x_query))],
    }
    _atomic_json(report, os.path.join(out, "search.json"))
    print(f"search: {len(x_query)} {args.query_split} queries against {len(x_index)} "
          f"{args.index_split} images, k={args.k}, {args.metric}: precision@{args.k} by label "
          f"{precision:.3f}; wrote {picture} and {os.path.join(out, 'search.json')}")
    return 0


def cmd_reproduce(args):
    from keras_ae import reproduction

    if args.list or args.row is None:
        print("\n".join(reproduction.listing()))
        return 0
    if not args.epochs_scale > 0:
        raise CLIError(f"--epochs-scale must be > 0, got {args.epochs_scale}")
    try:
        row = reproduction.row(args.row)
    except KeyError as e:
        raise CLIError(e.args[0]) from None
    if args.best_labelled and "best_labelled" not in row:
        raise CLIError(f"row {args.row!r} has no best-labelled variant")
    summary = reproduction.run(args.row, out=args.out, dry_run=args.dry_run,
                               epochs_scale=args.epochs_scale, best_labelled=args.best_labelled,
                               data_dir=args.data_dir, main=main)
    if args.dry_run:
        import textwrap

        print("\n".join(["# " + line for line in textwrap.wrap(summary["note"], 96)]
                        + summary["commands"]))
        return 0
    print(json.dumps({k: summary.get(k) for k in ("row", "ok", "figures", "recorded")},
                     indent=2))
    return 0 if summary["ok"] else 1


def build_parser():
    parser = _Parser(prog="keras-ae", description="Train, evaluate and export keras-ae models.")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    listing = sub.add_parser("list", help="list the registered models (or the presets)")
    listing.add_argument("--presets", action="store_true",
                         help="list the pretrained presets shipped with the package "
                              "(keras_ae.models.from_preset(NAME))")

    def data_args(p):
        p.add_argument("--dataset", default=None,
                       help="TFDS name (e.g. mnist) or a folder of MNIST-style IDX files; default: "
                            "$KERAS_AE_DATA_DIR, else the MNIST sample shipped in the package")
        p.add_argument("--data-dir", default=None,
                       help="folder holding IDX files or one sub-folder per dataset name "
                            "(overrides $KERAS_AE_DATA_DIR)")
        p.add_argument("--batch-size", type=int, default=128)
        p.add_argument("--limit", type=int, default=None,
                       help="use only the first N images of each split")
        p.add_argument("--image-size", type=image_size_argument, default=None, metavar="HxW",
                       help="resize the images of a folder of class sub-folders to H x W "
                            "(default: they must all have one size)")

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
    train.add_argument("--config", default=None, metavar="FILE",
                       help="a `keras-ae tune` result (best_config.json): its config fields as "
                            "--set overrides (--set wins) and its learning rate unless "
                            "--learning-rate is given")
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
    train.add_argument("--tensorboard", default=None, metavar="DIR",
                       help="log to TensorBoard in DIR: Keras's scalars (loss, val_loss, metrics) "
                            "and, each epoch, every add_loss term, reconstructions and the first "
                            "conv layer's filters of 8 fixed images (docs/monitoring.md)")
    train.add_argument("--distribute", action="store_true",
                       help="data-parallel over every local device (GPUs, else CPUs): "
                            "tf.distribute.MirroredStrategy on tensorflow, "
                            "keras.distribution.DataParallel on jax, none on torch; "
                            "--batch-size is the global batch (docs/distributed.md)")
    for option, (users, text) in PROCEDURE_OPTIONS.items():
        train.add_argument(f"--{option.replace('_', '-')}", type=int, default=None,
                           help=f"{users}: {text}")

    tune = sub.add_parser(
        "tune", help="search a model's hyperparameters with keras-tuner (its default space, "
                     "keras_ae.tuning.SPACES) and write the best configuration as JSON")
    tune.add_argument("model", help="a registered model name (see `keras-ae list`)")
    data_args(tune)
    tune.add_argument("--trials", type=int, default=10, help="trials of the random search")
    tune.add_argument("--objective", choices=["val_loss", "probe_accuracy"], default="val_loss",
                      help="what a trial is scored by on the held-out images: the model's loss, "
                           "or the accuracy of a linear probe on its encoder's features")
    tune.add_argument("--epochs", type=int, default=5, help="training epochs of each trial")
    tune.add_argument("--labels", type=label_argument, default="1000",
                      help="probe_accuracy: the probe's labelled training examples ('all' or a "
                           "count, balanced per class)")
    tune.add_argument("--validation-size", type=int, default=None,
                      help="hold out the last N training images to score the trials (default "
                           "a sixth)")
    tune.add_argument("--set", action="append", metavar="KEY=VALUE",
                      help="fix a config field for every trial (taken out of the search), value "
                           "as JSON (repeatable)")
    tune.add_argument("--seed", type=int, default=0)
    tune.add_argument("--out", default="runs/tune",
                      help="output folder: best_config.json (for train --config) and the "
                           "tuner's trials in search/ (a new search replaces them)")

    evaluate = sub.add_parser("evaluate", help="evaluate a saved .keras model on a split")
    evaluate.add_argument("model_file")
    data_args(evaluate)
    evaluate.add_argument("--split", default="test")

    export = sub.add_parser("export", help="export a saved model's encoder as a TF SavedModel")
    export.add_argument("model_file")
    export.add_argument("out", nargs="?", help="the SavedModel folder (or give --serving-dir)")
    export.add_argument("--full-model", action="store_true", help="export the whole model, not the encoder")
    export.add_argument("--overwrite", action="store_true")
    export.add_argument("--serving-dir", default=None,
                        help="TF Serving's layout instead of OUT: DIR/NAME/VERSION/, printed with "
                             "its signature")
    export.add_argument("--name", default=None,
                        help="with --serving-dir: the servable's name (default: the model's)")
    export.add_argument("--version", type=int, default=None,
                        help="with --serving-dir: the version (default: the next free one; an "
                             "existing version is never overwritten)")

    plot = sub.add_parser(
        "plot", help="draw a saved model's reconstructions, filters and codes",
        description="Draw a saved model's pictures as PNG files: everything it has (all), its "
                    "code map alone (codes), or deconvnet projections of a conv or pooling "
                    "layer's units (deconvnet; docs/visualize.md).")
    plot.add_argument("what", nargs="?", choices=PLOT_KINDS, default="all",
                      help="all (default): every picture the model has; codes: the codes of "
                           "--split on two axes (PCA unless the code size is 2), coloured by "
                           "label; "
                           "deconvnet: each --units' strongest images beside their projections")
    plot.add_argument("model_file")
    data_args(plot)
    plot.add_argument("--split", default="test")
    plot.add_argument("--examples", type=int, default=2000,
                      help="images encoded for the codes picture (and DrSAE's unit analysis), "
                           "or searched for each unit's strongest (deconvnet)")
    plot.add_argument("--out", default="plots", help="output folder for the PNG files")
    plot.add_argument("--layer", default=None,
                      help="deconvnet: the conv or pooling layer of the encoder whose units to "
                           "project (e.g. swwae's conv_1 or pool_1)")
    plot.add_argument("--units", type=int, nargs="+", default=None, metavar="UNIT",
                      help="deconvnet: the channels of --layer to draw (default 0), a PNG each")
    plot.add_argument("--top", type=int, default=None,
                      help="deconvnet: how many of the strongest images to project (default 9)")
    plot.add_argument("--keep", choices=["max", "all"], default=None,
                      help="deconvnet: project the unit's strongest position in each image "
                           "(max, default, as Zeiler & Fergus) or its whole map (all)")

    probe = sub.add_parser("probe", help="linear-probe a saved model's encoder features")
    probe.add_argument("model_file")
    data_args(probe)
    probe.add_argument("--labels", nargs="+", default=["all"],
                       type=label_argument,
                       help="labelled training examples per probe: 'all' or a count (balanced "
                            "per class), e.g. --labels all 1000 100")
    probe.add_argument("--l2", default="auto", type=l2_argument,
                       help="the probe's weight decay, or 'auto': chosen on held-out labels")
    probe.add_argument("--folds", default=1, type=folds_argument,
                       help="with --l2 auto: 1 holds out a sixth of the labels, k >= 2 k-fold CV")
    probe.add_argument("--epochs", type=int, default=30, help="the probe's training epochs")
    probe.add_argument("--pool", default="auto", type=pool_argument,
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

    search = sub.add_parser(
        "search", help="find query images' nearest neighbours among indexed images by their "
                       "codes (search.png, search.json)")
    search.add_argument("model_file", help="a saved .keras model: a zoo model (its encoder is "
                                           "used) or an encoder")
    search.add_argument("--index", default=None, metavar="DATA",
                        help="the images searched, its --index-split: a TFDS name (e.g. mnist) "
                             "or a folder, as --dataset takes; default: $KERAS_AE_DATA_DIR, "
                             "else the MNIST sample shipped in the package")
    search.add_argument("--query", default=None, metavar="DATA",
                        help="where the queries come from, its --query-split (default: the "
                             "--index data)")
    search.add_argument("--index-split", default="train", metavar="SPLIT",
                        help="the split indexed (default train; a slice such as train[:50%%] "
                             "works too)")
    search.add_argument("--query-split", default="test", metavar="SPLIT",
                        help="the split the queries come from (default test)")
    search.add_argument("--queries", type=int, default=10, metavar="N",
                        help="query with the first N images of the query split (default 10)")
    search.add_argument("--k", type=int, default=10, help="results per query (default 10)")
    search.add_argument("--limit", type=int, default=None, metavar="N",
                        help="index only the first N images of the index split")
    search.add_argument("--metric", choices=["cosine", "euclidean"], default="cosine",
                        help="cosine similarity (highest first) or euclidean distance (lowest "
                             "first) of the codes; exact search")
    search.add_argument("--show", type=int, default=10, metavar="N",
                        help="queries drawn in search.png, each followed by its k results "
                             "(search.json and precision@k have them all)")
    search.add_argument("--data-dir", default=None,
                        help="folder holding IDX files or one sub-folder per dataset name "
                             "(overrides $KERAS_AE_DATA_DIR)")
    search.add_argument("--image-size", type=image_size_argument, default=None, metavar="HxW",
                        help="resize the images of a folder of class sub-folders to H x W")
    search.add_argument("--batch-size", type=int, default=256, help="images encoded at a time")
    search.add_argument("--out", default="search",
                        help="output folder for search.png and search.json (indices, scores, "
                             "labels of each query and its results, precision@k by label)")

    reproduce = sub.add_parser(
        "reproduce", help="run a models-table row's protocol (keras_ae/reproduction/rows.toml)")
    reproduce.add_argument("row", nargs="?", default=None,
                           help="a row id; without one (or with --list): list the rows")
    reproduce.add_argument("--list", action="store_true",
                           help="list the row ids with their model and recorded figure")
    reproduce.add_argument("--dry-run", action="store_true",
                           help="print the keras-ae commands without running them")
    reproduce.add_argument("--epochs-scale", type=float, default=1.0, metavar="X",
                           help="multiply every epoch count by X (at least 1 each): a quick "
                                "check of the pipeline, not the protocol")
    reproduce.add_argument("--out", default=None,
                           help="output folder (default runs/reproduce/ROW): one sub-folder per "
                                "seed, and summary.json")
    reproduce.add_argument("--best-labelled", action="store_true",
                           help="the row's best variant with augmentation not in the paper")
    reproduce.add_argument("--data-dir", default=None,
                           help="folder holding IDX files or one sub-folder per dataset "
                                "name (overrides $KERAS_AE_DATA_DIR)")
    return parser


def image_size_argument(text):
    """An ``argparse`` type for ``HxW`` (e.g. ``28x28``): a pair of positive ints."""
    parts = text.lower().split("x")
    if len(parts) != 2 or not all(p.strip().isdigit() and int(p) > 0 for p in parts):
        raise argparse.ArgumentTypeError(f"expected HxW with positive ints, e.g. 28x28, got "
                                         f"{text!r}")
    return int(parts[0]), int(parts[1])


def l2_argument(text):
    """An ``argparse`` type for a probe's weight decay: ``"auto"`` or a finite number >= 0.

    Raises:
        argparse.ArgumentTypeError: anything else (argparse reports it as a usage error).
    """
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a finite number >= 0, got {text!r}")
    return value


def label_argument(text):
    """An ``argparse`` type for a labelled-set size: ``"all"`` or an int >= 1, kept as text (a
    results key); :func:`label_budget` turns it into a ``num_labels``."""
    from keras_ae.checks import label_budget

    try:
        return "all" if label_budget(text) is None else str(label_budget(text))
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def folds_argument(text):
    """An ``argparse`` type for ``folds``: an int >= 1 (1: one held-out part; k: k-fold)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an int >= 1, got {text!r}")
    return value


def pool_argument(text):
    """An ``argparse`` type for a feature-map pooling window (:func:`extract_features`'s
    ``pool_size``): ``"auto"``, ``"none"`` (kept as text) or an int >= 1."""
    if text in ("auto", "none"):
        return text
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected 'auto', 'none' or an int >= 1, got {text!r}")
    return value


def quiet():
    """Silences third-party start-up logs before TensorFlow is imported (a user's own settings
    win): TensorFlow's C++ logging and gRPC's through their variables; the lines TensorFlow
    writes before its logging is set up (CUDA probing on a machine without a GPU, oneDNN's
    notice) go to a buffer while it and Keras are imported, and are shown only if the import
    fails."""
    for key, value in (("TF_CPP_MIN_LOG_LEVEL", "3"), ("GRPC_VERBOSITY", "ERROR")):
        os.environ.setdefault(key, value)
    if "tensorflow" in sys.modules:
        return
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as buffer:
        os.dup2(buffer.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
            import keras  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            buffer.seek(0)
            sys.stderr.write(buffer.read().decode(errors="replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)
    import absl.logging

    absl.logging.set_verbosity(absl.logging.ERROR)


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        if args.command != "list":
            quiet()
        return {"list": cmd_list, "train": cmd_train, "evaluate": cmd_evaluate,
                "export": cmd_export, "probe": cmd_probe, "plot": cmd_plot,
                "reproduce": cmd_reproduce, "search": cmd_search,
                "tune": cmd_tune}[args.command](args)
    except CLIError as e:
        print(f"keras-ae: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as e:
        print(f"keras-ae: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
