"""Winner-take-all autoencoders on MNIST: train, linear-probe the features, draw the filters.

    KERAS_BACKEND=jax python examples/wta_mnist.py --model fc_wta --epochs 5 \\
        --data-dir ../shared/datasets --labels all 1000 100

Models: ``fc_wta`` (784-H ReLU, lifetime sparsity k), ``conv_wta`` (5×5 convs, spatial + lifetime
sparsity, linear 11×11 decoder), ``stacked_conv_wta`` (greedy stage-wise training, optional
fine-tuning). With ``--compare-plain`` a conv model is also trained without sparsity (same
network, same epochs) and both sets of filters are drawn side by side. With ``--shift N``
(fc_wta / conv_wta) the autoencoder trains on images moved by up to N pixels at random, drawn
afresh every epoch (augmentation, not in the paper; the report says so). With ``--probe-shift N
--probe-copies C`` the linear probe is fitted on its labelled images plus C copies of each moved
by up to N pixels (augmentation of the evaluation, not in the paper; held-out folds and the test
set are unmoved), e.g. to re-probe a saved model with ``--load-model``.

Writes into ``--out-dir`` (``benchmarks/results``): ``wta_<tag>.json`` (everything that was run:
command, epochs, data sizes, wall times, machine, errors), ``wta_<tag>.md`` (the README's table
rows) and ``wta_<tag>_filters.png``. The paper trains for far longer (hundreds of epochs) and
probes with a linear SVM; the JSON records how far this run is from that protocol.
"""

import argparse
import json
import os
import time

import keras
import numpy as np

import keras_ae
from keras_ae import evaluation, visualize
from keras_ae.data import (ZCAWhitening, load_arrays, make_dataset, shifted_copies,
                           to_float_images)
from keras_ae.reporting import command_line, machine, save_whole, write_report
from keras_ae.models.wta import ConvWTA, FCWTA, StackedConvWTA, train_greedily
from keras_ae.training import (OPTIMIZERS, SCHEDULES, EpochCheckpoint,
                               check_optimizer_arguments, describe_optimizer, learning_rate,
                               make_optimizer, resumable_fit)

