import math
import os

import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.layers import TiedDense
from keras_ae.models.wta import ConvWTA, FCWTA, StackedConvWTA
from keras_ae.training import train_greedily
from keras_ae.testing import run_layer_test, run_model_test

SMALL = {
    "fc_wta": dict(input_shape=(14, 14, 1), hidden_units=24, k=0.25),
    "conv_wta": dict(input_shape=(14, 14, 1), filters=[4, 4], k=0.25, decoder_kernel_size=5),
    # One decoder kernel size per stage: the battery's .keras round trip covers the list form.
    "stacked_conv_wta": dict(input_shape=(14, 14, 1), filters=[4, 6], k=0.25,
                             decoder_kernel_size=[5, 3]),
}


@pytest.fixture
def small_images(images):
    """The 8 sample digits at half resolution (14×14): the same tests, less compute."""
    return np.ascontiguousarray(images[:, ::2, ::2])


def np_(t):
    return keras.ops.convert_to_numpy(t)


def lifetime_oracle(h, k):
    count = max(1, math.ceil(round(k * len(h), 6)))
    scores = h.reshape(len(h), -1, h.shape[-1]).max(axis=1)
    threshold = -np.sort(-scores, axis=0)[count - 1]
    keep = scores >= threshold
    return h * keep.reshape((len(h),) + (1,) * (h.ndim - 2) + (h.shape[-1],))


def spatial_oracle(h):
    flat = h.reshape(len(h), -1, h.shape[-1])
    keep = np.zeros_like(flat)
    idx = flat.argmax(axis=1)
    for b in range(len(h)):
        keep[b, idx[b], np.arange(h.shape[-1])] = 1
    return (flat * keep).reshape(h.shape)


@pytest.mark.parametrize("name", sorted(SMALL))
def test_battery(name, small_images):
    model = keras_ae.models.build(name, **SMALL[name])
    # The full model (sparsity layers included) is exported once, for Conv-WTA, off torch;
    # under torch each export is a TensorFlow subprocess, so only Conv-WTA's encoder goes.
    torch = keras.backend.backend() == "torch"
    run_model_test(model, small_images, run_export=name == "conv_wta" or not torch,
                   export_full_model=name == "conv_wta" and not torch)


def test_fc_tied_battery(small_images):
    run_model_test(FCWTA(input_shape=(14, 14, 1), hidden_units=16, k=0.25, tied_weights=True),
                   small_images, run_export=False)


def test_registry_names():
    assert {"fc_wta", "conv_wta", "stacked_conv_wta"} <= set(keras_ae.models.names())


def test_tied_dense_layer_battery_and_oracle():
    x = np.random.default_rng(0).normal(size=(8, 6)).astype("float32")
    run_layer_test(TiedDense, {"units": 4}, x, expected_output_shape=(8, 4))
    layer = TiedDense(4, name="t")
    h = np_(layer(x))
    w, b, c = (np_(v) for v in (layer.kernel, layer.bias, layer.decode_bias))
    c = c + 0.5
    layer.decode_bias.assign(c)
    np.testing.assert_allclose(h, x @ w + b, atol=1e-5)
    np.testing.assert_allclose(np_(layer(h)), h @ w.T + c, atol=1e-5)
    assert layer.compute_output_shape((None, 4)) == (None, 6)
    with pytest.raises(ValueError, match="expected 6 or 4"):
        layer(np.ones((2, 5), "float32"))


def test_fc_wta_matches_numpy(images):
    model = FCWTA(hidden_units=12, k=0.25)
    x = images.reshape(len(images), -1)
    w, b = (np_(v) for v in model.encoder.get_layer("hidden").weights)
    wd, bd = (np_(v) for v in model.decoder.get_layer("pixels").weights)
    hidden = np.maximum(x @ w + b, 0)
    np.testing.assert_allclose(np_(model.encoder(images)), hidden, atol=1e-5)
    infer = np_(model(images)).reshape(len(x), -1)
    np.testing.assert_allclose(infer, hidden @ wd + bd, atol=1e-5)
    train = np_(model(images, training=True)).reshape(len(x), -1)
    np.testing.assert_allclose(train, lifetime_oracle(hidden, 0.25) @ wd + bd, atol=1e-5)


