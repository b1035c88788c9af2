"""keras-tuner for every model of the zoo: default search spaces from the papers' knobs, and a
representation-learning objective (the linear-probe accuracy on a validation split).

    import keras_tuner, keras_ae
    hypermodel = keras_ae.tuning.hypermodel("fc_wta", objective="probe_accuracy",
                                            num_labels=1000, input_shape=(28, 28, 1))
    tuner = keras_tuner.RandomSearch(hypermodel, objective=hypermodel.objective, max_trials=10,
                                     directory="runs/tuning", project_name="fc_wta")
    tuner.search(x_train, y_train, validation_data=(x_val, y_val), epochs=5)
    best_config, best_rate = hypermodel.values(tuner.get_best_hyperparameters(1)[0])

:func:`hypermodel` searches :data:`SPACES` ``[name]`` (every registered model has one; a test
checks that each field is a config field of its model), updated with the caller's ``space``;
keyword arguments fix fields (``input_shape``, tiny sizes for a quick run), taking them out of the
search. Its ``fit`` takes **images and class labels** (``x``, ``y``, ``validation_data=(x_val,
y_val)``, arrays), trains each trial by its model's own procedure (``ZooModel.fit_procedure``:
one fit, DrSAE's two phases, the stacks' greedy stages) and scores the trained model on the
validation split: ``val_loss`` (the model's own loss) and, with ``objective="probe_accuracy"``,
the accuracy of a linear probe (:func:`keras_ae.evaluation.probe_features`) trained on the
encoder's features of ``num_labels`` training examples.

:class:`RegistryHyperModel` is the bare form: a search space written by the caller, and
keras-tuner's own ``fit`` (``model.fit`` on whatever ``search`` is given).

A search space maps a config field (or ``learning_rate``) to:

* ``("choice", [values])``: ``hp.Choice`` (lists of lists, e.g. layer sizes, are allowed);
* ``("float", low, high, log)``: ``hp.Float``, log-uniform if ``log`` is true;
* ``("int", low, high)``: ``hp.Int``;
* a list: a choice; ``(low, high)`` or ``(low, high, "log")``: ``hp.Int`` if both ends are ints,
  else ``hp.Float`` (the older spelling, still read);
* anything else: a fixed value.
"""

import json

import keras
import keras_tuner
import numpy as np

from keras_ae import evaluation
from keras_ae.data import make_dataset
from keras_ae.models import registry
from keras_ae.models.base import check_config_fields

LEARNING_RATE = "learning_rate"

#: The objectives :func:`hypermodel` can score, as keras-tuner objectives.
OBJECTIVES = {"val_loss": keras_tuner.Objective("val_loss", "min"),
              "probe_accuracy": keras_tuner.Objective("probe_accuracy", "max")}


def _rate(low=1e-4, high=1e-2):
    return ("float", low, high, True)


_DENSE = {"hidden_units": ("choice", [[256], [512, 256], [1000, 500, 250]]),
          "code_size": ("choice", [16, 32, 64])}
_SWWAE = {"filters": ("choice", [[32, 64], [64, 128], [32, 64, 128]]),  # depth and width
          "lambda_rec": ("float", 0.1, 10.0, True),                    # λ_L2rec
          "lambda_m": ("float", 0.01, 1.0, True),                      # λ_L2M
          LEARNING_RATE: _rate()}
_WTA_K = ("float", 0.01, 0.2, True)  # the lifetime sparsity rate (papers: 5%)

