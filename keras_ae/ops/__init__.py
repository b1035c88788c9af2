"""Portable tensor functions (what-where pooling math and its backend fast paths)."""

from keras_ae.ops import whatwhere  # noqa: F401
