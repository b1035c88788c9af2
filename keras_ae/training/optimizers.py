"""Optimizers by name, for the example scripts' ``--optimizer`` / ``--momentum`` flags."""

import keras

#: The names :func:`make_optimizer` takes.
OPTIMIZERS = ("adam", "sgd")


def _check_optimizer(name):
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}.")


def make_optimizer(name, learning_rate, momentum=0.0):
    """``keras.optimizers.Adam(learning_rate)`` or ``SGD(learning_rate, momentum=momentum)``.

    ``learning_rate`` may be a float or a Keras schedule (see ``training.learning_rate``);
    ``momentum`` is SGD's and unused by Adam.
    """
    _check_optimizer(name)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=momentum)
    return keras.optimizers.Adam(learning_rate)


def describe_optimizer(name, momentum=0.0):
    """``"Adam"`` or ``"SGD, momentum 0.9"``: how the results files name what trained a model."""
    _check_optimizer(name)
    return f"SGD, momentum {momentum:g}" if name == "sgd" else "Adam"
