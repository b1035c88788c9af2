"""The base class every model of the zoo derives from.

A zoo model is a *functional* ``keras.Model`` built in ``__init__`` from plain config fields
(the keras-hub pattern): ``get_config`` returns exactly those fields and ``from_config`` calls
the constructor again, so a ``.keras`` file reloads into the same class. The encoder is a nested
functional model named ``"encoder"`` (``model.get_layer("encoder")``, also ``model.encoder``), so
it survives saving and can be exported on its own.
"""

import keras

from keras_ae import checks
from keras_ae.training.checkpoint import resumable_fit
from keras_ae.training.greedy import train_greedily
from keras_ae.training.schedules import learning_rate as scheduled_rate


def as_list(value):
    """Tuples -> lists, so configs survive a JSON round trip unchanged."""
    if isinstance(value, (list, tuple)):
        return [as_list(v) for v in value]
    return value


class ZooModel(keras.Model):
    """Common behaviour of the zoo's models.

    Subclasses build their graph, call ``super().__init__(inputs=..., outputs=..., **kwargs)``,
    then ``self._store_config(...)`` with their constructor arguments.
    """

    #: ``compile()`` defaults, overridable per subclass.
    default_learning_rate = 1e-3
    default_loss = "mse"
    default_metrics = None
    #: what ``model.fit`` expects as target, given a ``(images, labels)`` pipeline:
    #: ``"image"`` (reconstruct the input) or ``"label"``.
    fit_target = "image"
    #: for models with dict outputs: the key holding the input reconstruction.
    reconstruction_key = None
    #: for encoders with dict outputs: the key holding the features (probes, search).
    feature_key = None
    #: whether the model reconstructs its input (``reconstruct`` gives images).
    reconstructs = True
    #: whether the loss ignores examples labelled -1 (semi-supervised training).
    accepts_unlabelled = False
    #: the options of this model's training procedure beyond those of every model
    #: (:meth:`fit_procedure`): name -> one-line help. ``keras-ae train`` offers them as flags.
    procedure_options = {}

    def _store_config(self, **config):
        self._zoo_config = {k: as_list(v) for k, v in config.items()}

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._zoo_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    @property
    def encoder(self):
        return self.get_layer("encoder")

    @property
    def decoder(self):
        return self.get_layer("decoder")

    def compile(self, optimizer=None, loss="auto", metrics="auto", **kwargs):
        """``keras.Model.compile`` with this model's defaults (Adam and its loss)."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(self.default_learning_rate)
        if isinstance(loss, str) and loss == "auto":
            loss = self.default_loss
        if isinstance(metrics, str) and metrics == "auto":
            metrics = self.default_metrics
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras skips this for models overriding compile(); ours only adds defaults, so the
        # saved compile arguments (optimizer state included) can be restored as usual.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit_pairs(self, dataset):
        """Maps a ``(images, labels)`` pipeline to what ``fit`` on this model expects."""
        if self.fit_target == "image":
            return dataset.map(lambda x, y: (x, x))
        return dataset

    def reconstruct(self, images, batch_size=256):
        """Reconstructions of ``images`` at inference (corruption off): ``predict``'s output,
        or its ``reconstruction_key`` entry. The WTA models override it to decode codes as
        sparse as in training (``keras_ae.models.wta.SparseReconstruction``): their decoders
        never saw the dense inference features."""
        out = self.predict(images, batch_size=batch_size, verbose=0)
        if self.reconstruction_key is not None:
            out = out[self.reconstruction_key]
        return out

    def reconstruction_target(self, images):
        """What :meth:`reconstruct` is trained to give back for ``images`` (the images; DrSAE:
        the images scaled to unit L2 norm): the reference of a reconstruction error."""
        return images

    def encode(self, images, batch_size=256):
        """Codes of ``images`` from the encoder at inference."""
        return self.encoder.predict(images, batch_size=batch_size, verbose=0)

    def save_analysis(self, images, labels, folder):
        """Draws the family's own analysis pictures of ``images`` into ``folder`` (DrSAE: its
        unit analysis); returns ``{"files": {name: path}, "skipped": {name: why}}`` (both
        empty for most models)."""
        return {"files": {}, "skipped": {}}

    # ------------------------------------------------------------------ training procedure

    def _check_procedure_options(self, options):
        unknown = sorted(set(options) - set(self.procedure_options))
        if unknown:
            allowed = ", ".join(sorted(self.procedure_options)) or "none"
            raise ValueError(f"{type(self).__name__}'s training procedure has no option "
                             f"{', '.join(unknown)} (its options: {allowed}).")

    def procedure(self, epochs, **options):
        """How :meth:`fit_procedure` trains this model for ``epochs``: a JSON-ready dict with
        ``kind`` and a one-line ``description`` (recorded in a run's metrics)."""
        self._check_procedure_options(options)
        checks.positive_int("epochs", epochs)
        return {"kind": "fit", "epochs": epochs, "description": f"{epochs} epoch(s)"}

    def compile_for_run(self, learning_rate=None, lr_schedule="constant", total_steps=None):
        """Compiles with Adam at ``learning_rate`` (default: the model's) on ``lr_schedule``."""
        rate = self.default_learning_rate if learning_rate is None else learning_rate
        if lr_schedule == "constant" and learning_rate is None:
            self.compile()
        else:
            self.compile(optimizer=keras.optimizers.Adam(
                scheduled_rate(rate, lr_schedule, total_steps)))

    def fit_procedure(self, data, epochs, validation_data=None, learning_rate=None,
                      lr_schedule="constant", checkpoint_dir=None, callbacks=(), verbose=1,
                      **options):
        """Trains the model by its paper's procedure (here: one ``fit``; DrSAE: two phases;
        the stacks: greedily) and returns its history as a JSON-ready dict.

        Args:
            data: a ``tf.data`` pipeline of ``(images, labels)`` batches (it shuffles itself;
                :func:`keras_ae.data.make_dataset`).
            epochs: the run's epochs (for the stacks: per stage).
            validation_data: an ``(images, labels)`` pipeline for per-epoch ``val_*`` figures.
            learning_rate: Adam's (initial) rate; ``None``: the model's default.
            lr_schedule: ``"constant"`` or ``"cosine"`` (annealed to zero over the run).
            checkpoint_dir: checkpoint every epoch there, and resume from it on a rerun.
            options: this model's :attr:`procedure_options`.
        """
        self.procedure(epochs, **options)
        self.compile_for_run(learning_rate, lr_schedule, epochs * _steps(data, lr_schedule))
        return resumable_fit(self, self.fit_pairs(data), epochs, checkpoint_dir,
                             callbacks=list(callbacks), verbose=verbose,
                             validation_data=validation_data and self.fit_pairs(validation_data),
                             shuffle=False)  # the pipelines shuffle themselves


def _steps(data, lr_schedule):
    """Batches per epoch of a pipeline (what a schedule needs; 0 if unknown and not needed)."""
    steps = int(data.cardinality()) if hasattr(data, "cardinality") else -1
    if steps < 1:
        if lr_schedule != "constant":
            raise ValueError(f"lr_schedule {lr_schedule!r} needs data with a known, finite "
                             f"number of batches per epoch, got cardinality {steps}.")
        return 0
    return steps


def encoder_of(model):
    """The part of ``model`` that computes features: a zoo model's ``encoder`` (a nested layer,
    or MAE's view of its layers), else ``model`` itself (any single-input Keras model). A
    ``TypeError`` for anything but a ``keras.Model``."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model (a zoo model or an encoder), got "
                        f"{type(model).__name__}.")
    try:
        encoder = model.encoder
    except (AttributeError, ValueError):  # a plain model, or a zoo class without one
        return model
    return encoder if isinstance(encoder, keras.Model) else model


def config_fields(cls):
    """The config fields of the zoo model class ``cls``: its constructors' named arguments."""
    import inspect

    fields = set()
    for klass in cls.__mro__:
        if klass is ZooModel or not issubclass(klass, ZooModel) or "__init__" not in vars(klass):
            continue
        for name, parameter in inspect.signature(klass.__init__).parameters.items():
            if parameter.kind not in (parameter.VAR_KEYWORD, parameter.VAR_POSITIONAL) \
                    and name != "self":
                fields.add(name)
    return fields


def check_config_fields(cls, config):
    """Raises a ``ValueError`` naming every key of ``config`` that ``cls``'s constructor does
    not take, and the fields it does take."""
    fields = config_fields(cls)
    base = {"name", "trainable", "dtype"}
    unknown = sorted(set(config) - fields - base)
    if unknown:
        raise ValueError(f"{cls.__name__} has no config field "
                         f"{', '.join(repr(u) for u in unknown)}; its fields are: "
                         f"{', '.join(sorted(fields))}.")
    return config


class StackProcedure:
    """The procedure of the stacked models: greedy pre-training, ``epochs`` per stage
    (:func:`keras_ae.training.train_greedily`), then ``fine_tune_epochs`` of end-to-end
    fine-tuning of the whole stack on image reconstruction.

    By default ``fine_tune_epochs`` is ``epochs``: ``keras-ae train MODEL --epochs 3`` trains
    each stage 3 epochs, then the stack 3 epochs end to end (a stack of S stages makes S + 1
    passes of ``epochs`` over the data, each greedy one through a part of the network). Greedy
    stages alone leave a poor end-to-end reconstruction: no stage is trained to reconstruct the
    images through the stages above it (784-1000-500-250-30 on MNIST, 3 epochs per stage: test
    MSE 0.037, twice PCA-30's; ``stacked_conv_wta``: worse than the mean image).
    ``fine_tune_epochs=0`` is the papers' greedy-only protocol (the reproduction rows).
    ``stacked_conv_wta`` fine-tunes its decoders only (``fine_tune_trains = "decoders"``):
    fine-tuning its encoder through every stage's sparsity ruins its features.
    """

    procedure_options = {"fine_tune_epochs": "end-to-end epochs after the greedy stages "
                                             "(default: --epochs; 0: greedy stages only)"}

    @staticmethod
    def _fine_tune_epochs(epochs, fine_tune_epochs):
        return epochs if fine_tune_epochs is None else fine_tune_epochs

    def procedure(self, epochs, fine_tune_epochs=None):
        checks.positive_int("epochs", epochs)
        fine_tune_epochs = self._fine_tune_epochs(epochs, fine_tune_epochs)
        checks.non_negative_int("fine_tune_epochs", fine_tune_epochs)
        frozen = getattr(self, "fine_tune_trains", "all") == "decoders"
        tune = ("no end-to-end fine-tuning" if not fine_tune_epochs else
                f"{fine_tune_epochs} end-to-end epoch(s) of the decoders (encoder frozen)"
                if frozen else f"{fine_tune_epochs} end-to-end epoch(s)")
        return {"kind": "greedy", "epochs_per_stage": epochs, "fine_tune_epochs": fine_tune_epochs,
                "description": f"greedily, {epochs} epoch(s) per stage, then {tune}"}

    def fit_procedure(self, data, epochs, validation_data=None, learning_rate=None,
                      lr_schedule="constant", checkpoint_dir=None, callbacks=(), verbose=1,
                      fine_tune_epochs=None):
        """Greedy stages, ``epochs`` each, then ``fine_tune_epochs`` (default ``epochs``) end to
        end (see the class); ``validation_data`` is not used."""
        plan = self.procedure(epochs, fine_tune_epochs=fine_tune_epochs)
        return train_greedily(
            self, data, epochs=epochs, fine_tune_epochs=plan["fine_tune_epochs"],
            learning_rate=self.default_learning_rate if learning_rate is None else learning_rate,
            lr_schedule=lr_schedule, callbacks=list(callbacks), verbose=verbose,
            checkpoint_dir=checkpoint_dir)
