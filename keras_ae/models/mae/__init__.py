"""Masked autoencoders (He et al. 2021): a ViT encoder on the visible patches, a light decoder,
the loss on masked patches."""

from keras_ae.models.mae.model import MAE  # noqa: F401
from keras_ae.models.mae.reference import PAPERS  # noqa: F401
