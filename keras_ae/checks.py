"""Argument validation shared by layers, models, procedures and the command line.

Each check returns the (normalised) value or raises one ``ValueError`` naming the argument and
what was expected. No Keras import: every layer of the package may use it.
"""

import math

__all__ = ["label_budget", "positive_int", "non_negative_int", "positive_ints", "per_stage", "non_negative",
           "finite_number", "fraction", "input_shape", "one_of"]


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int(name, value):
    """An int >= 1."""
    if not _is_int(value) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return value


def non_negative_int(name, value):
    """An int >= 0."""
    if not _is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}.")
    return value


def positive_ints(name, values, allow_empty=True):
    """A list (or tuple) of ints >= 1, returned as a list."""
    if (not isinstance(values, (list, tuple)) or not all(_is_int(v) and v > 0 for v in values)
            or (not values and not allow_empty)):
        raise ValueError(f"{name} must be a list of positive ints, got {values!r}.")
    return list(values)


def per_stage(name, value, stages):
    """One positive int for every stage, or a list of ``stages`` of them; returned as a list."""
    if _is_int(value):
        value = [value] * stages
    if (not isinstance(value, (list, tuple)) or len(value) != stages
            or not all(_is_int(v) and v > 0 for v in value)):
        raise ValueError(f"{name} must be a positive int or a list of {stages} positive ints "
                         f"(one per stage), got {value!r}.")
    return list(value)


def non_negative(name, value):
    """A number >= 0, returned as a float."""
    if not _is_number(value) or not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative number, got {value!r}.")
    return float(value)


def finite_number(name, value):
    """Any finite number, returned as a float."""
    if not _is_number(value) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}.")
    return float(value)


def fraction(name, value, allow_none=False, low_open=True, high_open=False):
    """A number in (0, 1] (the default bounds), returned as a float; ``None`` if allowed."""
    if value is None and allow_none:
        return None
    ok = _is_number(value) and (0.0 < value if low_open else 0.0 <= value) and (
        value < 1.0 if high_open else value <= 1.0)
    if not ok:
        interval = ("(" if low_open else "[") + "0, 1" + (")" if high_open else "]")
        none = "None or " if allow_none else ""
        raise ValueError(f"{name} must be {none}a number in {interval}, got {value!r}.")
    return float(value)


def input_shape(value, name="input_shape"):
    """An image shape ``(height, width, channels)`` of positive ints, returned as a tuple."""
    if (not isinstance(value, (list, tuple)) or len(value) != 3
            or not all(_is_int(d) and d > 0 for d in value)):
        raise ValueError(f"{name} must be (height, width, channels) of positive ints, "
                         f"got {value!r}.")
    return tuple(value)


def one_of(name, value, choices):
    """``value`` if it is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, "
                         f"got {value!r}.")
    return value


def label_budget(spec):
    """A labelled-set size as scripts and the command line take it: ``"all"`` (or ``None``)
    gives ``None`` (every label), a positive int or its text gives that int."""
    if spec is None or spec == "all":
        return None
    try:
        value = int(spec)
    except (TypeError, ValueError):
        value = 0
    if isinstance(spec, bool) or value < 1 or str(value) != str(spec).strip():
        raise ValueError(f"a label budget must be 'all' or an int >= 1, got {spec!r}.")
    return value