def test_fc_wta_tied_decoder_uses_the_transposed_kernel(images):
    model = FCWTA(hidden_units=10, k=0.5, tied_weights=True)
    layer = model.encoder.get_layer("tied_dense")
    assert model.decoder.get_layer("tied_dense") is layer
    w, b, c = (np_(v) for v in (layer.kernel, layer.bias, layer.decode_bias))
    x = images.reshape(len(images), -1)
    hidden = np.maximum(x @ w + b, 0)
    np.testing.assert_allclose(np_(model(images)).reshape(len(x), -1), hidden @ w.T + c,
                               atol=1e-5)
    assert len(model.trainable_weights) == 3  # one kernel, two biases: no separate decoder


@pytest.mark.parametrize("tied", [False, True])
def test_fc_wta_hidden_bias_starts_every_unit_active(images, tied):
    model = FCWTA(hidden_units=2000, k=0.25, tied_weights=tied, hidden_bias=1.0)
    layer = model.encoder.get_layer("tied_dense" if tied else "hidden")
    np.testing.assert_array_equal(np_(layer.bias), np.ones(2000, "float32"))
    x = images.reshape(len(images), -1)
    np.testing.assert_allclose(np_(model.encoder(images)),
                               np.maximum(x @ np_(layer.kernel) + 1.0, 0), atol=1e-5)
    # 784x2000 glorot weights on [0, 1] pixels move a pre-activation by about +-0.3: nearly
    # every unit fires on every image, against about half of them with Keras' zero bias
    assert (np_(model.encoder(images)) > 0).mean() > 0.99
    assert (np_(FCWTA(hidden_units=2000, tied_weights=tied).encoder(images)) > 0).mean() < 0.7
    restored = FCWTA.from_config(model.get_config())
    assert restored.get_config()["hidden_bias"] == 1.0


@pytest.mark.parametrize("tied", [False, True])
def test_fc_wta_decoder_filters_are_what_each_unit_draws(tied):
    model = FCWTA(input_shape=(6, 6, 1), hidden_units=5, k=0.5, tied_weights=tied)
    codes = np.vstack([np.zeros((1, 5)), np.eye(5)]).astype("float32")
    drawn = np_(model.decoder(codes)).reshape(6, 36)
    filters = model.learned_filters()
    assert filters.shape == (36, 5)
    # the decoder is linear: one active unit draws its filter on top of the bias
    np.testing.assert_allclose(filters.T, drawn[1:] - drawn[0], atol=1e-5)
    encoder = model.learned_filters("encoder")
    np.testing.assert_allclose(encoder, np_(model.encoder.layers[2].kernel), atol=0)
    with pytest.raises(ValueError, match="which"):
        model.learned_filters("both")


def test_conv_wta_matches_numpy_sparsity(small_images):
    images = small_images
    model = ConvWTA(input_shape=(14, 14, 1), filters=[3, 4], k=0.25, decoder_kernel_size=5)
    codes = np_(model.encoder(images))
    assert codes.shape == (8, 14, 14, 4)
    np.testing.assert_allclose(np_(model(images)), np_(model.decoder(codes)), atol=1e-5)
    sparse = lifetime_oracle(spatial_oracle(codes), 0.25)
    assert ((sparse != 0).sum(axis=(0, 1, 2)) <= 2).all()
    np.testing.assert_allclose(np_(model(images, training=True)), np_(model.decoder(sparse)),
                               atol=1e-5)


def test_conv_wta_without_sparsity_is_the_same_network(small_images):
    images = small_images
    sparse = ConvWTA(input_shape=(14, 14, 1), filters=[3], decoder_kernel_size=5)
    plain = ConvWTA(input_shape=(14, 14, 1), filters=[3], decoder_kernel_size=5, k=None,
                    spatial_sparsity=False)
    plain.set_weights(sparse.get_weights())
    assert not any("sparsity" in l.name for l in plain.layers)
    np.testing.assert_allclose(np_(plain(images, training=True)), np_(sparse(images)), atol=1e-6)
    assert sparse.learned_filters().shape == (5, 5, 1, 3)


