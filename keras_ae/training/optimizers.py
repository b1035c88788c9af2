"""Optimizers by name, for the example scripts' ``--optimizer`` / ``--momentum`` flags."""

import keras

#: The names :func:`make_optimizer` takes.
OPTIMIZERS = ("adam", "sgd")


def _check_optimizer(name):
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {name!r}.")


def check_optimizer_arguments(name, momentum=0.0):
    """Raises ``ValueError`` unless ``name`` is one of :data:`OPTIMIZERS` and ``momentum`` is a
    number in [0, 1), nonzero only for ``"sgd"`` (Adam has no momentum to set: a nonzero value
    there would be silently ignored)."""
    _check_optimizer(name)
    if (isinstance(momentum, bool) or not isinstance(momentum, (int, float))
            or not 0.0 <= momentum < 1.0):
        raise ValueError(f"momentum must be a number in [0, 1), got {momentum!r}.")
    if momentum and name != "sgd":
        raise ValueError(f"momentum is SGD's: optimizer {name!r} takes none, got momentum "
                         f"{momentum!r} (use optimizer 'sgd').")


def make_optimizer(name, learning_rate, momentum=0.0):
    """``keras.optimizers.Adam(learning_rate)`` or ``SGD(learning_rate, momentum=momentum)``.

    ``learning_rate`` may be a float or a Keras schedule (see ``training.learning_rate``);
    ``momentum`` is SGD's (see :func:`check_optimizer_arguments`).
    """
    check_optimizer_arguments(name, momentum)
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=momentum)
    return keras.optimizers.Adam(learning_rate)


def describe_optimizer(name, momentum=0.0):
    """``"Adam"`` or ``"SGD, momentum 0.9"``: how the results files name what trained a model."""
    _check_optimizer(name)
    return f"SGD, momentum {momentum:g}" if name == "sgd" else "Adam"
