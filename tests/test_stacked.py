import keras
import numpy as np
import pytest

from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images
from keras_ae.models import StackedAutoencoder
from keras_ae.testing import run_model_test
from keras_ae.training import train_greedily


def _weights(layer):
    return [np.copy(keras.ops.convert_to_numpy(w)) for w in layer.weights]


def test_battery(images):
    run_model_test(StackedAutoencoder(units=[16, 8, 3], noise="masking", noise_level=0.2), images,
                   export_full_model=False)


def test_greedy_trains_one_layer_at_a_time():
    x, y = read_idx_folder(SAMPLE_DIR, "test")
    x = to_float_images(x)[:512]
    model = StackedAutoencoder(units=[64, 16])
    model.compile()
    untrained_mse = float(np.mean((model.reconstruct(x) - x) ** 2))
    first = _weights(model.stage_layers(0)[0])
    seen = {}

    # Wrap fit to record which weights move during each layer's phase.
    original_fit = keras.Model.fit

    def recording_fit(self, *args, **kwargs):
        before = [_weights(l) for pair in (model.stage_layers(0), model.stage_layers(1)) for l in pair]
        out = original_fit(self, *args, **kwargs)
        after = [_weights(l) for pair in (model.stage_layers(0), model.stage_layers(1)) for l in pair]
        seen[self.name] = [not all(np.array_equal(a, b) for a, b in zip(w0, w1))
                           for w0, w1 in zip(before, after)]
        return out

    keras.Model.fit = recording_fit
    try:
        histories = train_greedily(model, x, epochs=3, batch_size=64, learning_rate=3e-3)
    finally:
        keras.Model.fit = original_fit
    # Phase 0 moves encode_0/decode_0 only; phase 1 moves encode_1/decode_1 only.
    assert seen["stage0_autoencoder"] == [True, True, False, False]
    assert seen["stage1_autoencoder"] == [False, False, True, True]
    assert not np.array_equal(first[0], _weights(model.stage_layers(0)[0])[0])
    for h in histories.values():
        assert h["loss"][-1] < h["loss"][0]
    # The pre-trained stack, never fitted end to end, already reconstructs far better than at init.
    assert float(np.mean((model.reconstruct(x) - x) ** 2)) < 0.7 * untrained_mse


def test_greedy_resumes_where_it_stopped(tmp_path):
    """Layer 1 stopped after 1 of its 2 epochs (a run with epochs [2, 1]), then rerun with
    [2, 2] and the same folder on a model with other initial weights: layer 0 is loaded, layer 1
    trains one more epoch, and the stack equals one trained [2, 2] without a stop. One batch of
    all the images per epoch, so the runs' shuffles do not change the gradients."""
    x = to_float_images(read_idx_folder(SAMPLE_DIR, "test")[0])[:64]

    def build(seed):
        keras.utils.set_random_seed(seed)
        return StackedAutoencoder(units=[16, 4])

    whole = build(0)
    expected = train_greedily(whole, x, epochs=2, batch_size=64, learning_rate=3e-3)
    folder = str(tmp_path / "ckpt")
    train_greedily(build(0), x, epochs=[2, 1], batch_size=64, learning_rate=3e-3,
                    checkpoint_dir=folder)
    resumed = build(1)
    histories = train_greedily(resumed, x, epochs=2, batch_size=64, learning_rate=3e-3,
                                checkpoint_dir=folder)
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    for h, e in zip(histories.values(), expected.values()):
        np.testing.assert_allclose(h["loss"], e["loss"], rtol=1e-5)
    with pytest.raises(ValueError, match="stage0 has 2 of 3 epochs, but the later stage in"):
        train_greedily(build(0), x, epochs=[3, 2], batch_size=64, checkpoint_dir=folder)


def test_classifier_shares_the_encoder(images):
    model = StackedAutoencoder(units=[16, 4])
    clf = model.classifier(10, dropout=0.1)
    assert clf.output.shape == (None, 10)
    shared = {id(w) for w in model.encoder.weights}
    assert shared <= {id(w) for w in clf.weights}
    with pytest.raises(ValueError, match="num_classes"):
        model.classifier(1)


def test_bad_epochs_list():
    with pytest.raises(ValueError, match=r"epochs must be a non-negative int or a list of one per stage \(2\)"):
        train_greedily(StackedAutoencoder(units=[4, 2]), np.zeros((4, 28, 28, 1)), epochs=[1])


def test_default_procedure_reconstructs_better_than_the_mean_image():
    """``fit_procedure``'s defaults (what ``keras-ae train stacked_autoencoder --epochs 1``
    runs) on 2,000 images of the shipped sample: greedy stages alone leave the stack's
    end-to-end reconstruction at or above the mean image's error (no stage learns to
    reconstruct the images through the stages above it: 1.09 times it), the default end-to-end
    fine-tuning brings it well below (0.68 times). Oracle: NumPy's mean training image."""
    from keras_ae.data import make_dataset

    x, y = read_idx_folder(SAMPLE_DIR, "train")
    x, y = to_float_images(x)[:2000], y[:2000]
    x_test = to_float_images(read_idx_folder(SAMPLE_DIR, "test")[0])
    mean_image = float(np.mean((x_test - x.mean(axis=0)) ** 2))
    keras.utils.set_random_seed(0)
    model = StackedAutoencoder(units=[256, 64, 16])
    assert model.procedure(1)["fine_tune_epochs"] == 1
    histories = model.fit_procedure(make_dataset(x, y, batch_size=32, seed=0), 1, verbose=0)
    assert sorted(histories) == ["fine_tune", "stage0", "stage1", "stage2"]
    mse = float(np.mean((model.reconstruct(x_test) - x_test) ** 2))
    assert mse < 0.8 * mean_image, (mse, mean_image)
