import keras
import numpy as np
import pytest

from keras_ae.layers import MaskingNoise
from keras_ae.testing import run_layer_test


def test_battery():
    x = np.random.default_rng(0).random((4, 6, 6, 2)).astype("float32")
    run_layer_test(MaskingNoise, {"rate": 0.3, "seed": 1}, x, expected_output_shape=(4, 6, 6, 2))


def test_masking_rate_and_no_rescale():
    x = np.ones((200, 100), "float32")
    out = keras.ops.convert_to_numpy(MaskingNoise(0.25, seed=3)(x, training=True))
    assert set(np.unique(out)) <= {0.0, 1.0}  # survivors keep their value (unlike Dropout)
    assert abs((out == 0).mean() - 0.25) < 0.02
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(MaskingNoise(0.25)(x)), x)


@pytest.mark.parametrize("rate", [-0.1, 1.0, "0.2"])
def test_bad_rate(rate):
    with pytest.raises(ValueError, match="rate"):
        MaskingNoise(rate)
