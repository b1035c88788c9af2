"""The text family: an autoencoder of bag-of-words document vectors (Hinton & Salakhutdinov 2006),
whose codes serve document retrieval. The vectors come from :mod:`keras_ae.text`."""

from keras_ae.models.text.model import BagOfWordsCrossEntropy, Log1p, TextAutoencoder  # noqa: F401
