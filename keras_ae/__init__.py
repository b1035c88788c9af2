"""keras-ae: a Keras 3 multi-backend model zoo of autoencoders.

Every public module is reachable from the package (``keras_ae.models``, ``keras_ae.data``,
``keras_ae.evaluation``, ``keras_ae.tuning``, ...) and imported on first use, so that
``import keras_ae`` and ``keras-ae list`` do not pay for TensorFlow. Once Keras is imported,
importing ``keras_ae`` (or touching ``keras_ae.models``) registers the zoo's classes, so
``keras.saving.load_model`` reads the zoo's ``.keras`` files.
"""

import importlib
import sys

__version__ = "0.1.0"

_MODULES = ("catalog", "checks", "cli", "data", "evaluation", "export", "layers", "models", "ops",
            "reporting", "testing", "training", "tuning", "visualize")
__all__ = list(_MODULES)


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"keras_ae.{name}")
    raise AttributeError(f"module 'keras_ae' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODULES))


if "keras" in sys.modules:  # Keras is loaded anyway: register the zoo's classes now
    from keras_ae import models  # noqa: E402,F401
