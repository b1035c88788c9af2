"""Custom layers of the zoo, written with ``keras.ops`` only (TensorFlow, JAX and PyTorch)."""

from keras_ae.layers.losses import *  # noqa: F401,F403
from keras_ae.layers.noise import MaskingNoise, corruption_layer  # noqa: F401
from keras_ae.layers.patches import *  # noqa: F401,F403
from keras_ae.layers.pooling import *  # noqa: F401,F403
from keras_ae.layers.recurrent import *  # noqa: F401,F403
from keras_ae.layers.sparsity import *  # noqa: F401,F403
from keras_ae.layers.tied import TiedDense  # noqa: F401
from keras_ae.layers.transformer import TransformerBlock  # noqa: F401