def _kernels(model, names):
    return {n: np.copy(np_(model.encoder.get_layer(n).kernel)) if "conv" in n
            else np.copy(np_(model.decoder.get_layer(n).kernel)) for n in names}


def test_greedy_training_trains_one_stage_at_a_time(small_images):
    model = StackedConvWTA(**SMALL["stacked_conv_wta"])
    names = ["stage0_conv", "stage1_conv", "stage0_decoder", "stage1_decoder"]
    x = np.concatenate([small_images, small_images[::-1]])
    before = _kernels(model, names)
    histories = train_greedily(model, x, epochs=[1, 0], batch_size=8)
    after = _kernels(model, names)
    changed = {n: not np.array_equal(before[n], after[n]) for n in names}
    assert changed == {"stage0_conv": True, "stage0_decoder": True,
                       "stage1_conv": False, "stage1_decoder": False}
    assert set(histories) == {"stage0"} and len(histories["stage0"]["loss"]) == 1
    assert np.isfinite(histories["stage0"]["loss"][0])

    before = after
    train_greedily(model, x, epochs=[0, 1], batch_size=8, fine_tune_epochs=0)
    after = _kernels(model, names)
    changed = {n: not np.array_equal(before[n], after[n]) for n in names}
    assert changed == {"stage0_conv": False, "stage0_decoder": False,
                       "stage1_conv": True, "stage1_decoder": True}
    assert all(model.encoder.get_layer(n).trainable for n in ["stage0_conv", "stage1_conv"])

    histories = train_greedily(model, x, epochs=0, batch_size=8, fine_tune_epochs=1)
    assert set(histories) == {"fine_tune"}
    # fine-tuning trains the stage decoders only (fine_tune_trains = "decoders")
    changed = {n: not np.array_equal(after[n], v) for n, v in _kernels(model, names).items()}
    assert changed == {"stage0_conv": False, "stage1_conv": False,
                       "stage0_decoder": True, "stage1_decoder": True}


