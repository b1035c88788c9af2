"""keras-ae: a Keras 3 multi-backend model zoo of autoencoders.

Every public module is reachable from the package (``keras_ae.models``, ``keras_ae.data``,
``keras_ae.evaluation``, ``keras_ae.tuning``, ...) and imported on first use, so that
``import keras_ae`` and ``keras-ae list`` do not pay for Keras and its backend. The zoo's classes
are registered with Keras as soon as both are imported, in either order, so that after
``import keras_ae`` ``keras.saving.load_model`` reads the zoo's ``.keras`` files.
"""

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import warnings

__version__ = "0.1.0"

_MODULES = ("catalog", "checks", "cli", "data", "evaluation", "export", "layers", "models", "ops",
            "reporting", "reproduction", "search", "testing", "text", "training", "tuning",
            "visualize")
__all__ = list(_MODULES)


def __getattr__(name):
    if name in _MODULES:
        return importlib.import_module(f"keras_ae.{name}")
    raise AttributeError(f"module 'keras_ae' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_MODULES))


def _register_models():
    try:
        importlib.import_module("keras_ae.models")
    except Exception as e:  # never break ``import keras`` itself
        warnings.warn(f"keras_ae could not register its models with Keras: {e}", stacklevel=2)


class _RegisterWhenKerasLoads(importlib.abc.MetaPathFinder):
    """Imports ``keras_ae.models`` right after ``keras`` itself is imported (once). Other code
    may look ``keras`` up without importing it (``importlib.util.find_spec``): the finder stays
    until a spec it handed out is actually executed."""

    def find_spec(self, name, path=None, target=None):
        if name != "keras":
            return None
        index = sys.meta_path.index(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        for finder in sys.meta_path[index + 1:] if spec is None else ():
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        run_module = spec.loader.exec_module
        finder = self

        def exec_module(module):
            if finder in sys.meta_path:
                sys.meta_path.remove(finder)
            run_module(module)
            _register_models()

        spec.loader.exec_module = exec_module
        return spec


if "keras" in sys.modules:
    _register_models()
elif not any(isinstance(f, _RegisterWhenKerasLoads) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterWhenKerasLoads())
