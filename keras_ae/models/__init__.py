"""The zoo's models and the registry that names them.

    >>> import keras_ae
    >>> keras_ae.models.names()
    >>> model = keras_ae.models.build("conv_autoencoder", filters=[16, 32])
"""

from keras_ae.models.autoencoder import (  # noqa: F401
    ConvAutoencoder,
    DenoisingAutoencoder,
    DenseAutoencoder,
    LinearAutoencoder,
    StackedAutoencoder,
)
from keras_ae.models.base import ZooModel  # noqa: F401
from keras_ae.models.drsae import *  # noqa: F401,F403
from keras_ae.models.registry import build, describe, get, names, register  # noqa: F401
from keras_ae.models.swwae import *  # noqa: F401,F403
from keras_ae.models.wta import *  # noqa: F401,F403
