"""Discriminative recurrent sparse autoencoders (Rolfe & LeCun 2013); the unit analysis of the
paper's section 4 is in :mod:`keras_ae.models.drsae.analysis`."""

from keras_ae.models.drsae import analysis  # noqa: F401
from keras_ae.models.drsae.model import DrSAE, DrSAEPhaseSwitch, LossWeight  # noqa: F401
from keras_ae.models.drsae.reference import PAPERS  # noqa: F401
