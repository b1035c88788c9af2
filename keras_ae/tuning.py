"""keras-tuner over the model registry: search any zoo model's config fields and learning rate.

    import keras_tuner, keras_ae
    hypermodel = keras_ae.tuning.RegistryHyperModel(
        "dense_autoencoder",
        space={"code_size": [8, 16, 32], "hidden_units": [[256], [512, 128]],
               "learning_rate": (1e-4, 1e-2, "log")},
        input_shape=(28, 28, 1))
    tuner = keras_tuner.RandomSearch(hypermodel, objective="val_loss", max_trials=10,
                                     directory="runs/tuning", project_name="dense")
    tuner.search(train, validation_data=val, epochs=5)

A search space maps a config field (or ``learning_rate``) to:

* a list: ``hp.Choice`` over its values (lists of lists, e.g. layer sizes, are allowed);
* ``(low, high)`` or ``(low, high, "log")``: ``hp.Int`` if both ends are ints, else ``hp.Float``;
* anything else: a fixed value.
"""

import json

import keras
import keras_tuner

from keras_ae.models import registry

LEARNING_RATE = "learning_rate"


def _hp_value(hp, name, spec):
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
        if low >= high:
            raise ValueError(f"search space {name!r}: low {low} must be below high {high}.")
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

    def build(self, hp):
        config = dict(self.fixed)
        learning_rate = None
        for field, spec in self.space.items():
            value = _hp_value(hp, field, spec)
            if field == LEARNING_RATE:
                learning_rate = value
            else:
                config[field] = value
        model = registry.build(self.model_name, **config)
        kwargs = dict(self.compile_kwargs)
        if learning_rate is not None:
            kwargs["optimizer"] = keras.optimizers.Adam(learning_rate)
        model.compile(**kwargs)
        return model
