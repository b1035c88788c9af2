"""The text autoencoder: bag-of-words vectors -> a small code -> the document's word distribution.

The shape is Hinton & Salakhutdinov's (2006) document autoencoder, vocabulary -> 500 -> 250 ->
125 -> 10 and back. The encoder reads ``log(1 + x)`` of the vector ``x`` (word counts or TF-IDF
weights from :class:`keras_ae.text.DocumentVectorizer`), which tames long documents and frequent
words; the decoder ends in a softmax over the vocabulary. The loss
(:class:`BagOfWordsCrossEntropy`) is the cross-entropy between the document's own word
distribution (``x / sum(x)``) and the predicted one: every document weighs the same whatever
its length, and the model is trained like a multinomial over the vocabulary rather than a
regression of each entry (MSE on sparse vectors mostly learns to predict zeros).
"""

import math

import keras
import numpy as np
from keras import ops

from keras_ae.models.base import ZooModel
from keras_ae.models.registry import register


def _flat(x):
    return ops.reshape(x, (-1, math.prod(x.shape[1:])))


@keras.saving.register_keras_serializable(package="keras_ae")
class BagOfWordsCrossEntropy(keras.losses.Loss):
    """``-sum_w t_w log p_w`` per document, ``t = y_true / sum(y_true)`` (the document's word
    distribution; an empty document has loss 0) and ``p = y_pred`` (a distribution, e.g. a
    softmax), both flattened per example; ``p`` is clipped to ``[epsilon, 1]``."""

    def __init__(self, epsilon=1e-7, name="bag_of_words_crossentropy",
                 reduction="sum_over_batch_size", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not isinstance(epsilon, (int, float)) or isinstance(epsilon, bool) \
                or not 0.0 < epsilon < 1.0:
            raise ValueError(f"epsilon must be a float in (0, 1), got {epsilon!r}.")
        self.epsilon = float(epsilon)

    def call(self, y_true, y_pred):
        t = _flat(ops.convert_to_tensor(y_true, dtype=y_pred.dtype))
        p = _flat(y_pred)
        t = t / ops.maximum(ops.sum(t, axis=1, keepdims=True), self.epsilon)
        return -ops.sum(t * ops.log(ops.clip(p, self.epsilon, 1.0)), axis=1)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="keras_ae")
class Log1p(keras.layers.Layer):
    """``log(1 + x)``, element-wise (inputs are non-negative counts or weights)."""

    def call(self, x):
        return ops.log1p(x)

    def compute_output_shape(self, input_shape):
        return input_shape


def _shape(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = (value,)
    if (not isinstance(value, (list, tuple)) or not value
            or not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d > 0
                       for d in value)):
        raise ValueError(f"input_shape must be (vocabulary_size,) (or any shape) of positive "
                         f"ints, got {value!r}.")
    return tuple(int(d) for d in value)


@keras.saving.register_keras_serializable(package="keras_ae")
@register("text_autoencoder")
class TextAutoencoder(ZooModel):
    """Document autoencoder on bag-of-words vectors (Hinton & Salakhutdinov 2006): codes for
    retrieval.

    Args:
        input_shape: ``(vocabulary_size,)`` of the vectors (an int is taken as that); any
            shape is flattened, so the model also reads images as bags of pixels.
        hidden_units: the encoder's hidden sizes (default 500-250-125); the decoder mirrors them.
        code_size: the code's size (default 10).
        activation: hidden activation.
        code_activation: the code layer's activation (linear by default).
        log_inputs: whether the encoder reads ``log(1 + x)`` (default) or ``x``.

    Inputs are non-negative vectors; the output is the predicted word distribution (softmax
    over the flattened input, reshaped to it). :meth:`reconstruction_target` is the input
    divided by its sum.
    """

    default_learning_rate = 1e-3
    default_metrics = None

    @property
    def default_loss(self):
        return BagOfWordsCrossEntropy()

    def __init__(self, input_shape=(2000,), hidden_units=(500, 250, 125), code_size=10,
                 activation="relu", code_activation="linear", log_inputs=True, **kwargs):
        input_shape = _shape(input_shape)
        if not isinstance(hidden_units, (list, tuple)) or not all(
                isinstance(u, (int, np.integer)) and not isinstance(u, bool) and u > 0
                for u in hidden_units):
            raise ValueError(f"hidden_units must be a list of positive ints, got "
                             f"{hidden_units!r}.")
        hidden_units = [int(u) for u in hidden_units]
        if isinstance(code_size, bool) or not isinstance(code_size, (int, np.integer)) \
                or code_size < 1:
            raise ValueError(f"code_size must be a positive int, got {code_size!r}.")
        if not isinstance(log_inputs, bool):
            raise TypeError(f"log_inputs must be True or False, got {log_inputs!r}.")
        dim = math.prod(input_shape)

        enc_in = keras.Input(input_shape, name="vectors")
        h = keras.layers.Flatten(name="flatten")(enc_in)
        if log_inputs:
            h = Log1p(name="log1p")(h)
        for i, units in enumerate(hidden_units):
            h = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(h)
        code = keras.layers.Dense(int(code_size), activation=code_activation, name="code")(h)
        encoder = keras.Model(enc_in, code, name="encoder")

        dec_in = keras.Input((int(code_size),), name="code")
        h = dec_in
        for i, units in enumerate(reversed(hidden_units)):
            h = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(h)
        h = keras.layers.Dense(dim, activation="softmax", name="words")(h)
        decoder = keras.Model(dec_in, keras.layers.Reshape(input_shape, name="unflatten")(h),
                              name="decoder")

        inputs = keras.Input(input_shape, name="vectors")
        super().__init__(inputs=inputs, outputs=decoder(encoder(inputs)), **kwargs)
        self._store_config(input_shape=input_shape, hidden_units=hidden_units,
                           code_size=int(code_size), activation=activation,
                           code_activation=code_activation, log_inputs=log_inputs)

    def reconstruction_target(self, images):
        """The inputs divided by their sum each (all zeros stay zero): the distribution the
        decoder predicts."""
        x = np.asarray(images, dtype="float32")
        flat = x.reshape(len(x), -1)
        total = flat.sum(axis=1, keepdims=True)
        return (flat / np.where(total > 0, total, 1.0)).reshape(x.shape)
