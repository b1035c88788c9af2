import keras
import numpy as np
import pytest

import keras_ae
from keras_ae.models.drsae import DrSAE, DrSAEPhaseSwitch
from keras_ae.models.drsae.analysis import (
    encoder_iterates,
    label_units,
    save_activity_over_iterations,
    save_part_units,
    save_prototypes,
    unit_statistics,
)
from keras_ae.testing import run_model_test

SMALL = dict(units=12, steps=3, sparsity=0.05)


@pytest.fixture
def labelled():
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    x, y = read_idx_folder(SAMPLE_DIR, "test")
    return to_float_images(x[:32]), y[:32]


def _np(t):
    return keras.ops.convert_to_numpy(t)


def _numpy_ista(x, dictionary, alpha, sparsity, steps):
    z = np.zeros((x.shape[0], dictionary.shape[1]))
    for _ in range(steps):
        z = np.maximum(z - alpha * (z @ dictionary.T - x) @ dictionary - alpha * sparsity, 0.0)
    return z


def test_battery(labelled):
    x, y = labelled
    model = keras_ae.models.build("drsae", **SMALL)
    run_model_test(model, x[:8], fit_x=x[:8], fit_y=y[:8],
                   export_full_model=keras.backend.backend() != "torch")


def test_untrained_encoder_is_ista_on_its_decoder_dictionary(labelled):
    x, _ = labelled
    model = DrSAE(units=16, steps=5, sparsity=0.02, seed=3)
    dictionary = model.get_layer("decoder").get_weights()[0].T.astype("float64")  # (784, 16)
    np.testing.assert_allclose(np.linalg.norm(dictionary, axis=0), 1.0, rtol=1e-5)
    alpha = min(1.0 / np.linalg.norm(dictionary, ord=2) ** 2, 1.25 / 4)
    flat = x.reshape(len(x), -1).astype("float64")
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    want = _numpy_ista(flat, dictionary, alpha, 0.02, 5)
    np.testing.assert_allclose(_np(model.encoder(x)), want, atol=2e-5)


def test_outputs_and_input_normalisation(labelled):
    x, _ = labelled
    model = DrSAE(**SMALL)
    out = model(x[:4])
    assert set(out) == {"logits", "reconstruction", "code"}
    assert tuple(out["reconstruction"].shape) == (4, 28, 28, 1)
    assert tuple(out["logits"].shape) == (4, 10) and tuple(out["code"].shape) == (4, 12)
    # Inputs are L2-normalised inside the model: scaling an image changes nothing.
    scaled = model(3.0 * x[:4])
    for key in out:
        np.testing.assert_allclose(_np(scaled[key]), _np(out[key]), atol=1e-5)


def test_loss_is_the_papers_sum(labelled):
    model = DrSAE(**SMALL)
    model.compile()
    for classification in (0.0, 1.0):
        _check_loss(model, *labelled, classification)