#: The default search space of every registered model: the knobs its paper varies, code sizes
#: and the learning rate. Every combination is a valid config at the models' default input shape
#: (28, 28, 1) and at 8 x 8 (MAE: every width divisible by every head count and by 4; the
#: conv models: two pooling stages at most). The first choice and the lower ends are the
#: smallest models (keras-tuner's default values).
SPACES = {
    "dense_autoencoder": {**_DENSE, LEARNING_RATE: _rate()},
    "denoising_autoencoder": {**_DENSE, "noise": ("choice", ["masking", "gaussian"]),
                              "noise_level": ("float", 0.1, 0.5, False),
                              LEARNING_RATE: _rate()},
    "linear_autoencoder": {"code_size": ("choice", [8, 16, 32, 64]), LEARNING_RATE: _rate()},
    "stacked_autoencoder": {"units": ("choice", [[256, 64], [500, 250, 30],
                                                 [1000, 500, 250, 30]]),
                            LEARNING_RATE: _rate()},
    "conv_autoencoder": {"filters": ("choice", [[16, 32], [32, 64], [64, 128]]),
                         "decoder": ("choice", ["transpose", "upsampling"]),
                         LEARNING_RATE: _rate()},
    "fc_wta": {"hidden_units": ("choice", [500, 1000, 2000]), "k": _WTA_K,
               LEARNING_RATE: _rate()},
    "conv_wta": {"filters": ("choice", [[64, 64], [128, 128]]), "k": _WTA_K,
                 LEARNING_RATE: _rate()},
    "stacked_conv_wta": {"filters": ("choice", [[64, 128], [128, 128], [128, 512]]), "k": _WTA_K,
                         LEARNING_RATE: _rate()},
    "swwae": dict(_SWWAE),
    "swwae_what_only": dict(_SWWAE),
    "swwae_soft": {**_SWWAE, "beta": ("float", 10.0, 1000.0, True)},
    "drsae": {"units": ("choice", [100, 200, 400]),
              "steps": ("int", 2, 11),                      # T, the unrolled iterations
              "sparsity": ("float", 1e-3, 0.1, True),       # λ of the L1 term
              LEARNING_RATE: _rate(1e-5, 1e-3)},
    "mae": {"width": ("choice", [64, 128, 192]),
            "num_heads": ("choice", [2, 4]),
            "depth": ("int", 2, 8),
            "mask_ratio": ("float", 0.5, 0.9, False),
            "decoder_depth": ("int", 1, 4),
            LEARNING_RATE: _rate()},
    "text_autoencoder": {"hidden_units": ("choice", [[250, 125], [500, 250, 125]]),
                         "code_size": ("choice", [10, 32, 128]),
                         LEARNING_RATE: _rate()},
}

_KINDS = {"choice": 2, "float": 4, "int": 3}


def _is_spec(spec):
    return isinstance(spec, tuple) and bool(spec) and isinstance(spec[0], str) \
        and spec[0] in _KINDS


def _check_range(name, low, high):
    if low >= high:
        raise ValueError(f"search space {name!r}: low {low} must be below high {high}.")


def _hp_value(hp, name, spec):
    if _is_spec(spec):
        kind = spec[0]
        if len(spec) != _KINDS[kind]:
            raise ValueError(f"search space {name!r}: {kind!r} takes {_KINDS[kind] - 1} "
                             f"argument(s), got {spec[1:]!r}.")
        if kind == "choice":
            if not isinstance(spec[1], (list, tuple)):
                raise ValueError(f"search space {name!r}: 'choice' takes a list of values.")
            return _hp_value(hp, name, list(spec[1]))
        _check_range(name, *spec[1:3])
        if kind == "int":
            return hp.Int(name, int(spec[1]), int(spec[2]))
        return hp.Float(name, float(spec[1]), float(spec[2]),
                        sampling="log" if spec[3] else "linear")
    if isinstance(spec, list):
        if not spec:
            raise ValueError(f"search space {name!r}: an empty list of choices.")
        if all(isinstance(v, (int, float, str, bool)) for v in spec):
            return hp.Choice(name, spec)
        # hp.Choice takes scalars only: choose among the JSON spellings of structured values.
        return json.loads(hp.Choice(name, [json.dumps(v) for v in spec]))
    if isinstance(spec, tuple) and len(spec) in (2, 3):
        low, high = spec[:2]
        sampling = spec[2] if len(spec) == 3 else "linear"
        if sampling not in ("linear", "log"):
            raise ValueError(f"search space {name!r}: sampling must be 'linear' or 'log', got {sampling!r}.")
        _check_range(name, low, high)
        if isinstance(low, int) and isinstance(high, int):
            return hp.Int(name, low, high, sampling=sampling)
        return hp.Float(name, float(low), float(high), sampling=sampling)
    return spec


