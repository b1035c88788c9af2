"""Deconvnet projections (Zeiler & Fergus 2014, "Visualizing and Understanding Convolutional
Networks"): what in the input one unit of a conv layer responds to.

The way up is the model's own: every layer from the input to ``layer_name`` runs forward, and
each max pooling records its switches (where each maximum came from). At ``layer_name`` every
channel but the chosen unit's is set to zero (and, with ``keep="max"``, every position but the
unit's strongest). The way down inverts each layer in reverse order:

* max pooling (:class:`~keras_ae.layers.pooling.MaxPoolWithArgmax2D`, or Keras's
  ``MaxPooling2D``, whose switches are computed with the same geometry) -> unpooling to the
  recorded switches; soft what-where pooling -> soft unpooling to its recorded positions;
* a ReLU (a ``Conv2D``'s own activation, a ``ReLU`` or ``Activation("relu")`` layer) -> a ReLU;
* ``Conv2D`` -> the transposed convolution with the same kernel, strides and padding (no bias),
  back to the conv's input size.

The result is an image-shaped map: the pixels that drive the unit, as the network sees them.

Works on any chain of such layers: a zoo model's encoder (SWWAE's ``conv_m`` / ``pool_m``
layers), a ``Sequential`` or functional conv net. A layer on the path that has no inverse here
(a dense layer, batch normalisation, a non-ReLU activation, a branch) is a ``ValueError`` naming
it. Sits beside :mod:`keras_ae.evaluation` in the import layers (it needs the pooling layers);
:mod:`keras_ae.visualize` draws the pictures.
"""

import keras
import numpy as np
from keras import ops

from keras_ae import checks
from keras_ae.data.loading import check_finite
from keras_ae.layers.pooling import MaxPoolWithArgmax2D, SoftMaxPoolWithArgmax2D
from keras_ae.models import encoder_of
from keras_ae.ops import whatwhere

__all__ = ["KEEPS", "deconvnet_projection", "invertible_chain", "max_activations", "top_projections"]

#: What is kept of the unit's map before going down: its strongest position or all of it.
KEEPS = ("max", "all")

_SUPPORTED = ("Conv2D (linear or ReLU activation, no dilation or groups), ReLU, "
              "Activation('relu' | 'linear'), MaxPoolWithArgmax2D, SoftMaxPoolWithArgmax2D, "
              "MaxPooling2D")


def _step_kind(layer):
    """How ``layer`` is inverted: ``"conv"``, ``"relu"``, ``"identity"``, ``"max_pool"``,
    ``"keras_max_pool"`` or ``"soft_pool"``; a ``ValueError`` naming it when it cannot be."""
    config = layer.get_config()

    def refuse(why):
        raise ValueError(f"deconvnet_projection cannot invert layer {layer.name!r} "
                         f"({type(layer).__name__}): {why}. It inverts: {_SUPPORTED}.")

    if config.get("data_format", "channels_last") != "channels_last":
        refuse("only channels_last data is supported")
    if isinstance(layer, MaxPoolWithArgmax2D):
        return "max_pool"
    if isinstance(layer, SoftMaxPoolWithArgmax2D):
        return "soft_pool"
    if type(layer) is keras.layers.MaxPooling2D:
        return "keras_max_pool"
    if type(layer) is keras.layers.Conv2D:
        if tuple(layer.dilation_rate) != (1, 1) or layer.groups != 1:
            refuse("dilated or grouped convolutions have no transposed filter here")
        if config["activation"] not in ("relu", "linear"):
            refuse(f"its activation is {config['activation']!r}, not 'relu' or 'linear'")
        return "conv"
    if type(layer) is keras.layers.ReLU:
        if config["max_value"] is not None or config["negative_slope"] or config["threshold"]:
            refuse("only the plain ReLU (no max_value, negative_slope or threshold)")
        return "relu"
    if type(layer) is keras.layers.Activation:
        if config["activation"] == "relu":
            return "relu"
        if config["activation"] == "linear":
            return "identity"
        refuse(f"its activation is {config['activation']!r}, not 'relu' or 'linear'")
    refuse("it is not a conv, ReLU or pooling layer")


def _encoder_and_layer(model, layer_name):
    encoder = encoder_of(model)  # a TypeError for anything but a keras.Model
    if not isinstance(layer_name, str):
        raise TypeError(f"layer_name must be a layer's name (str), got {layer_name!r}.")
    names = [layer.name for layer in encoder.layers]
    if layer_name not in names:
        raise ValueError(f"layer_name {layer_name!r} is not a layer of {encoder.name!r}; its "
                         f"layers are: {', '.join(names)}.")
    return encoder, encoder.get_layer(layer_name)


