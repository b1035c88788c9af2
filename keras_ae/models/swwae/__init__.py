"""Stacked what-where autoencoders (Zhao, Mathieu, Goroshin & LeCun 2016)."""

from keras_ae.models.swwae.model import SWWAE, GraphAnchor, SWWAESoft, SWWAEWhatOnly  # noqa: F401
from keras_ae.models.swwae.reference import PAPERS  # noqa: F401
