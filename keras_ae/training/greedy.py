"""Greedy layer-wise pre-training of a :class:`~keras_ae.models.StackedAutoencoder`."""

import os

import keras
import numpy as np

from keras_ae.layers.noise import corruption_layer
from keras_ae.training.checkpoint import resumable_fit


def greedy_pretrain(model, images, epochs=1, batch_size=128, learning_rate=1e-3, verbose=0,
                    checkpoint_dir=None, later=()):
    """Trains each (encode_i, decode_i) pair of ``model`` in turn, bottom up, with ``model.fit``.

    Layer i is trained as a one-hidden-layer autoencoder (denoising if the stack has ``noise``)
    on the codes that the already-trained layers below give for ``images``; the layers below are
    not touched. The pairs are the stack's own layers, so the stack's weights change in place.

    Args:
        model: a ``StackedAutoencoder``.
        images: array of images (N, H, W, C) in [0, 1].
        epochs: epochs per layer (an int, or a list with one entry per layer).
        checkpoint_dir: a folder for checkpoints after every epoch, ``stage0``, ``stage1``, ...
            (one per layer) inside (:func:`keras_ae.training.resumable_fit`). Rerun with the
            same folder, training resumes where it stopped: finished layers are loaded, not
            trained again.
        later: checkpoint folders of what is trained after the stack (fine-tuning): with one of
            them started, a layer cannot train on.

    Returns:
        A list with each layer's history (a dict of per-epoch lists).
    """
    config = model.get_config()
    n = model.num_layers
    per_layer = list(epochs) if isinstance(epochs, (list, tuple)) else [epochs] * n
    if len(per_layer) != n:
        raise ValueError(f"epochs has {len(per_layer)} entries for a stack of {n} layers.")
    codes = np.asarray(images, dtype="float32").reshape(len(images), -1)
    folders = [checkpoint_dir and os.path.join(checkpoint_dir, f"stage{i}") for i in range(n)]
    histories = []
    for i in range(n):
        encode, decode = model.layer_pair(i)
        inputs = keras.Input((codes.shape[1],), name=f"codes_{i}")
        noise = corruption_layer(config["noise"], config["noise_level"], seed=config["noise_seed"],
                                 name=f"corruption_{i}")
        hidden = encode(noise(inputs) if noise is not None else inputs)
        shallow = keras.Model(inputs, decode(hidden), name=f"layer_{i}_autoencoder")
        pixels = i == 0 and config["output_activation"] == "sigmoid"
        shallow.compile(optimizer=keras.optimizers.Adam(learning_rate),
                        loss="binary_crossentropy" if pixels else "mse")
        histories.append(resumable_fit(shallow, codes, per_layer[i], folders[i], y=codes,
                                       later=folders[i + 1:] + list(later),
                                       batch_size=batch_size, verbose=verbose))
        codes = keras.Model(inputs, encode(inputs)).predict(codes, batch_size=1024, verbose=0)
    return histories