class RegistryHyperModel(keras_tuner.HyperModel):
    """A HyperModel building the registered model ``name`` from a search space over its config.

    Args:
        name: a registered model name (``keras_ae.models.names()``).
        space: field -> choices / range / fixed value (see the module docstring).
        compile_kwargs: extra arguments for ``model.compile`` (the model's defaults otherwise).
        **fixed: config fields fixed for every trial (e.g. ``input_shape``).
    """

    def __init__(self, name, space=None, compile_kwargs=None, **fixed):
        super().__init__(name=name, tunable=True)
        self.model_cls = registry.get(name)
        self.model_name = name
        self.space = dict(space or {})
        self.compile_kwargs = dict(compile_kwargs or {})
        self.fixed = fixed
        clash = set(self.space) & set(self.fixed)
        if clash:
            raise ValueError(f"fields both searched and fixed: {sorted(clash)}.")
        check_config_fields(self.model_cls, {field: None for field in [*self.fixed, *self.space]
                                             if field != LEARNING_RATE})

    def values(self, hp):
        """``(config, learning_rate)`` of a trial's ``hp``: the model's config fields (the fixed
        ones included) and Adam's rate (``None``: not searched, the model's default)."""
        config = dict(self.fixed)
        learning_rate = None
        for field, spec in self.space.items():
            value = _hp_value(hp, field, spec)
            if field == LEARNING_RATE:
                learning_rate = value
            else:
                config[field] = value
        return config, learning_rate

    def build(self, hp):
        config, learning_rate = self.values(hp)
        model = registry.build(self.model_name, **config)
        kwargs = dict(self.compile_kwargs)
        if learning_rate is not None:
            kwargs["optimizer"] = keras.optimizers.Adam(learning_rate)
        model.compile(**kwargs)
        return model


class ZooHyperModel(RegistryHyperModel):
    """The hypermodel :func:`hypermodel` returns (see the module docstring and its arguments)."""

    def __init__(self, name, space=None, objective="val_loss", num_labels=1000, batch_size=128,
                 seed=0, probe=None, defaults=True, compile_kwargs=None, **fixed):
        if objective not in OBJECTIVES:
            raise ValueError(f"objective must be one of {sorted(OBJECTIVES)}, got {objective!r}.")
        registry.get(name)  # an unknown name fails here, before the spaces are looked at
        merged = {field: spec for field, spec in SPACES[name].items()
                  if field not in fixed} if defaults else {}
        merged.update(space or {})
        super().__init__(name, space=merged, compile_kwargs=compile_kwargs, **fixed)
        if num_labels is not None and (isinstance(num_labels, bool)
                                       or not isinstance(num_labels, int) or num_labels < 1):
            raise ValueError(f"num_labels must be None (all) or a positive int, got "
                             f"{num_labels!r}.")
        self.objective_name = objective
        self.objective = OBJECTIVES[objective]
        self.num_labels = num_labels
        self.batch_size = batch_size
        self.seed = seed
        self.probe = dict(probe or {})

    def build(self, hp):
        keras.utils.set_random_seed(self.seed)
        return super().build(hp)

    def fit(self, hp, model, x, y, validation_data=None, epochs=1, callbacks=(), verbose=1,
            **options):
        """Trains ``model`` on images ``x`` with class labels ``y`` by its own procedure
        (``options``: its ``procedure_options``, e.g. DrSAE's ``unsupervised_epochs``) and
        returns its figures on ``validation_data=(x_val, y_val)``: ``val_*`` (the model's
        loss and metrics) and, for the probe objective, ``probe_accuracy``."""
        if validation_data is None:
            raise ValueError("a search needs validation_data=(images, labels): the objective "
                             "is measured on it.")
        x_val, y_val = validation_data
        x, y, x_val, y_val = (np.asarray(a) for a in (x, y, x_val, y_val))
        _, learning_rate = self.values(hp)
        # Hyperband continues a trial from an earlier one's weights: the epochs left to train.
        epochs = max(1, epochs - options.pop("initial_epoch", 0))
        # keras-tuner's checkpoint of the trial's best epoch: saved here, once, after the
        # whole procedure (a greedy stack's stages are other models).
        # (keras-tuner 1.4 keeps the class private: recognised by its name.)
        saves = [c for c in callbacks if type(c).__name__ == "SaveBestEpoch"]
        others = [c for c in callbacks if c not in saves]
        train = make_dataset(x, y, batch_size=self.batch_size, seed=self.seed)
        history = model.fit_procedure(train, epochs, learning_rate=learning_rate,
                                      callbacks=others, verbose=verbose, **options)
        metrics = {}
        if isinstance(history.get("loss"), list) and history["loss"]:
            metrics["loss"] = float(history["loss"][-1])
        if not model.compiled:
            model.compile()
        val = make_dataset(x_val, y_val, batch_size=self.batch_size, shuffle=False)
        scores = model.evaluate(model.fit_pairs(val), verbose=0, return_dict=True)
        metrics.update({f"val_{key}": float(value) for key, value in scores.items()})
        if self.objective_name == "probe_accuracy":
            metrics["probe_accuracy"] = probe_accuracy(model, x, y, x_val, y_val,
                                                       self.num_labels, seed=self.seed,
                                                       **self.probe)
        for save in saves:
            save.set_model(model)
            save.on_epoch_end(0, logs=metrics)
        return metrics