def test_unlabelled_examples_add_only_the_unsupervised_terms(labelled):
    """Labels -1 (keras_ae.data.UNLABELLED) mark unlabelled examples, as for every zoo model:
    the cross-entropy and the accuracy average over the labelled ones; with none labelled only
    reconstruction + sparsity remain."""
    x, y = labelled
    model = DrSAE(**SMALL)
    model.compile()
    partial = y.copy()
    partial[::3] = -1                                       # every third example unlabelled
    out = {k: _np(v).astype("float64") for k, v in model(x, training=False).items()}
    flat = x.reshape(len(x), -1).astype("float64")
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    unsupervised = (0.5 * np.sum((flat - out["reconstruction"].reshape(len(x), -1)) ** 2, axis=1)
                    + 0.05 * np.abs(out["code"]).sum(axis=1)).mean()
    logits = out["logits"]
    shifted = logits - logits.max(1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    kept = partial >= 0
    ce = -log_softmax[np.flatnonzero(kept), partial[kept]].mean()
    accuracy = (logits.argmax(1)[kept] == partial[kept]).mean()
    got = model.evaluate(x, partial, batch_size=len(x), verbose=0, return_dict=True)
    np.testing.assert_allclose(got["loss"], unsupervised + ce, rtol=1e-4)
    np.testing.assert_allclose(got["logits_accuracy"], accuracy, rtol=1e-6)
    none = model.evaluate(x, np.full_like(y, -1), batch_size=len(x), verbose=0,
                          return_dict=True)["loss"]
    np.testing.assert_allclose(none, unsupervised, rtol=1e-4)


def _check_loss(model, x, y, classification):
    model.set_loss_weights(classification=classification)
    out = {k: _np(v).astype("float64") for k, v in model(x, training=False).items()}
    flat = x.reshape(len(x), -1).astype("float64")
    flat /= np.linalg.norm(flat, axis=1, keepdims=True)
    recon = 0.5 * np.sum((flat - out["reconstruction"].reshape(len(x), -1)) ** 2, axis=1)
    l1 = 0.05 * np.abs(out["code"]).sum(axis=1)
    logits = out["logits"]
    log_softmax = logits - np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(
        1, keepdims=True)) - logits.max(1, keepdims=True)
    ce = -log_softmax[np.arange(len(y)), y]
    want = recon.mean() + l1.mean() + classification * ce.mean()
    got = model.evaluate(x, y, batch_size=len(x), verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(got, want, rtol=1e-4)
    # Without labels only the unsupervised terms remain.
    unsup = model.evaluate(x, batch_size=len(x), verbose=0, return_dict=True)["loss"]
    np.testing.assert_allclose(unsup, recon.mean() + l1.mean(), rtol=1e-4)


def test_constraints_bound_the_papers_norms(labelled):
    x, y = labelled
    model = DrSAE(units=12, steps=5)
    big = [10.0 * np.ones_like(w) for w in model.get_layer("classifier").get_weights()]
    model.get_layer("classifier").set_weights(big)
    model.get_layer("decoder").set_weights(
        [10.0 * np.ones_like(w) for w in model.get_layer("decoder").get_weights()])
    kernel, recurrent, bias = model.recurrent_layer.get_weights()
    model.recurrent_layer.set_weights([kernel + 1.0, recurrent, bias])
    model.compile(optimizer=keras.optimizers.SGD(1e-3))
    model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    encoder_kernel = model.recurrent_layer.get_weights()[0]     # (784, units) = Eᵀ
    decoder_kernel = model.get_layer("decoder").get_weights()[0]    # (units, 784) = Dᵀ
    classifier_kernel = model.get_layer("classifier").get_weights()[0]  # (units, 10) = Cᵀ
    e_rows = np.linalg.norm(encoder_kernel, axis=0)
    d_columns = np.linalg.norm(decoder_kernel, axis=1)
    c_rows = np.linalg.norm(classifier_kernel, axis=0)
    np.testing.assert_allclose(e_rows, 1.25 / 4, rtol=1e-4)   # all were far above the bound
    np.testing.assert_allclose(d_columns, 1.0, rtol=1e-4)
    np.testing.assert_allclose(c_rows, 5.0, rtol=1e-4)


def test_phase_switch_callback(labelled):
    x, y = labelled
    model = DrSAE(**SMALL)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    seen = []
    classifier = model.get_layer("classifier")
    before = classifier.get_weights()[0].copy()
    snapshots = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            seen.append(float(_np(model.classification_weight.loss_weight)))

        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(classifier.get_weights()[0].copy())

    model.fit(x, y, batch_size=16, epochs=3, verbose=0,
              callbacks=[DrSAEPhaseSwitch(2, classification_weight=0.5), Spy()])
    assert seen == [0.0, 0.0, 0.5]
    # No cross-entropy in phase 1: the classifier (only trained by it) does not move, up to
    # MaxNorm's epsilon (it rescales by norm / (norm + 1e-7) after every step).
    np.testing.assert_allclose(snapshots[1], before, atol=1e-5)
    assert np.abs(snapshots[2] - before).max() > 1e-3


def test_iterates_and_analysis(labelled, tmp_path):
    x, y = labelled
    model = DrSAE(**SMALL)
    iterates = encoder_iterates(model, x)
    assert iterates.shape == (len(x), 3, 12)
    np.testing.assert_allclose(iterates[:, -1], _np(model.encoder(x)), atol=1e-6)
    stats = unit_statistics(model, x, y)
    assert stats["iterate_mean"].shape == (3, 12)
    assert np.all((stats["selectivity"] >= 0) & (stats["selectivity"] <= 1))
    kinds = np.array(["categorical"] * 4 + ["part"] * 8)
    assert save_prototypes(model, stats, kinds, str(tmp_path / "p.png")).endswith("p.png")
    assert (tmp_path / "p.png").stat().st_size > 0
    save_part_units(model, stats, kinds, str(tmp_path / "q.png"))
    save_activity_over_iterations(stats, kinds, str(tmp_path / "a.png"))
    assert (tmp_path / "a.png").exists()


def test_label_units_closed_cases():
    stats = {
        "selectivity": np.array([0.9, 0.9, 0.2, 0.95, 0.5]),
        "onset": np.array([4.0, 1.0, 3.0, np.nan, 2.0]),
        "final_mean": np.array([0.3, 0.4, 0.2, 0.0, 0.1]),
    }
    assert label_units(stats).tolist() == ["categorical", "part", "part", "dead", "categorical"]


def test_activity_statistics_closed_case():
    # A unit switched on at step 2 only for class 1; a unit on from step 1 for every class.
    iterates = np.zeros((4, 3, 2))
    labels = np.array([0, 1, 0, 1])
    iterates[labels == 1, 1:, 0] = 1.0
    iterates[:, :, 1] = 0.5

    class Fake:
        def get_config(self):
            return {"num_classes": 2}

    import keras_ae.models.drsae.analysis as drsae

    original = drsae.encoder_iterates
    drsae.encoder_iterates = lambda model, images, batch_size=512: iterates
    try:
        stats = drsae.unit_statistics(Fake(), None, labels)
    finally:
        drsae.encoder_iterates = original
    np.testing.assert_allclose(stats["selectivity"], [1.0, 0.5])
    np.testing.assert_allclose(stats["onset"], [2.0, 1.0])
    np.testing.assert_allclose(stats["first_step_share"], [0.0, 1.0])
    assert stats["preferred_class"][0] == 1
    assert label_units(stats).tolist() == ["categorical", "part"]


def test_bad_config():
    for kwargs, match in [(dict(units=0), "units"), (dict(steps=0), "steps"),
                          (dict(num_classes=1), "num_classes"), (dict(sparsity=-1.0), "sparsity"),
                          (dict(input_shape=(28, 28)), "input_shape")]:
        with pytest.raises(ValueError, match=match):
            DrSAE(**kwargs)


def test_compile_rejects_a_loss():
    with pytest.raises(ValueError, match="loss=None"):
        DrSAE(**SMALL).compile(loss="mse")
    with pytest.raises(ValueError, match="unsupervised_epochs"):
        DrSAEPhaseSwitch(-1)


def test_default_learning_rate_keeps_the_units_alive():
    """With its defaults (``compile()``: Adam at ``default_learning_rate``), one unsupervised
    epoch on the 5,000 sample digits leaves most of the 400 units firing on some test digit.
    (At Keras' usual 1e-3 the encoder collapsed there to a couple of units, and ``keras-ae train
    drsae --epochs 3`` on MNIST ended at tens of percent test error.)"""
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    x, y = read_idx_folder(SAMPLE_DIR, "train")
    x = to_float_images(x)
    test = to_float_images(read_idx_folder(SAMPLE_DIR, "test")[0])
    model = DrSAE()
    model.compile()
    model.set_loss_weights(classification=0.0)  # the unsupervised phase
    model.fit(x, y, batch_size=128, epochs=1, verbose=0)
    codes = model.encode(test)
    assert codes.shape == (len(test), 400)
    assert (codes > 0).any(axis=0).sum() > 200
    assert (codes > 0).sum(axis=1).mean() > 20