PAPER = {"fc_wta": {"all": 1.20}, "conv_wta": {"all": 1.0}, "stacked_conv_wta": {"all": 0.64}}
PAPER_NOTE = {"fc_wta": "Makhzani & Frey 2015: FC-WTA 2000 units, k=5 %, linear SVM: 1.20 %",
              "conv_wta": "Conv-WTA 128 maps, linear SVM: ~1.0 % (unconfirmed, PAPERS.md)",
              "stacked_conv_wta": "stacked Conv-WTA: 0.64-0.48 % (unconfirmed, PAPERS.md)"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", choices=["fc_wta", "conv_wta", "stacked_conv_wta"], default="fc_wta")
    p.add_argument("--data-dir", default=None, help="folder holding mnist/ IDX files")
    p.add_argument("--train-limit", type=int, default=None,
                   help="train the autoencoder on the first N training images only")
    p.add_argument("--epochs", type=int, nargs="+", default=[5],
                   help="autoencoder epochs; stacked: per stage, one value for every stage or "
                        "one per stage")
    p.add_argument("--fine-tune-epochs", type=int, default=0, help="stacked: end-to-end epochs")
    p.add_argument("--stage0-from", default=None,
                   help="stacked: start stage 0 from this saved one-layer conv_wta .keras "
                        "(trained before as a stage is; give it 0 --epochs to keep it as is)")
    p.add_argument("--batch-size", type=int, default=100)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="adam",
                   help="autoencoder optimizer (fc_wta / conv_wta); sgd takes --momentum")
    p.add_argument("--momentum", type=float, default=0.0, help="SGD momentum, in [0, 1)")
    p.add_argument("--lr-schedule", choices=SCHEDULES, default="constant",
                   help="autoencoder's learning rate: constant, or annealed to zero over "
                        "the --epochs (stacked: over each stage's epochs)")
    p.add_argument("--k", type=float, default=0.05, help="lifetime sparsity")
    p.add_argument("--hidden-units", type=int, default=2000, help="fc_wta hidden units")
    p.add_argument("--tied-weights", action="store_true")
    p.add_argument("--hidden-bias", type=float, default=0.0,
                   help="fc_wta: initial bias of the hidden units (a positive value starts "
                        "every unit active, so none is silent from the first batch)")
    p.add_argument("--zca-epsilon", type=float, default=None,
                   help="ZCA-whiten every image (autoencoder and probe) with this regulariser, "
                        "fitted on the autoencoder's training images (not in the paper)")
    p.add_argument("--shift", type=int, default=0,
                   help="fc_wta / conv_wta: train the autoencoder on images moved by up to N "
                        "pixels at random, drawn afresh every epoch (augmentation, not in the "
                        "paper); the probe sees the images as they are")
    p.add_argument("--filters", type=int, nargs="+", default=[128, 128], help="conv maps")
    p.add_argument("--decoder-kernel-size", type=int, nargs="+", default=[11],
                   help="conv models' linear decoder kernel (11, the paper's); stacked: one "
                        "value for every stage or one per stage (e.g. 11 7: the second stage "
                        "works at half resolution)")
    p.add_argument("--pool-size", default="auto", type=evaluation.pool_argument,
                   help="probe max-pooling window for conv maps ('auto' = about 4x4 regions)")
    p.add_argument("--probe-stages", choices=["top", "all"], default="top",
                   help="stacked_conv_wta: probe the top stage's pooled maps (default) or every "
                        "stage's, each pooled on its own grid, concatenated")
    p.add_argument("--labels", nargs="+", type=evaluation.label_argument,
                   default=["all", "1000", "100"],
                   help="labelled-set sizes for the probe ('all' = every training label)")
    p.add_argument("--probe-epochs", type=int, default=30)
    p.add_argument("--probe-l2", type=evaluation.l2_argument, default="0",
                   help="probe weight decay: a number, or 'auto' to choose it on a held-out "
                        "sixth of the labelled examples (as an SVM's C would be)")
    p.add_argument("--probe-folds", type=evaluation.folds_argument, default=1,
                   help="with --probe-l2 auto: choose the weight decay on one held-out sixth (1) "
                        "or by k-fold cross-validation over the labelled examples (k >= 2)")
    p.add_argument("--probe-schedule", choices=SCHEDULES, default="cosine",
                   help="probe learning rate: annealed to zero ('cosine') or constant")
    p.add_argument("--probe-shift", type=int, default=0,
                   help="probe augmentation: fit the probe on the labelled images plus "
                        "--probe-copies copies of each moved by up to N px at random (not in "
                        "the paper; validation folds and the test set stay unmoved)")
    p.add_argument("--probe-copies", type=int, default=None,
                   help="with --probe-shift: how many moved copies of each labelled image")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--compare-plain", action="store_true",
                   help="conv models: also train the same network without sparsity")
    p.add_argument("--save-model", action="store_true",
                   help="also save the (first seed's) trained model as wta_<tag>.keras")
    p.add_argument("--load-model", default=None,
                   help="probe this saved .keras model instead of training one (one seed; "
                        "--epochs etc. should repeat the saved model's training for the record)")
    p.add_argument("--resume-epochs", type=int, default=0,
                   help="with --load-model: first train the loaded model this many more epochs "
                        "(fc_wta / conv_wta; its saved optimizer state is kept)")
    p.add_argument("--checkpoint-dir", default=None,
                   help="checkpoint training after every epoch in DIR/seed<N>/ (stacked: one "
                        "folder per stage) and, rerun with the same command, resume from it")
    p.add_argument("--tag", default=None, help="output name: wta_<tag>.*")
    p.add_argument("--out-dir", default=os.path.join(os.path.dirname(__file__), "..",
                                                     "benchmarks", "results"))
    args = p.parse_args(argv)
    if args.load_model and len(args.seeds) != 1:
        p.error("--load-model probes one saved model: give a single --seeds value")
    if args.lr_schedule != "constant" and args.load_model:
        p.error("--lr-schedule cosine trains a new model")
    if any(e < 0 for e in args.epochs):
        p.error(f"--epochs must be non-negative, got {args.epochs}")
    if args.model == "stacked_conv_wta" and len(args.epochs) not in (1, len(args.filters)):
        p.error(f"--epochs takes one value or one per stage ({len(args.filters)} --filters), "
                f"got {len(args.epochs)}")
    if args.stage0_from and (args.model != "stacked_conv_wta" or args.load_model):
        p.error("--stage0-from starts a new stacked_conv_wta model")
    if args.stage0_from and not os.path.isfile(args.stage0_from):
        p.error(f"--stage0-from: no such file {args.stage0_from!r}")
    if args.model == "stacked_conv_wta" and len(args.decoder_kernel_size) not in (
            1, len(args.filters)):
        p.error(f"--decoder-kernel-size takes one value or one per stage "
                f"({len(args.filters)} --filters), got {len(args.decoder_kernel_size)}")
    if args.model == "conv_wta" and len(args.decoder_kernel_size) != 1:
        p.error("--decoder-kernel-size takes one value for conv_wta")
    if args.model == "fc_wta" and args.decoder_kernel_size != [11]:
        p.error("--decoder-kernel-size is for the conv models (fc_wta decodes with a dense layer)")
    if args.load_model and args.decoder_kernel_size != [11]:
        p.error("--decoder-kernel-size builds a new model (a loaded one keeps its own)")
    if any(size < 1 for size in args.decoder_kernel_size):
        p.error(f"--decoder-kernel-size must be positive, got {args.decoder_kernel_size}")
    args.decoder_kernel_size = (args.decoder_kernel_size[0] if len(args.decoder_kernel_size) == 1
                                else args.decoder_kernel_size)
    if args.model != "stacked_conv_wta" and len(args.epochs) != 1:
        p.error(f"--epochs takes one value for {args.model}")
    # One value is stored as an int (as before per-stage epochs existed).
    args.epochs = args.epochs[0] if len(args.epochs) == 1 else args.epochs
    if args.optimizer != "adam" and args.model == "stacked_conv_wta":
        p.error("--optimizer sgd: stacked_conv_wta trains each stage with its own Adam")
    if args.optimizer != "adam" and args.load_model:
        p.error("--optimizer sgd trains a new model (a loaded one resumes with its saved optimizer)")
    try:
        check_optimizer_arguments(args.optimizer, args.momentum)
    except ValueError as error:
        p.error(f"--optimizer / --momentum: {error}")
    if args.probe_stages != "top" and args.model != "stacked_conv_wta":
        p.error("--probe-stages all is for stacked_conv_wta (the other models have one stage)")
    if args.zca_epsilon is not None and not args.zca_epsilon > 0:
        p.error(f"--zca-epsilon must be positive, got {args.zca_epsilon}")
    if args.zca_epsilon is not None and args.load_model:
        p.error("--zca-epsilon trains a new model (a re-probe whitens as its training run did)")
    if args.shift < 0:
        p.error(f"--shift must be >= 0, got {args.shift}")
    if args.shift and args.model == "stacked_conv_wta":
        p.error("--shift is for fc_wta / conv_wta (stacked_conv_wta trains its stages on arrays)")
    if args.shift and args.zca_epsilon is not None:
        p.error("--shift moves raw images; with --zca-epsilon the inputs are whitened first, "
                "and a moved whitened image is not the whitening of a moved image")
    if args.shift and args.load_model and not args.resume_epochs:
        p.error("--shift trains: give it with --resume-epochs, or not at all for a re-probe "
                "(which reads the training run's own)")
    if args.probe_shift < 0:
        p.error(f"--probe-shift must be >= 0, got {args.probe_shift}")
    if args.probe_shift and args.probe_copies is None:
        p.error("--probe-shift needs --probe-copies C (how many moved copies of each image)")
    if args.probe_copies is not None and not args.probe_shift:
        p.error("--probe-copies is for --probe-shift N >= 1")
    if args.probe_copies is not None and args.probe_copies < 1:
        p.error(f"--probe-copies must be >= 1, got {args.probe_copies}")
    if args.resume_epochs and (not args.load_model or args.model == "stacked_conv_wta"):
        p.error("--resume-epochs continues a --load-model fc_wta / conv_wta model")
    return args