def invertible_chain(model, layer_name):
    """The layers from ``model``'s input up to ``layer_name`` (inclusive), in order, each one
    taking the previous one's output (a pooling layer's values, not its switches).

    ``model``: a zoo model (its ``encoder``) or any functional / ``Sequential`` Keras model.
    A ``ValueError`` when the path branches, or passes a layer that cannot be inverted (named).
    """
    encoder, layer = _encoder_and_layer(model, layer_name)
    chain = []
    while True:
        _step_kind(layer)
        chain.append(layer)
        try:
            inputs = layer.input
        except (AttributeError, ValueError):
            raise ValueError(f"layer {layer.name!r} has no recorded input: deconvnet_projection "
                             f"needs a functional or Sequential model (a graph of layers).") from None
        if isinstance(inputs, (list, tuple, dict)):
            raise ValueError(f"deconvnet_projection cannot invert layer {layer.name!r}: it takes "
                             f"several inputs, and only a chain of layers can be walked back.")
        history = getattr(inputs, "_keras_history", None)
        if history is None:
            raise ValueError(f"the input of layer {layer.name!r} comes from no layer of the model.")
        parent = history.operation
        if isinstance(parent, keras.layers.InputLayer):
            break
        if isinstance(parent, keras.Model) or not isinstance(parent, keras.layers.Layer):
            raise ValueError(f"deconvnet_projection cannot invert {parent.name!r} "
                             f"({type(parent).__name__}) below {layer.name!r}: only single "
                             f"layers can be walked back, not nested models or raw ops.")
        if history.tensor_index != 0:
            raise ValueError(f"layer {layer.name!r} takes output {history.tensor_index} of "
                             f"{parent.name!r} (the switches of a pooling?): only a chain of "
                             f"feature maps can be walked back.")
        layer = parent
    return chain[::-1]


def _check_images(encoder, images):
    if isinstance(images, (str, bytes)) or not hasattr(images, "__len__"):
        raise TypeError(f"images must be an array of shape (N, ...), got {type(images).__name__}.")
    images = check_finite(np.asarray(images))
    expected = tuple(encoder.inputs[0].shape[1:])
    if images.ndim != len(expected) + 1 or tuple(images.shape[1:]) != expected or not len(images):
        raise ValueError(f"images must have shape (N, {', '.join(str(d) for d in expected)}) with "
                         f"N >= 1 (the model's input), got {images.shape}.")
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    if images.dtype.kind not in "fiu":
        raise TypeError(f"images must be numeric, got dtype {images.dtype}.")
    return images.astype(np.float32)


def _forward(chain, x):
    """Runs ``chain`` on ``x``; returns the last output and, per layer, what going back down it
    needs: ``(input_height, input_width, switches or None)``."""
    records = []
    for layer in chain:
        kind = _step_kind(layer)
        size = tuple(x.shape[1:3])
        switches = None
        if kind in ("max_pool", "soft_pool"):
            x, switches = layer(x)
        elif kind == "keras_max_pool":
            x, switches = whatwhere.max_pool_with_argmax(x, layer.pool_size, layer.strides,
                                                         layer.padding)
        else:
            x = layer(x)
        records.append((size, switches))
    return x, records