class _RecordLearningRate(keras.callbacks.Callback):
    """The optimizer's learning rate as each batch starts (before that batch's update)."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        # A schedule is evaluated at the optimizer's current iteration.
        rate = self.model.optimizer.learning_rate
        self.rates.append(float(keras.ops.convert_to_numpy(rate)))


@pytest.mark.parametrize("schedule", ["constant", "cosine"])
def test_greedy_training_learning_rate_schedule(small_images, schedule):
    # 16 images, batch 8: 2 steps per epoch. Stage 0 for 2 epochs (4 steps), stage 1 for 1
    # epoch (2 steps), fine-tuning 1 epoch: each restarts from the initial rate and, for
    # "cosine", follows 0.5 * lr * (1 + cos(pi * t / T)) over its own T steps.
    model = StackedConvWTA(**SMALL["stacked_conv_wta"])
    x = np.concatenate([small_images, small_images[::-1]])
    recorder = _RecordLearningRate()
    train_greedily(model, x, epochs=[2, 1], batch_size=8, fine_tune_epochs=1,
                   learning_rate=0.01, lr_schedule=schedule, callbacks=[recorder])
    expected = []
    for steps in (4, 2, 2):
        t = np.arange(steps)
        expected += list(0.01 * (0.5 * (1 + np.cos(np.pi * t / steps)) if schedule == "cosine"
                                 else np.ones(steps)))
    np.testing.assert_allclose(recorder.rates, expected, rtol=1e-5)


class _Killed(Exception):
    pass


class _KillAfter(keras.callbacks.Callback):
    """Stops the whole procedure, as a killed process would, as the epoch after ``epochs``
    epochs (counted over every ``fit`` it is passed to) begins."""

    def __init__(self, epochs):
        super().__init__()
        self.left = epochs

    def on_epoch_begin(self, epoch, logs=None):
        if not self.left:
            raise _Killed
        self.left -= 1


def test_greedy_training_resumes_where_it_stopped(small_images, tmp_path):
    """Killed in stage 1's second epoch (after 3 of stage 0's 2 + stage 1's 2 + fine-tuning's 1
    epochs), then rerun on a model with other initial weights and the same folder: stage 0 is
    loaded, stage 1 trains its last epoch, fine-tuning its one, and the weights, the cosine
    schedule's steps and the histories are those of the run never interrupted (the batches come
    in the same order every epoch, so the two runs see the same data)."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices(np.concatenate([small_images, small_images[::-1]]))
    data = data.batch(8, drop_remainder=True)
    kwargs = dict(epochs=2, fine_tune_epochs=1, learning_rate=0.01, lr_schedule="cosine")

    def build(seed):
        keras.utils.set_random_seed(seed)
        return StackedConvWTA(**SMALL["stacked_conv_wta"])

    whole = build(0)
    expected = train_greedily(whole, data, **kwargs)
    folder = str(tmp_path / "ckpt")
    with pytest.raises(_Killed):
        train_greedily(build(0), data, checkpoint_dir=folder, callbacks=[_KillAfter(3)], **kwargs)
    assert sorted(os.listdir(folder)) == ["stage0", "stage1"]

    resumed, recorder = build(1), _RecordLearningRate()
    histories = train_greedily(resumed, data, checkpoint_dir=folder, callbacks=[recorder],
                               **kwargs)
    assert len(recorder.rates) == 2 + 2          # stage 1's last epoch and fine-tuning: 2 steps each
    cosine = 0.01 * 0.5 * (1 + np.cos(np.pi * np.arange(4) / 4))
    np.testing.assert_allclose(recorder.rates[:2], cosine[2:], rtol=1e-5)  # steps 3-4 of 4
    for a, b in zip(whole.get_weights(), resumed.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert set(histories) == set(expected) == {"stage0", "stage1", "fine_tune"}
    for name in expected:
        np.testing.assert_allclose(histories[name]["loss"], expected[name]["loss"], rtol=1e-5)

    # Rerun once more: everything is loaded, nothing trains.
    again, recorder = build(2), _RecordLearningRate()
    train_greedily(again, data, checkpoint_dir=folder, callbacks=[recorder], **kwargs)
    assert recorder.rates == []
    for a, b in zip(whole.get_weights(), again.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # Stage 0 cannot train on: stage 1 was trained on its features as they were.
    with pytest.raises(ValueError, match="stage0 has 2 of 3 epochs, but the later stage in"):
        train_greedily(build(0), data, checkpoint_dir=folder, **{**kwargs, "epochs": [3, 2]})
    with pytest.raises(ValueError, match="stage1 has 2 epochs, more than the 1 asked for"):
        train_greedily(build(0), data, checkpoint_dir=folder, **{**kwargs, "epochs": [2, 1]})


def test_greedy_training_cosine_needs_known_length(small_images):
    import tensorflow as tf

    model = StackedConvWTA(**SMALL["stacked_conv_wta"])
    unknown = tf.data.Dataset.from_tensor_slices(small_images).batch(4).filter(lambda b: True)
    with pytest.raises(ValueError, match="lr_schedule 'cosine' needs data with a known"):
        train_greedily(model, unknown, epochs=1, lr_schedule="cosine")
    with pytest.raises(ValueError, match="schedule must be one of"):
        train_greedily(model, small_images, epochs=1, lr_schedule="linear")


def test_decoder_kernel_size_per_stage():
    # Stage i's decoder maps stage i's code back to the (pooled) input of stage i with its own
    # kernel; a single int applies to every stage.
    model = StackedConvWTA(input_shape=(28, 28, 1), filters=[4, 6], decoder_kernel_size=[11, 7])
    shapes = {i: tuple(model.decoder.get_layer(f"stage{i}_decoder").kernel.shape) for i in (0, 1)}
    assert shapes == {0: (11, 11, 1, 4), 1: (7, 7, 4, 6)}
    assert model.get_config()["decoder_kernel_size"] == [11, 7]
    assert tuple(model.stage_model(1).output.shape) == (None, 14, 14, 4)
    single = StackedConvWTA(input_shape=(28, 28, 1), filters=[4, 6], decoder_kernel_size=9)
    assert [single.decoder.get_layer(f"stage{i}_decoder").kernel.shape[0] for i in (0, 1)] == [9, 9]


def test_stage_model_reconstructs_pooled_features(small_images):
    model = StackedConvWTA(**SMALL["stacked_conv_wta"])
    stage = model.stage_model(1)
    assert tuple(stage.output.shape) == (None, 7, 7, 4)
    feats = np_(model.encoder.get_layer("stage0_conv")(small_images))
    pooled = feats.reshape(8, 7, 2, 7, 2, 4).max(axis=(2, 4))
    reconstruction = np_(stage(small_images))
    np.testing.assert_allclose(np.mean(np.square(pooled - reconstruction)),
                               float(np_(stage.losses[0])), rtol=1e-4)
    with pytest.raises(ValueError, match="stage must be"):
        model.stage_model(2)


def _same_conv_relu(x, kernel, bias):
    """NumPy oracle of a stride-1 'same' Conv2D (cross-correlation) + bias + ReLU, odd kernels."""
    kh, kw, _, out = kernel.shape
    padded = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    y = np.zeros(x.shape[:3] + (out,), np.float64)
    for i in range(kh):
        for j in range(kw):
            y += padded[:, i:i + x.shape[1], j:j + x.shape[2]] @ kernel[i, j]
    return np.maximum(y + bias, 0)


def test_stage_encoder_returns_every_stage_maps_at_inference(small_images):
    # Oracle: NumPy convolutions and 2x2 max-pooling with the model's own weights; sparsity is
    # off (inference), so the maps are plain ReLU outputs.
    model = StackedConvWTA(**SMALL["stacked_conv_wta"])
    model.stage_model(1)  # a stage trainer calls the stage layers again, as greedy training does
    conv = [model.encoder.get_layer(f"stage{i}_conv") for i in (0, 1)]
    stage0 = _same_conv_relu(small_images, np_(conv[0].kernel), np_(conv[0].bias))
    pooled = stage0.reshape(8, 7, 2, 7, 2, 4).max(axis=(2, 4))
    stage1 = _same_conv_relu(pooled, np_(conv[1].kernel), np_(conv[1].bias))
    out = model.stage_encoder()(small_images)
    assert sorted(out) == ["stage0", "stage1"]
    np.testing.assert_allclose(np_(out["stage0"]), stage0, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_(out["stage1"]), stage1, rtol=1e-4, atol=1e-5)
    top = model.stage_encoder([1])(small_images)
    assert list(top) == ["stage1"]
    np.testing.assert_allclose(np_(top["stage1"]), stage1, rtol=1e-4, atol=1e-5)
    for stages, match in [([], "at least one"), ([2], "stage must be"),
                          ([1, 0], "increasing"), ([0, 0], "increasing")]:
        with pytest.raises(ValueError, match=match):
            model.stage_encoder(stages)


def test_load_stage_copies_a_one_layer_conv_wta(small_images):
    # Oracle: the Conv-WTA itself. At inference (sparsity off) the stage-0 trainer must then
    # reconstruct the images exactly as the Conv-WTA does, from the same feature maps.
    model = StackedConvWTA(**SMALL["stacked_conv_wta"])
    conv = ConvWTA(input_shape=(14, 14, 1), filters=[4], k=0.25, decoder_kernel_size=5)
    model.load_stage(0, conv)
    np.testing.assert_allclose(np_(model.encoder.get_layer("stage0_conv")(small_images)),
                               np_(conv.encoder(small_images)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np_(model.stage_model(0)(small_images)), np_(conv(small_images)),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match="conv_wta must be a ConvWTA"):
        model.load_stage(0, FCWTA(input_shape=(14, 14, 1), hidden_units=2))
    with pytest.raises(ValueError, match="one conv layer"):
        model.load_stage(0, ConvWTA(input_shape=(14, 14, 1), filters=[4, 4]))
    with pytest.raises(ValueError, match=r"stage 0's stage0_conv needs \[\(5, 5, 1, 4\), \(4,\)\]"):
        model.load_stage(0, ConvWTA(input_shape=(14, 14, 1), filters=[6]))
    with pytest.raises(ValueError, match="stage must be"):
        model.load_stage(2, conv)


@pytest.mark.parametrize("cls, kwargs, match", [
    (FCWTA, dict(k=0), "k must be"),
    (FCWTA, dict(k=1.5), "k must be"),
    (FCWTA, dict(hidden_units=0), "hidden_units"),
    (FCWTA, dict(hidden_bias=float("nan")), "hidden_bias must be a finite number"),
    (FCWTA, dict(hidden_bias="1"), "hidden_bias must be a finite number"),
    (ConvWTA, dict(filters=[]), "filters"),
    (ConvWTA, dict(kernel_size=0), "kernel_size"),
    (ConvWTA, dict(k="0.05"), "k must be"),
    (StackedConvWTA, dict(filters=[4, 4, 4, 4]), "not divisible"),
    (StackedConvWTA, dict(pool_size=0), "pool_size"),
    (StackedConvWTA, dict(decoder_kernel_size=0), "decoder_kernel_size"),
    (StackedConvWTA, dict(decoder_kernel_size=[11]), r"list of 2 positive ints \(one per stage\)"),
    (StackedConvWTA, dict(decoder_kernel_size=[11, 7, 5]), "one per stage"),
    (StackedConvWTA, dict(decoder_kernel_size=[11, 0]), "one per stage"),
    (StackedConvWTA, dict(decoder_kernel_size=[11, 7.0]), "one per stage"),
    (StackedConvWTA, dict(decoder_kernel_size=[11, True]), "one per stage"),
])
def test_bad_config(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)


def test_train_greedily_bad_arguments(small_images):
    with pytest.raises(TypeError, match="stacked_conv_wta"):
        train_greedily(FCWTA(input_shape=(14, 14, 1), hidden_units=2), small_images, epochs=1)
    with pytest.raises(ValueError, match="epochs"):
        train_greedily(StackedConvWTA(input_shape=(14, 14, 1), filters=[2, 2]), small_images,
                       epochs=[1])


# ---- reconstruct: through the sparsity the decoder was trained with ----------------------------

def _batched_oracle(images, batch_size, sparse_code, decode):
    """NumPy oracle of ``reconstruct``'s batching: whole batches of ``batch_size`` in order, the
    last partial one completed with the images before it; fewer images than ``batch_size`` form
    one batch. ``sparse_code(batch)`` makes a batch's sparse codes, ``decode`` decodes them."""
    n = len(images)
    if n <= batch_size:
        return decode(sparse_code(images))
    whole = n - n % batch_size
    parts = [decode(sparse_code(images[i:i + batch_size])) for i in range(0, whole, batch_size)]
    if whole < n:
        parts.append(decode(sparse_code(images[n - batch_size:]))[batch_size - (n - whole):])
    return np.concatenate(parts)


@pytest.fixture
def twenty_images():
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    return to_float_images(read_idx_folder(SAMPLE_DIR, "test")[0][:20])


@pytest.mark.parametrize("n, batch_size", [(20, 8), (20, 5), (6, 8), (20, 20)])
def test_fc_wta_reconstruct_is_sparse_per_batch(twenty_images, n, batch_size):
    model = FCWTA(hidden_units=12, k=0.25)
    x = twenty_images[:n]
    w, b = (np_(v) for v in model.encoder.get_layer("hidden").weights)
    wd, bd = (np_(v) for v in model.decoder.get_layer("pixels").weights)

    def sparse_code(batch):
        return lifetime_oracle(np.maximum(batch.reshape(len(batch), -1) @ w + b, 0), 0.25)

    expected = _batched_oracle(x, batch_size, sparse_code, lambda h: h @ wd + bd)
    got = model.reconstruct(x, batch_size=batch_size)
    assert got.shape == x.shape
    np.testing.assert_allclose(got.reshape(n, -1), expected, atol=1e-5)
    # the dense features are untouched: encode() is the plain ReLU layer
    np.testing.assert_allclose(model.encode(x), np.maximum(x.reshape(n, -1) @ w + b, 0),
                               atol=1e-5)


def test_conv_wta_reconstruct_is_spatial_and_lifetime_sparse(twenty_images):
    x = np.ascontiguousarray(twenty_images[:, ::2, ::2])
    model = ConvWTA(input_shape=(14, 14, 1), filters=[3, 4], k=0.25, decoder_kernel_size=5)
    codes = np_(model.encoder(x))

    def sparse_code(batch_codes):
        return lifetime_oracle(spatial_oracle(batch_codes), 0.25)

    expected = _batched_oracle(codes, 8, sparse_code, lambda h: np_(model.decoder(h)))
    np.testing.assert_allclose(model.reconstruct(x, batch_size=8), expected, atol=1e-5)
    np.testing.assert_allclose(model.encode(x), codes, atol=1e-6)
    # predict / model(x) decode the dense features (sparsity off): another thing
    np.testing.assert_allclose(model.predict(x, verbose=0), np_(model.decoder(codes)), atol=1e-5)


def test_stacked_reconstruct_sparsifies_every_stage_or_the_top(small_images):
    model = StackedConvWTA(**SMALL["stacked_conv_wta"])
    x = small_images
    top = lifetime_oracle(spatial_oracle(np_(model.encoder(x))), 0.25)
    below = np_(model.decoder.get_layer("stage1_upsample")(
        model.decoder.get_layer("stage1_decoder")(top)))
    stage0 = model.decoder.get_layer("stage0_decoder")
    stages = np_(stage0(lifetime_oracle(spatial_oracle(below), 0.25)))
    np.testing.assert_allclose(model.reconstruct(x), stages, atol=1e-5)
    np.testing.assert_allclose(model.reconstruct(x, sparsity="top"), np_(stage0(below)),
                               atol=1e-5)
    with pytest.raises(ValueError, match="sparsity must be one of 'stages', 'top'"):
        model.reconstruct(x, sparsity="all")


def test_reconstruct_survives_saving(twenty_images, tmp_path):
    model = FCWTA(hidden_units=12, k=0.25)
    before = model.reconstruct(twenty_images, batch_size=8)
    path = str(tmp_path / "m.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path)
    np.testing.assert_allclose(reloaded.reconstruct(twenty_images, batch_size=8), before,
                               atol=1e-5)
    # the view shares the weights: a change to the model shows in later reconstructions
    layer = reloaded.decoder.get_layer("pixels")
    layer.bias.assign(np_(layer.bias) + 1.0)
    np.testing.assert_allclose(reloaded.reconstruct(twenty_images, batch_size=8),
                               before + 1.0, atol=1e-5)


def test_reconstruct_bad_input(twenty_images):
    model = FCWTA(hidden_units=12, k=0.25)  # 0.25 keeps every image of a batch of 1
    assert model.smallest_reconstruction_batch() == 2
    with pytest.raises(ValueError, match="len\\(images\\) must be at least 2 .* got 1"):
        model.reconstruct(twenty_images[:1])
    with pytest.raises(ValueError, match="batch_size must be at least 2 .* got 1"):
        model.reconstruct(twenty_images, batch_size=1)
    with pytest.raises(ValueError, match="batch_size"):
        model.reconstruct(twenty_images, batch_size=0)
    with pytest.raises(ValueError, match=r"images must have shape \(n, 28, 28, 1\)"):
        model.reconstruct(twenty_images[:, :14])
    with pytest.raises(ValueError, match="at least one image"):
        model.reconstruct(twenty_images[:0])
    # no lifetime sparsity: any number of images
    plain = ConvWTA(input_shape=(14, 14, 1), filters=[2], k=None, decoder_kernel_size=3)
    assert plain.smallest_reconstruction_batch() == 1
    assert plain.reconstruct(twenty_images[:1, ::2, ::2]).shape == (1, 14, 14, 1)


@pytest.mark.parametrize("name, config, epochs", [
    ("fc_wta", dict(hidden_units=100, k=0.05), 4),
    ("conv_wta", dict(input_shape=(14, 14, 1), filters=[16], k=0.25, decoder_kernel_size=7), 4),
])
def test_trained_reconstructions_match_the_training_loss(name, config, epochs):
    """After ~300 steps (64-image batches of the 5,000 sample digits) the reconstructions
    through the training sparsity are about as good as the training loss says, whereas the
    decoder of the dense features misses by far; encode() still gives the dense features."""
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    x = to_float_images(read_idx_folder(SAMPLE_DIR, "train")[0])
    if name == "conv_wta":
        x = np.ascontiguousarray(x[:, ::2, ::2])
    test = x[:1000]
    model = keras_ae.models.build(name, **config)
    model.compile()
    history = model.fit(x, x, batch_size=64, epochs=epochs, verbose=0, shuffle=True)
    final_loss = history.history["loss"][-1]
    mse = float(np.mean((model.reconstruct(test, batch_size=64) - test) ** 2))
    assert mse < 3 * final_loss, (mse, final_loss)
    assert mse < np.mean((test - x.mean(axis=0)) ** 2)  # better than the mean image
    dense_mse = float(np.mean((model.predict(test, verbose=0) - test) ** 2))
    assert dense_mse > 3 * mse, (dense_mse, mse)
    codes = model.encode(test)
    np.testing.assert_allclose(codes, np_(model.encoder(test)), rtol=1e-5, atol=1e-5)
    # dense: far more than the fraction k of the images a unit keeps in training are non-zero
    active = (codes.reshape(len(codes), -1, codes.shape[-1]).max(axis=1) > 0).mean()
    assert active > 2 * config["k"], active


def test_stacked_fine_tuning_trains_the_decoders_to_beat_the_mean_image():
    """The default procedure: greedy stages, then as many epochs of the stage decoders with the
    encoder frozen (fine-tuning the encoder too ruins this model's features, docs/wta.md). On
    2,000 digits of the shipped sample, small stages: the encoder's weights are exactly those of
    the greedy stages, and the end-to-end reconstruction through every stage's sparsity
    (``reconstruct()``) ends below the mean image's error (NumPy oracle), where the greedy stages
    alone stay far above it (1.69 times)."""
    from keras_ae.data import SAMPLE_DIR, make_dataset, read_idx_folder, to_float_images

    x, y = read_idx_folder(SAMPLE_DIR, "train")
    x, y = to_float_images(x)[:2000], y[:2000]
    x_test = to_float_images(read_idx_folder(SAMPLE_DIR, "test")[0])
    mean_image = float(np.mean((x_test - x.mean(axis=0)) ** 2))
    keras.utils.set_random_seed(0)
    model = StackedConvWTA(filters=[16, 16], decoder_kernel_size=[7, 5], k=0.5)
    assert model.procedure(2)["fine_tune_epochs"] == 2
    data = make_dataset(x, y, batch_size=32, seed=0)
    train_greedily(model, data, epochs=1, learning_rate=3e-3)
    encoder = [np.copy(np_(w)) for w in model.encoder.weights]
    decoder = [np.copy(np_(w)) for w in model.decoder.weights]
    train_greedily(model, data, epochs=0, fine_tune_epochs=2, learning_rate=3e-3)
    assert all(np.array_equal(a, np_(b)) for a, b in zip(encoder, model.encoder.weights))
    assert not all(np.array_equal(a, np_(b)) for a, b in zip(decoder, model.decoder.weights))
    assert all(w.trainable for w in model.encoder.weights)  # unfrozen again
    mse = float(np.mean((model.reconstruct(x_test, batch_size=32) - x_test) ** 2))
    assert mse < mean_image, (mse, mean_image)