#: What the protocol says about a model's training, read for a re-probe from its training run.
TRAINING_ARGS = ("epochs", "stage0_from", "train_limit", "fine_tune_epochs", "batch_size",
                 "learning_rate", "optimizer", "momentum", "lr_schedule", "k", "hidden_units",
                 "tied_weights", "hidden_bias", "filters", "decoder_kernel_size", "zca_epsilon",
                 "shift")


def training_args(args):
    """The arguments that trained the model a run describes: ``args``, or for a re-probe
    (``--load-model`` without ``--resume-epochs``) those recorded in the training run's
    ``wta_<tag>.json`` beside the ``.keras`` file when it is there (a re-probe cannot repeat a
    stacked model's decoder kernels, stage-0 source or schedule on its command line)."""
    if not args.load_model or args.resume_epochs:
        return args
    path = os.path.splitext(args.load_model)[0] + ".json"
    if not os.path.isfile(path):
        return args
    with open(path) as f:
        recorded = json.load(f).get("args", {})
    return argparse.Namespace(**{**vars(args), **{key: recorded[key] for key in TRAINING_ARGS
                                                  if key in recorded}})


def epochs_text(args):
    """``5``, ``5 per stage`` or ``2+10`` (stacked, stage by stage), after the model stage 0
    started from if any."""
    if isinstance(args.epochs, list):
        text = "+".join(map(str, args.epochs))
    else:
        text = f"{args.epochs} per stage" if args.model == "stacked_conv_wta" else str(args.epochs)
    if args.stage0_from:
        text = f"(stage 0 from {os.path.basename(args.stage0_from)}) " + text
    return text


