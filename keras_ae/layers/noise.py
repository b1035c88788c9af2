"""Input corruption for denoising autoencoders, active only in training."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_ae")
class MaskingNoise(keras.layers.Layer):
    """Masking corruption (Vincent et al. 2008): each input is set to 0 with probability ``rate``.

    Unlike ``Dropout`` the survivors are not rescaled: the network must reconstruct the clean
    input from a partly destroyed one. Identity at inference.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
            raise ValueError(f"rate must be a number in [0, 1), got {rate!r}.")
        self.rate = float(rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=False):
        if not training or self.rate == 0.0:
            return inputs
        keep = keras.random.uniform(ops.shape(inputs), seed=self.seed_generator) >= self.rate
        return ops.where(keep, inputs, ops.zeros_like(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


def corruption_layer(noise, level, seed=None, name="corruption"):
    """The corruption layer for ``noise`` in {None, "gaussian", "masking"}, or None."""
    if noise is None or noise == "none":
        return None
    if noise == "gaussian":
        if not level > 0:
            raise ValueError(f"noise_level must be > 0 for gaussian noise, got {level!r}.")
        return keras.layers.GaussianNoise(level, seed=seed, name=name)
    if noise == "masking":
        return MaskingNoise(level, seed=seed, name=name)
    raise ValueError(f"noise must be None, 'gaussian' or 'masking', got {noise!r}.")
