"""Model registry: every model of the zoo is reachable by name (CLI, tuner, users' scripts)."""

_REGISTRY = {}


def register(name, description=""):
    """Class decorator adding a model class to the registry under ``name``."""

    def decorator(cls):
        if name in _REGISTRY and _REGISTRY[name][0] is not cls:
            raise ValueError(f"Model name {name!r} is already registered to {_REGISTRY[name][0]}.")
        doc = (cls.__doc__ or "").strip().splitlines()
        _REGISTRY[name] = (cls, description or (doc[0] if doc else ""))
        return cls

    return decorator


def names():
    """The registered model names, sorted."""
    return sorted(_REGISTRY)


def get(name):
    """The model class registered under ``name``."""
    try:
        return _REGISTRY[name][0]
    except KeyError:
        raise ValueError(
            f"Unknown model {name!r}; registered models are: {', '.join(names())}."
        ) from None


def describe(name):
    get(name)
    return _REGISTRY[name][1]


def build(name, /, **config):
    """Builds the registered model ``name`` from keyword config (unset fields take defaults).

    A field the model does not have is a ``ValueError`` naming it and the valid ones."""
    from keras_ae.models.base import check_config_fields

    cls = get(name)
    check_config_fields(cls, config)
    return cls(**config)