def decoder_note(args):
    """``decoder kernels 11+7 (the paper's: 11x11), `` for conv runs whose decoders differ."""
    sizes = [int(v) for v in np.atleast_1d(args.decoder_kernel_size)]
    if args.model == "fc_wta" or all(size == 11 for size in sizes):
        return ""
    return f"decoder kernels {'+'.join(map(str, sizes))} (the paper's: 11x11), "


def input_whitening(args, x_train):
    """The ZCA whitening the model's inputs go through, or None: fitted on the autoencoder's
    training images for a new model with ``--zca-epsilon``; for ``--load-model``, the one saved
    beside the model (``wta_<tag>_zca.npz``), whose epsilon then goes into ``args``."""
    if args.load_model:
        path = os.path.splitext(args.load_model)[0] + "_zca.npz"
        if not os.path.isfile(path):
            return None
        zca = ZCAWhitening.load(path)
        args.zca_epsilon = zca.epsilon
        return zca
    if args.zca_epsilon is None:
        return None
    return ZCAWhitening(args.zca_epsilon).fit(
        x_train[:args.train_limit] if args.train_limit else x_train)


def whitening_note(args):
    """The protocol's words for ``--zca-epsilon`` (nothing without it)."""
    if args.zca_epsilon is None:
        return ""
    return (f"inputs ZCA-whitened (epsilon {args.zca_epsilon:g}, fitted on the autoencoder's "
            f"training images; not in the paper), ")


def shift_note(args):
    """The protocol's words for ``--shift`` (nothing without it; a re-probe of a model whose
    training record predates the flag keeps the command's 0: unshifted)."""
    if not args.shift:
        return ""
    return (f"autoencoder trained on images moved by up to {args.shift} px at random every epoch "
            f"(augmentation, not in the paper), ")


def probe_shift_note(args):
    """The protocol's words for ``--probe-shift`` (nothing without it)."""
    if not args.probe_shift:
        return ""
    copies = f"{args.probe_copies} cop{'y' if args.probe_copies == 1 else 'ies'}"
    return (f"probe fitted on the labelled images plus {copies} of each moved by up to "
            f"{args.probe_shift} px at random (augmentation, not in the paper; its "
            f"cross-validation scores unmoved images, the test set is unmoved), ")


def probe_stages_note(args):
    """The protocol's words for ``--probe-stages all`` (nothing for the default)."""
    if args.probe_stages == "top":
        return ""
    return "probe on every stage's pooled features concatenated (not the top stage's alone), "


