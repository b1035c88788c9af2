"""The classic family: dense, linear, denoising, convolutional and stacked autoencoders."""

from keras_ae.models.classic.model import (  # noqa: F401
    ConvAutoencoder,
    DenoisingAutoencoder,
    DenseAutoencoder,
    LinearAutoencoder,
    StackedAutoencoder,
)
from keras_ae.models.classic.reference import PAPERS  # noqa: F401