def probe_accuracy(model, x, y, x_val, y_val, num_labels=1000, seed=0, **probe):
    """The accuracy on ``(x_val, y_val)`` of a linear probe on ``model``'s encoder features,
    trained on ``num_labels`` of the ``(x, y)`` examples (balanced per class, drawn with ``seed``;
    ``None`` or more than there are: all): :func:`keras_ae.evaluation.probe_features` with
    ``probe``'s settings (e.g. ``min_steps``, ``epochs``, ``l2``)."""
    features = evaluation.encode_for_probe(model, x, x_val)
    if num_labels is not None and num_labels >= len(y):
        num_labels = None
    result = evaluation.probe_features(features["train"], y, features["test"], y_val,
                                       num_labels=num_labels, label_seed=seed, seed=seed,
                                       **probe)
    return 1.0 - result["test_error"]


def hypermodel(name, space=None, objective="val_loss", num_labels=1000, batch_size=128, seed=0,
               probe=None, defaults=True, compile_kwargs=None, **fixed):
    """A ``keras_tuner.HyperModel`` for the registered model ``name``.

    Args:
        name: a registered model name (``keras_ae.models.names()``).
        space: search-space entries (field -> spec, see the module docstring) replacing or
            adding to the default :data:`SPACES` ``[name]``; a fixed value fixes the field.
        objective: ``"val_loss"`` or ``"probe_accuracy"``; the hypermodel's ``objective``
            attribute is the matching ``keras_tuner.Objective`` for the tuner.
        num_labels: the probe's label budget (training examples whose labels it sees).
        batch_size, seed: of the training pipeline (and the seed of builds, label draws and
            probes).
        probe: settings of :func:`keras_ae.evaluation.probe_features` (``min_steps``,
            ``epochs``, ``l2``, ...).
        defaults: ``False`` searches the fields of ``space`` only.
        **fixed: config fields fixed for every trial (``input_shape``, ``num_classes``, tiny
            sizes), taken out of the default space.
    """
    return ZooHyperModel(name, space=space, objective=objective, num_labels=num_labels,
                         batch_size=batch_size, seed=seed, probe=probe, defaults=defaults,
                         compile_kwargs=compile_kwargs, **fixed)
