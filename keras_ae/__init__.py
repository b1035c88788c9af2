"""keras-ae: a Keras 3 multi-backend model zoo of autoencoders."""

__version__ = "0.1.0"

from keras_ae import data, layers, models  # noqa: E402  (registers the serialisable classes)
from keras_ae import evaluation, export, training, visualize  # noqa: E402
