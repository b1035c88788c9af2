import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.models import ConvAutoencoder, DenoisingAutoencoder, DenseAutoencoder, LinearAutoencoder
from keras_ae.testing import run_model_test

SMALL = {
    "dense_autoencoder": dict(hidden_units=[32, 16], code_size=2),
    "linear_autoencoder": dict(code_size=4),
    "denoising_autoencoder": dict(hidden_units=[32], code_size=8, noise="gaussian", noise_level=0.2),
    "conv_autoencoder": dict(filters=[4, 8], code_size=6),
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_battery(name, images):
    model = keras_ae.models.build(name, **SMALL[name])
    # Export is slow under PyTorch (a TensorFlow subprocess): the encoder suffices there.
    run_model_test(model, images, export_full_model=keras.backend.backend() != "torch")


@pytest.mark.parametrize("decoder", ["transpose", "upsampling"])
def test_conv_decoders_restore_shape(decoder, images):
    model = ConvAutoencoder(filters=[4, 8], decoder=decoder)
    assert tuple(model.encoder.output.shape) == (None, 7, 7, 8)
    assert tuple(model(images).shape) == images.shape


def test_registry_lists_the_classic_family():
    assert {"dense_autoencoder", "linear_autoencoder", "denoising_autoencoder",
            "conv_autoencoder"} <= set(keras_ae.models.names())
    with pytest.raises(ValueError, match="Unknown model 'nope'.*registered models"):
        keras_ae.models.build("nope")


def test_dense_depth_and_code_size():
    model = DenseAutoencoder(hidden_units=[1000, 500, 250], code_size=2)
    dense = [l for l in model.encoder.layers if isinstance(l, keras.layers.Dense)]
    assert [l.units for l in dense] == [1000, 500, 250, 2]
    assert [l.units for l in model.decoder.layers if isinstance(l, keras.layers.Dense)] == [250, 500, 1000, 784]


def test_linear_autoencoder_is_linear(images):
    model = LinearAutoencoder(code_size=3)
    # A linear map f(x) = Ax + b satisfies f(a+b) - f(a) - f(b) + f(0) = 0.
    a, b = images[:2], images[2:4]
    f = lambda x: keras.ops.convert_to_numpy(model(x))
    zero = np.zeros_like(a)
    np.testing.assert_allclose(f(a + b) - f(a) - f(b) + f(zero), 0, atol=1e-4)


@pytest.mark.parametrize("noise", ["gaussian", "masking"])
def test_denoising_corruption_only_in_training(noise, images):
    model = DenoisingAutoencoder(hidden_units=[16], code_size=4, noise=noise, noise_level=0.5)
    infer1 = keras.ops.convert_to_numpy(model(images, training=False))
    infer2 = keras.ops.convert_to_numpy(model(images, training=False))
    np.testing.assert_array_equal(infer1, infer2)
    clean = keras.ops.convert_to_numpy(model.decoder(model.encoder(images)))
    np.testing.assert_allclose(infer1, clean, atol=1e-6)
    train = keras.ops.convert_to_numpy(model(images, training=True))
    assert np.abs(train - infer1).max() > 1e-3
    assert "corruption" not in [l.name for l in model.encoder.layers]


@pytest.mark.parametrize("kwargs, match", [
    (dict(input_shape=(28, 28)), "input_shape"),
    (dict(filters=[4, 8, 16]), "not divisible"),
    (dict(decoder="bilinear"), "decoder"),
    (dict(filters=[]), "filters"),
])
def test_conv_bad_config(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ConvAutoencoder(**kwargs)


def test_denoising_bad_noise():
    with pytest.raises(ValueError, match="noise"):
        DenoisingAutoencoder(noise="salt")
    with pytest.raises(ValueError, match="rate"):
        DenoisingAutoencoder(noise="masking", noise_level=1.5)