def _conv_transpose(signal, layer, size):
    """The transpose of ``layer``'s convolution (kernel only, no bias) applied to ``signal``,
    back to the conv's input ``size``. Written as a "valid" transposed convolution onto the
    padded frame the forward conv saw, then cropped, so that "same" padding follows Keras's
    convention (odd padding at the bottom/right) on every backend."""
    (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
    height, width = size
    h, w = signal.shape[1:3]
    if layer.padding == "same":
        pad_h, pad_w = max((h - 1) * sh + kh - height, 0), max((w - 1) * sw + kw - width, 0)
    else:
        pad_h = pad_w = 0
    extra = (height + pad_h - ((h - 1) * sh + kh), width + pad_w - ((w - 1) * sw + kw))
    x = ops.conv_transpose(signal, layer.kernel, strides=(sh, sw), padding="valid",
                           output_padding=extra, data_format="channels_last")
    top, left = pad_h // 2, pad_w // 2
    return x[:, top: top + height, left: left + width, :]


def _backward(chain, records, signal):
    for layer, (size, switches) in zip(reversed(chain), reversed(records)):
        kind = _step_kind(layer)
        if kind == "conv":
            if layer.get_config()["activation"] == "relu":
                signal = ops.relu(signal)
            signal = _conv_transpose(signal, layer, size)
        elif kind == "relu":
            signal = ops.relu(signal)
        elif kind in ("max_pool", "keras_max_pool"):
            signal = whatwhere.unpool_with_argmax(signal, switches, size, layer.pool_size,
                                                  layer.strides, layer.padding)
        elif kind == "soft_pool":
            signal = whatwhere.soft_unpool(signal, ops.cast(switches, signal.dtype), size,
                                           layer.pool_size, layer.strides, layer.padding)
    return signal


def _check_unit(unit, channels, layer_name):
    if isinstance(unit, np.integer):
        unit = int(unit)
    if isinstance(unit, bool) or not isinstance(unit, int) or not 0 <= unit < channels:
        raise ValueError(f"unit must be a channel of layer {layer_name!r}: an int in "
                         f"[0, {channels}), got {unit!r}.")
    return unit


def _output_channels(chain, layer_name):
    output = chain[-1].output
    shape = (output[0] if isinstance(output, (list, tuple)) else output).shape
    if len(shape) != 4:
        raise ValueError(f"layer {layer_name!r} outputs shape {tuple(shape)}, not feature maps "
                         f"(N, H, W, C).")
    return shape[-1]


def _batches(images, batch_size):
    checks.positive_int("batch_size", batch_size)
    for start in range(0, len(images), batch_size):
        yield ops.convert_to_tensor(images[start: start + batch_size])


def deconvnet_projection(model, layer_name, unit, images, keep="max", batch_size=256):
    """Projects one unit of ``layer_name`` back to pixel space through a deconvnet.

    Args:
        model: a zoo model (its ``encoder`` is used) or a functional / ``Sequential`` model;
            every layer from the input to ``layer_name`` must be invertible (module docstring).
        layer_name: the layer whose unit is projected (its output must be (N, H, W, C) maps).
        unit: the channel, an int in ``[0, C)``.
        images: (N, ...) images of the model's input shape (uint8 is scaled to [0, 1]).
        keep: ``"max"`` keeps only the unit's strongest position in each image (the paper's
            figures), ``"all"`` its whole map; every other channel is zeroed either way.

    Returns:
        float32 NumPy array shaped like ``images``.
    """
    chain = invertible_chain(model, layer_name)
    images = _check_images(encoder_of(model), images)
    unit = _check_unit(unit, _output_channels(chain, layer_name), layer_name)
    checks.one_of("keep", keep, KEEPS)
    parts = []
    for x in _batches(images, batch_size):
        out, records = _forward(chain, x)
        _, h, w, channels = out.shape
        act = out[..., unit]
        if keep == "max":
            flat = ops.reshape(act, (-1, h * w))
            flat = flat * ops.one_hot(ops.argmax(flat, axis=-1), h * w, dtype=flat.dtype)
            act = ops.reshape(flat, (-1, h, w))
        signal = ops.expand_dims(act, -1) * ops.one_hot(unit, channels, dtype=act.dtype)
        parts.append(ops.convert_to_numpy(_backward(chain, records, signal)))
    return np.concatenate(parts).astype(np.float32)


def max_activations(model, layer_name, images, batch_size=256):
    """Each image's strongest activation of each unit of ``layer_name``: (N, C) float32, the
    maximum over the unit's feature map (what ranks images for :func:`top_projections`)."""
    chain = invertible_chain(model, layer_name)
    images = _check_images(encoder_of(model), images)
    _output_channels(chain, layer_name)
    parts = [ops.convert_to_numpy(ops.max(_forward(chain, x)[0], axis=(1, 2)))
             for x in _batches(images, batch_size)]
    return np.concatenate(parts).astype(np.float32)


def top_projections(model, layer_name, units, images, k=9, keep="max", batch_size=256):
    """For each of ``units``, the ``k`` images of ``images`` that activate it most and their
    deconvnet projections (Zeiler & Fergus's figures).

    Returns:
        one dict per unit: ``unit``, ``indices`` (into ``images``, strongest first),
        ``activations`` (the unit's maximum in each), ``projections`` (k, ...) float32.
    """
    if isinstance(units, (int, np.integer)) and not isinstance(units, bool):
        units = [units]
    if not isinstance(units, (list, tuple)) or not units:
        raise ValueError(f"units must be a non-empty list of channel indices, got {units!r}.")
    checks.positive_int("k", k)
    checks.one_of("keep", keep, KEEPS)
    scores = max_activations(model, layer_name, images, batch_size=batch_size)
    units = [_check_unit(u, scores.shape[1], layer_name) for u in units]
    images = np.asarray(images)
    results = []
    for unit in units:
        order = np.argsort(-scores[:, unit], kind="stable")[:k]
        results.append({"unit": unit, "indices": order, "activations": scores[order, unit],
                        "projections": deconvnet_projection(model, layer_name, unit,
                                                            images[order], keep=keep,
                                                            batch_size=batch_size)})
    return results