def build(args, sparse=True):
    k = args.k if sparse else None
    if args.model == "fc_wta":
        return FCWTA(hidden_units=args.hidden_units, k=k, tied_weights=args.tied_weights,
                     hidden_bias=args.hidden_bias)
    if args.model == "conv_wta":
        return ConvWTA(filters=args.filters, k=k, spatial_sparsity=sparse,
                       decoder_kernel_size=args.decoder_kernel_size)
    return StackedConvWTA(filters=args.filters, k=args.k,
                          decoder_kernel_size=args.decoder_kernel_size)


def probe_features(model, args, images, pool):
    """The features the probe sees: the encoder's (pooled) output, or with ``--probe-stages
    all`` every stage's pooled maps, concatenated from the lowest stage up."""
    if args.probe_stages == "top":
        return evaluation.extract_features(model, images, pool_size=pool)
    return evaluation.all_stage_features(model, images, pool_size=pool)  # TypeError if unstacked


def checkpoint_progress(folder):
    """The epochs each stage's checkpoint under ``folder`` holds (empty when there is none)."""
    if not folder or not os.path.isdir(folder):
        return {}
    states = {name: EpochCheckpoint(os.path.join(folder, name)).read_state()
              for name in sorted(os.listdir(folder))}
    return {name: state["epoch"] for name, state in states.items() if state}


def train(model, args, x_train, seed, epochs=None, compile=True, checkpoint_dir=None):
    start = time.perf_counter()
    epochs = args.epochs if epochs is None else epochs
    if isinstance(model, StackedConvWTA):
        histories = train_greedily(model, x_train, epochs=epochs, batch_size=args.batch_size,
                                   fine_tune_epochs=args.fine_tune_epochs,
                                   learning_rate=args.learning_rate,
                                   lr_schedule=args.lr_schedule, verbose=2,
                                   checkpoint_dir=checkpoint_dir)
        losses = {name: history["loss"][-1] for name, history in histories.items()}
    else:
        if compile:
            steps = epochs * (len(x_train) // args.batch_size)  # partial batches are dropped
            model.compile(optimizer=make_optimizer(
                args.optimizer, learning_rate(args.learning_rate, args.lr_schedule, steps),
                momentum=args.momentum))
        data = make_dataset(x_train, np.zeros(len(x_train)), batch_size=args.batch_size,
                            seed=seed, target="image", shift=args.shift)
        history = resumable_fit(model, data, epochs, checkpoint_dir and os.path.join(
            checkpoint_dir, "fit"), verbose=2, shuffle=False)  # data shuffles
        losses = {"final_mse": float(history["loss"][-1])}
    return losses, time.perf_counter() - start


def filter_tiles(model):
    if isinstance(model, FCWTA):
        return model.learned_filters()  # (784, hidden): decoder weights, one 28x28 picture per unit
    if isinstance(model, ConvWTA):
        return model.learned_filters()  # (11, 11, 1, maps): decoder kernels
    kernel = keras.ops.convert_to_numpy(model.decoder.get_layer("stage0_decoder").kernel)
    return kernel.mean(axis=2, keepdims=True)


def filter_images(kernel):
    """(kh, kw, in, out) conv kernels or (784, units) dense weights -> (n, h, w) pictures."""
    kernel = np.asarray(kernel)
    if kernel.ndim == 4:
        return kernel.mean(axis=2).transpose(2, 0, 1)
    side = int(round(np.sqrt(kernel.shape[0])))
    return kernel.T.reshape(-1, side, side)


def save_filter_comparison(tiles_by_name, path, max_filters=64):
    """The filter grids of several models side by side in one PNG (each tile rescaled)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tiles_by_name), figsize=(5 * len(tiles_by_name), 5.4))
    axes = np.atleast_1d(axes)
    for ax, (name, kernel) in zip(axes, tiles_by_name.items()):
        ax.imshow(visualize.tile(filter_images(kernel)[:max_filters], normalize="each"),
                  cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(name, fontsize=10)
        ax.axis("off")
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def main(argv=None):
    args = parse_args(argv)
    tag = args.tag or args.model
    os.makedirs(args.out_dir, exist_ok=True)
    wall_start, where = time.perf_counter(), machine()
    x_train_u8, y_train = load_arrays("mnist", "train", data_dir=args.data_dir)
    x_test_u8, y_test = load_arrays("mnist", "test", data_dir=args.data_dir)
    x_train, x_test = to_float_images(x_train_u8), to_float_images(x_test_u8)
    raw_train = x_train  # what --probe-shift moves (before any whitening)
    zca = input_whitening(args, x_train)
    if zca is not None:
        x_train, x_test = zca.transform(x_train), zca.transform(x_test)
    ae_train = x_train[:args.train_limit] if args.train_limit else x_train
    pool = None if args.pool_size == "none" else args.pool_size

    runs = []
    filters = {}
    for seed in args.seeds:
        keras.utils.set_random_seed(seed)
        if args.load_model:
            model = keras.saving.load_model(args.load_model)
            run = {"seed": seed, "loaded_from": os.path.basename(args.load_model), "probe": {}}
            if args.resume_epochs:
                losses, train_s = train(model, args, ae_train, seed, epochs=args.resume_epochs,
                                        compile=model.optimizer is None)
                run.update(resumed_epochs=args.resume_epochs, train_losses=losses,
                           train_seconds=round(train_s, 1))
        else:
            model = build(args)
            if args.stage0_from:
                model.load_stage(0, keras.saving.load_model(args.stage0_from))
            folder = args.checkpoint_dir and os.path.join(args.checkpoint_dir, f"seed{seed}")
            resumed = checkpoint_progress(folder)
            losses, train_s = train(model, args, ae_train, seed, checkpoint_dir=folder)
            run = {"seed": seed, "train_losses": losses, "train_seconds": round(train_s, 1),
                   "probe": {}}
            if resumed:  # train_seconds then counts only the epochs this process trained
                run["resumed_from_checkpoint"] = resumed
        start = time.perf_counter()
        train_features = probe_features(model, args, x_train, pool)
        test_features = probe_features(model, args, x_test, pool)
        run["encode_seconds"] = round(time.perf_counter() - start, 1)
        run["feature_activity"] = evaluation.feature_activity(train_features)
        print(f"seed {seed}: {run['feature_activity']}", flush=True)
        copy_features = None
        if args.probe_shift:
            start = time.perf_counter()
            moved = shifted_copies(raw_train, args.probe_shift, args.probe_copies, seed=seed)
            copy_features = [probe_features(model, args, zca.transform(m) if zca is not None else m,
                                           pool)
                             for m in moved]
            del moved
            run["probe_copies_encode_seconds"] = round(time.perf_counter() - start, 1)
        for spec in args.labels:
            result = evaluation.probe_features(train_features, y_train, test_features, y_test,
                                               num_labels=evaluation.label_budget(spec),
                                               epochs=args.probe_epochs, l2=args.probe_l2,
                                               schedule=args.probe_schedule,
                                               folds=args.probe_folds, label_seed=seed,
                                               seed=seed, train_copies=copy_features)
            run["probe"][spec] = {**result, "pool_size": pool}
            print(f"seed {seed} labels {spec}: test error {100 * result['test_error']:.2f} %",
                  flush=True)
        runs.append(run)
        if seed == args.seeds[0]:
            filters[f"{args.model} (k={args.k})"] = filter_tiles(model)
            visualize.save_filters(filter_tiles(model), os.path.join(
                args.out_dir, f"wta_{tag}_filters_sparse.png"), max_filters=64,
                title=f"{args.model}, k={args.k}")
            if args.save_model and (args.resume_epochs or not args.load_model):
                save_whole(model, os.path.join(args.out_dir, f"wta_{tag}.keras"))
                if zca is not None:  # what the saved model's inputs must go through
                    zca.save(os.path.join(args.out_dir, f"wta_{tag}_zca.npz"))

    plain = None
    if args.compare_plain and args.model == "conv_wta":
        keras.utils.set_random_seed(args.seeds[0])
        plain_model = build(args, sparse=False)
        losses, train_s = train(plain_model, args, ae_train, args.seeds[0])
        plain = {"train_losses": losses, "train_seconds": round(train_s, 1)}
        filters["same network, no sparsity"] = filter_tiles(plain_model)
        visualize.save_filters(filter_tiles(plain_model), os.path.join(
            args.out_dir, f"wta_{tag}_filters_plain.png"), max_filters=64,
            title="same network, no sparsity")
    picture = save_filter_comparison(filters, os.path.join(args.out_dir, f"wta_{tag}_filters.png"))

    trained = training_args(args)
    trained_images = len(x_train[:trained.train_limit] if trained.train_limit else x_train)
    errors = {spec: [100 * r["probe"][spec]["test_error"] for r in runs] for spec in args.labels}
    summary = {spec: {"mean": float(np.mean(v)), "std": float(np.std(v)), "runs": v}
               for spec, v in errors.items()}
    record = {
        "model": args.model,
        "command": command_line(argv, backend=keras.backend.backend()),
        "backend": keras.backend.backend(),
        "keras_ae": keras_ae.__version__,
        "machine": where,
        "config": model.get_config(),
        # a re-probe records the training run's own arguments (TRAINING_ARGS) with its probe's
        "args": vars(trained),
        "data": {"autoencoder_train_images": trained_images, "probe_train_images": len(x_train),
                 "test_images": len(x_test)},
        "runs": runs,
        "test_error_percent": summary,
        "paper_test_error_percent": PAPER[args.model],
        "paper_note": PAPER_NOTE[args.model],
        "plain_network": plain,
        "filters_png": os.path.basename(picture),
        "wall_seconds": round(time.perf_counter() - wall_start, 1),
        "protocol_gap": (
            f"shortened: {epochs_text(trained)} autoencoder epochs on {trained_images} images "
            f"(the paper trains for hundreds of epochs on 60,000; "
            f"{describe_optimizer(trained.optimizer, trained.momentum)}, "
            f"{trained.lr_schedule} learning rate), "
            + decoder_note(trained)
            + whitening_note(trained)
            + shift_note(trained)
            + probe_stages_note(args)
            + probe_shift_note(args)
            + f"softmax regression with Adam ({args.probe_schedule} learning rate) for "
            f"{args.probe_epochs} epochs instead of a linear SVM ("
            + (("weight decay chosen on a held-out sixth of the labelled examples"
                if args.probe_folds == 1 else "weight decay chosen by "
                f"{args.probe_folds}-fold cross-validation over the labelled examples")
               if args.probe_l2 == "auto" else f"weight decay {args.probe_l2:g}")
            + f"), {len(args.seeds)} seed(s)."
            + (f" Model loaded from {os.path.basename(args.load_model)}"
               + (f" and trained {args.resume_epochs} more epochs." if args.resume_epochs
                  else "; its training as recorded beside it." if trained is not args
                  else "; its training as this command repeats it.")
               if args.load_model else "")),
    }
    rows = ["| Model | Dataset | Labels | Linear-probe error % (obtained) | Reference % | "
            "Run | Script |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for spec, s in summary.items():
        ref = PAPER[args.model].get(spec, "—")
        obtained = f"{s['mean']:.2f}" + (f" ± {s['std']:.2f}" if len(args.seeds) > 1 else "")
        rows.append(
            f"| {args.model} | MNIST | {spec} | {obtained} | {ref} | {epochs_text(trained)} ep. on "
            f"{trained_images} images, {len(args.seeds)} seed(s), {keras.backend.backend()}, "
            f"2-core CPU, {record['wall_seconds']:.0f} s | `examples/wta_mnist.py` |")
    activity = "Feature activity on the training images (sparsity off): " + "; ".join(
        f"seed {r['seed']}: {r['feature_activity']['never_active']} of "
        f"{r['feature_activity']['features']} features never active, median feature active on "
        f"{100 * r['feature_activity']['median_active_fraction']:.1f} % of images"
        for r in runs) + "."
    write_report(
        os.path.join(args.out_dir, f"wta_{tag}"), record,
        f"# {args.model} on MNIST ({tag})\n\n`{record['command']}`\n\n" + "\n".join(rows)
        + f"\n\n{record['protocol_gap']}\n\n{activity}\n\nPaper: {PAPER_NOTE[args.model]}.\n\n"
        f"Filters: `{record['filters_png']}`.\n", indent=2, default=str, echo=False)
    print("\n".join(rows))
    return record


if __name__ == "__main__":
    main()
