
import keras
import numpy as np
import pytest

from keras_ae import evaluation
from keras_ae.models import DenseAutoencoder
from keras_ae.models.wta import ConvWTA


def pool_oracle(maps, p):
    n, h, w, c = maps.shape
    out = np.zeros((n, -(-h // p), -(-w // p), c), maps.dtype)
    for i in range(out.shape[1]):
        for j in range(out.shape[2]):
            out[:, i, j] = maps[:, i * p:(i + 1) * p, j * p:(j + 1) * p].max(axis=(1, 2))
    return out


@pytest.mark.parametrize("shape, p", [((2, 6, 6, 3), 2), ((2, 7, 5, 2), 3), ((1, 4, 4, 1), 1)])
def test_max_pool_features_matches_loops(shape, p):
    maps = np.random.default_rng(0).normal(size=shape).astype("float32")
    np.testing.assert_array_equal(evaluation.max_pool_features(maps, p), pool_oracle(maps, p))


def test_conv_features_are_pooled_encoder_maps_at_inference(images):
    model = ConvWTA(input_shape=(28, 28, 1), filters=[3], decoder_kernel_size=3, k=0.5)
    maps = keras.ops.convert_to_numpy(model.encoder(images))
    feats = evaluation.extract_features(model, images, pool_size=7, chunk_size=3)
    np.testing.assert_allclose(feats, pool_oracle(maps, 7).reshape(8, -1), atol=1e-6)
    auto = evaluation.extract_features(model, images)  # about 4x4 regions: 7-pixel windows
    np.testing.assert_allclose(auto, feats, atol=1e-6)
    full = evaluation.extract_features(model, (images * 255).astype("uint8"), pool_size=None)
    assert full.shape == (8, 28 * 28 * 3)


def test_dense_codes_and_dict_encoders(images):
    model = DenseAutoencoder(hidden_units=[8], code_size=4)
    codes = keras.ops.convert_to_numpy(model.encoder(images))
    np.testing.assert_allclose(evaluation.extract_features(model, images), codes, atol=1e-6)
    inputs = keras.Input((28, 28, 1))
    flat = keras.layers.Flatten()(inputs)
    dict_encoder = keras.Model(inputs, {"code": flat[:, :5], "other": flat[:, :2]})
    np.testing.assert_allclose(evaluation.extract_features(dict_encoder, images),
                               images.reshape(8, -1)[:, :5], atol=0)
    np.testing.assert_allclose(
        evaluation.extract_features(dict_encoder, images, output_key="other"),
        images.reshape(8, -1)[:, :2], atol=0)
    no_code = keras.Model(inputs, {"a": flat, "b": flat})
    with pytest.raises(ValueError, match="output_key"):
        evaluation.extract_features(no_code, images)


def test_list_of_output_keys_concatenates_each_pooled_on_its_own_grid(images):
    # A two-stage-like encoder: 28x28 maps (auto window 7) and 14x14 maps (auto window 4, a
    # 4x4 grid with a 2-pixel last row/column), and a flat code; oracle: NumPy pooling.
    inputs = keras.Input((28, 28, 1))
    half = keras.layers.MaxPooling2D(2)(inputs)
    encoder = keras.Model(inputs, {"low": inputs, "high": half * 2.0,
                                   "flat": keras.layers.Flatten()(half)})
    low, high = images, images.reshape(8, 14, 2, 14, 2, 1).max(axis=(2, 4)) * 2.0
    expected = np.concatenate([pool_oracle(high, 4).reshape(8, -1),
                               pool_oracle(low, 7).reshape(8, -1)], axis=1)
    feats = evaluation.extract_features(encoder, images, output_key=["high", "low"],
                                        chunk_size=3)
    np.testing.assert_allclose(feats, expected, rtol=1e-6)
    np.testing.assert_allclose(
        evaluation.extract_features(encoder, images, output_key=("flat",)),
        high.reshape(8, -1) / 2.0, rtol=1e-6)
    with pytest.raises(ValueError, match=r"not found: \['top'\]"):
        evaluation.extract_features(encoder, images, output_key=["low", "top"])
    for bad in ([], ["low", 1]):
        with pytest.raises(TypeError, match="non-empty list of keys"):
            evaluation.extract_features(encoder, images, output_key=bad)
    plain = keras.Model(inputs, half)
    with pytest.raises(ValueError, match="needs an encoder with dict outputs"):
        evaluation.extract_features(plain, images, output_key=["low"])


def _blobs(n, seed):
    """Three well separated Gaussian blobs in 4-D: a linear classifier gets them all right."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n // 3)
    centres = np.array([[6, 0, 0, 0], [0, 6, 0, 0], [0, 0, 6, 0]], "float32")
    return (centres[labels] + rng.normal(size=(len(labels), 4))).astype("float32"), labels


def test_linear_probe_separates_separable_classes():
    identity = keras.Sequential([keras.Input((4,)), keras.layers.Identity()])
    x, y = _blobs(150, 0)
    xt, yt = _blobs(90, 1)
    result = evaluation.linear_probe(identity, x, y, xt, yt, epochs=5, min_steps=150)
    assert result["test_error"] == 0.0 and result["feature_dim"] == 4
    assert result["num_labels"] == 150
    few = evaluation.linear_probe(identity, x, y, xt, yt, num_labels=9, epochs=2, min_steps=150)
    assert few["num_labels"] == 9
    assert few["test_error"] <= 0.05


def test_train_linear_probe_uses_given_statistics():
    x, y = _blobs(30, 2)
    classifier, mean, std = evaluation.train_linear_probe(x, y, epochs=1, min_steps=5,
                                                          mean=np.zeros(4), std=np.ones(4))
    np.testing.assert_array_equal(mean, 0)
    np.testing.assert_array_equal(std, 1)
    assert classifier.get_layer("linear").units == 3


def test_bad_arguments(images):
    with pytest.raises(TypeError, match="keras.Model"):
        evaluation.extract_features("encoder", images)
    model = DenseAutoencoder(hidden_units=[4], code_size=2)
    with pytest.raises(ValueError, match="pool_size"):
        evaluation.extract_features(model, images, pool_size=0)
    with pytest.raises(ValueError, match="maps must be"):
        evaluation.max_pool_features(np.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match="features must be"):
        evaluation.train_linear_probe(np.zeros((3, 2)), np.zeros(4))


def test_validation_split_is_stratified_and_disjoint():
    labels = np.array([0] * 12 + [1] * 6 + [2])  # class 2 has a single example: it stays in fit
    fit, val = evaluation.validation_split(labels, fraction=1 / 6, seed=3)
    assert set(fit).isdisjoint(val) and sorted(np.concatenate([fit, val])) == list(range(19))
    assert np.bincount(labels[val], minlength=3).tolist() == [2, 1, 0]
    again, _ = evaluation.validation_split(labels, fraction=1 / 6, seed=3)
    np.testing.assert_array_equal(fit, again)


def test_auto_l2_picks_the_candidate_with_lowest_validation_error():
    x, y = _blobs(300, 0)
    keep = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y > 0)[::5]])  # 100 / 20 / 20
    x, y = x[keep], y[keep]
    xt, yt = _blobs(90, 1)
    # l2 = 100 pins the weights near zero, so the unregularised bias decides alone: it names the
    # majority class 0 for everything, wrong on the 3 + 3 held-out examples of classes 1 and 2.
    result = evaluation.probe_features(x, y, xt, yt, epochs=2, min_steps=300, l2=[0.0, 100.0])
    sel = result["l2_selection"]
    assert sel["candidates"] == [0.0, 100.0] and sel["validation_examples"] == 17 + 3 + 3
    assert sel["validation_error"][0] == 0.0
    assert sel["validation_error"][1] == pytest.approx(6 / 23)
    assert sel["chosen"] == 0.0 == result["probe"]["l2"]
    assert result["test_error"] == 0.0
    fixed = evaluation.probe_features(x, y, xt, yt, epochs=1, min_steps=20, l2=1e-4)
    assert fixed["l2_selection"] is None and fixed["probe"]["l2"] == 1e-4
    assert evaluation.L2_GRID[0] == 0.0 and len(evaluation.L2_GRID) > 1


def test_stratified_folds_hold_every_example_out_once_and_balance_classes():
    labels = np.array([0] * 7 + [1] * 5 + [2])
    splits = evaluation.stratified_folds(labels, 3, seed=4)
    assert len(splits) == 3
    held_out = np.concatenate([val for _, val in splits])
    assert sorted(held_out) == list(range(13))  # each example validated exactly once
    for fit, val in splits:
        assert sorted(np.concatenate([fit, val])) == list(range(13))
    per_fold = np.array([np.bincount(labels[val], minlength=3) for _, val in splits])
    assert (per_fold.max(axis=0) - per_fold.min(axis=0) <= 1).all()  # 7 -> 3/2/2, 5 -> 2/2/1
    assert per_fold.sum(axis=0).tolist() == [7, 5, 1]
    sizes = per_fold.sum(axis=1)
    assert sizes.max() - sizes.min() <= 1
    again = evaluation.stratified_folds(labels, 3, seed=4)
    assert all((a[1] == b[1]).all() for a, b in zip(splits, again))
    other = evaluation.stratified_folds(labels, 3, seed=5)
    assert any((a[1] != b[1]).any() for a, b in zip(splits, other) if len(a[1]) == len(b[1]))


@pytest.mark.parametrize("folds", [1, 0, 14, 2.0, True, "3"])
def test_bad_folds(folds):
    with pytest.raises(ValueError, match="folds must"):
        evaluation.stratified_folds(np.arange(13) % 2, folds)


def test_choose_on_held_out_pools_the_folds_errors():
    labels = np.arange(12) % 2
    # a made-up error: candidate c misclassifies the held-out examples with index < c
    def error_of(c, fit, val):
        assert set(fit).isdisjoint(val)
        return float(np.mean(val < c))

    sel = evaluation.choose_on_held_out(labels, [0, 3, 6], error_of, folds=4, seed=1)
    # every example is held out once, so candidate c's error is c / 12 whatever the folds
    assert sel["validation_error"] == pytest.approx([0, 3 / 12, 6 / 12])
    assert sel["validation_examples"] == 12 and sel["folds"] == 4 and sel["chosen"] == 0
    tied = evaluation.choose_on_held_out(labels, [5, 1, 3], lambda c, f, v: 0.5, folds=3)
    assert tied["chosen"] == 5
    assert evaluation.choose_on_held_out(labels, [5, 1, 3], lambda c, f, v: 0.5, folds=3,
                                         tie_break=min)["chosen"] == 1
    single = evaluation.choose_on_held_out(labels, [0, 3], error_of, folds=1,
                                           validation_fraction=1 / 3)
    assert single["folds"] == 1 and single["validation_examples"] == 4


def test_probe_heads_take_the_steps_of_separate_fits():
    # Oracle: train_linear_probe, one fit per weight decay, with Keras's own cross-entropy and
    # L2 regulariser. The joint heads (a summed loss written with keras.ops, per-column decay)
    # must end at the same weights: same mini-batches, elementwise Adam, independent heads.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 90)
    x = (rng.normal(size=(90, 6)) + 1.5 * np.eye(3, 6)[y]).astype("float32")  # overlapping
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    l2s = [0.0, 0.01, 1.0]
    kwargs = dict(epochs=3, batch_size=16, learning_rate=0.05, seed=3, min_steps=40)
    heads = evaluation._train_probe_heads(x, y, 3, l2s, mean, std, **kwargs)
    kernel = keras.ops.convert_to_numpy(heads.get_layer("linear_heads").kernel)
    bias = keras.ops.convert_to_numpy(heads.get_layer("linear_heads").bias)
    errors = evaluation._head_errors(heads, 3, x, y, mean, std)
    for h, l2 in enumerate(l2s):
        single, _, _ = evaluation.train_linear_probe(x, y, 3, l2=l2, mean=mean, std=std,
                                                     **kwargs)
        layer = single.get_layer("linear")
        np.testing.assert_allclose(kernel[:, 3 * h:3 * h + 3],
                                   keras.ops.convert_to_numpy(layer.kernel), atol=2e-5)
        np.testing.assert_allclose(bias[3 * h:3 * h + 3], keras.ops.convert_to_numpy(layer.bias),
                                   atol=2e-5)
        predicted = np.argmax(single.predict((x - mean) / std, verbose=0), axis=1)
        assert errors[h] == pytest.approx(np.mean(predicted != y))
    # the decays differ enough that the heads differ: the test can tell them apart
    assert np.abs(kernel[:, :3]).sum() > 2 * np.abs(kernel[:, 6:]).sum()


def test_choose_weight_decay_joint_equals_separate_fits():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 3, 120)
    x = (rng.normal(size=(120, 5)) + 1.2 * np.eye(3, 5)[y]).astype("float32")
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    kwargs = dict(folds=3, epochs=2, batch_size=16, learning_rate=0.05, min_steps=30)
    joint = evaluation.choose_weight_decay(x, y, [0.0, 0.1, 3.0], 3, mean, std, **kwargs)
    separate = evaluation.choose_weight_decay(x, y, [0.0, 0.1, 3.0], 3, mean, std, joint=False,
                                              **kwargs)
    assert joint == separate
    assert len(set(joint["validation_error"])) > 1  # the candidates are told apart


def test_choose_on_held_out_vectorized_matches_one_candidate_at_a_time():
    labels = np.arange(12) % 2

    def error_of(c, fit, val):
        return float(np.mean(val < c))

    one = evaluation.choose_on_held_out(labels, [6, 0, 3], error_of, folds=4, seed=1)
    calls = []

    def errors_of(candidates, fit, val):
        calls.append(list(candidates))
        return [error_of(c, fit, val) for c in candidates]

    joint = evaluation.choose_on_held_out(labels, [6, 0, 3], errors_of, folds=4, seed=1,
                                          vectorized=True)
    assert joint == one and calls == [[6, 0, 3]] * 4


def test_auto_l2_by_cross_validation_holds_out_every_labelled_example():
    x, y = _blobs(300, 0)
    keep = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y > 0)[::5]])  # 100 / 20 / 20
    x, y = x[keep], y[keep]
    xt, yt = _blobs(90, 1)
    result = evaluation.probe_features(x, y, xt, yt, epochs=2, min_steps=300, l2=[0.0, 100.0],
                                       folds=5)
    sel = result["l2_selection"]
    assert sel["folds"] == 5 and sel["validation_examples"] == 140
    # as with one held-out part: l2 = 100 names class 0 for everything, wrong on classes 1 and 2
    assert sel["validation_error"] == pytest.approx([0.0, 40 / 140])
    assert sel["chosen"] == 0.0 and result["test_error"] == 0.0
    with pytest.raises(ValueError, match="folds must"):
        evaluation.probe_features(x, y, xt, yt, epochs=1, min_steps=5, l2="auto", folds=0)


@pytest.mark.parametrize("spec, expected", [("all", None), (None, None), ("100", 100), (7, 7),
                                            (" 12", 12)])
def test_label_budget_reads_all_or_a_count(spec, expected):
    assert evaluation.label_budget(spec) == expected


@pytest.mark.parametrize("spec", ["0", "-3", "ten", "1.5", "1e3", True, 2.5])
def test_label_budget_rejects_anything_else(spec):
    with pytest.raises(ValueError, match="label budget"):
        evaluation.label_budget(spec)


@pytest.mark.parametrize("l2", ["big", -1.0, [], [0.0, -2.0], True, float("nan"), float("inf"),
                                [1e-3, float("nan")]])
def test_bad_l2(l2):
    x, y = _blobs(30, 2)
    with pytest.raises(ValueError, match="l2 must"):
        evaluation.probe_features(x, y, x, y, epochs=1, min_steps=5, l2=l2)


def test_bad_validation_fraction():
    x, y = _blobs(30, 2)
    with pytest.raises(ValueError, match="validation_fraction"):
        evaluation.probe_features(x, y, x, y, epochs=1, min_steps=5, l2="auto",
                                  validation_fraction=1.5)


def _softmax_objective(w, b, x, y, l2):
    """Mean cross-entropy plus Keras' L2 penalty ``l2 * sum(w ** 2)`` (the bias is free)."""
    z = x @ w + b
    z = z - z.max(axis=1, keepdims=True)
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -log_p[np.arange(len(y)), y].mean() + l2 * np.sum(w ** 2)


def _softmax_optimum(x, y, k, l2, iters=20000, step=0.5):
    """The regularised softmax regression's optimum by full-batch gradient descent in float64."""
    w, b, onehot = np.zeros((x.shape[1], k)), np.zeros(k), np.eye(k)[y]
    for _ in range(iters):
        z = x @ w + b
        p = np.exp(z - z.max(axis=1, keepdims=True))
        g = (p / p.sum(axis=1, keepdims=True) - onehot) / len(y)
        w -= step * (x.T @ g + 2 * l2 * w)
        b -= step * g.sum(axis=0)
    return w, b


def test_cosine_probe_reaches_the_convex_optimum():
    # Overlapping classes: the regularised objective has one finite optimum to compare with.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    x = (rng.normal(size=(3, 6))[y] + 1.5 * rng.normal(size=(300, 6))).astype("float32")
    l2 = 1e-2
    w, b = _softmax_optimum(x.astype("float64"), y, 3, l2)
    best = _softmax_objective(w, b, x, y, l2)
    gaps = {}
    for schedule in evaluation.SCHEDULES:
        classifier, _, _ = evaluation.train_linear_probe(
            x, y, 3, l2=l2, learning_rate=0.05, schedule=schedule, mean=np.zeros(6),
            std=np.ones(6))
        kernel, bias = (keras.ops.convert_to_numpy(v)
                        for v in classifier.get_layer("linear").weights)
        gaps[schedule] = _softmax_objective(kernel, bias, x, y, l2) - best
        if schedule == "cosine":
            np.testing.assert_allclose(kernel, w, atol=0.03)
    assert 0 <= gaps["cosine"] < 1e-3
    # a constant step of the same size ends wherever the last mini-batches left it
    assert gaps["constant"] > 3 * gaps["cosine"]


def test_bad_schedule():
    x, y = _blobs(30, 2)
    with pytest.raises(ValueError, match="schedule"):
        evaluation.train_linear_probe(x, y, schedule="linear")
    with pytest.raises(ValueError, match="schedule"):
        evaluation.probe_features(x, y, x, y, schedule=None)


def test_label_budget_mask_keeps_all_or_a_balanced_draw():
    labels = np.repeat(np.arange(4), 25)
    assert evaluation.label_budget_mask(labels).all()
    mask = evaluation.label_budget_mask(labels, 20, seed=3)
    assert mask.dtype == bool and mask.sum() == 20
    np.testing.assert_array_equal(np.bincount(labels[mask], minlength=4), [5, 5, 5, 5])
    np.testing.assert_array_equal(mask, evaluation.label_budget_mask(labels, 20, seed=3))


def test_feature_activity_counts_dead_features():
    # 4 images x (2 x 3) features: feature 0 fires on 4/4, 1 on 2/4, 2 on 1/4, 3..5 never
    # (negative or zero values count as silent, as behind a ReLU)
    features = np.zeros((4, 2, 3), "float32")
    features[:, 0, 0] = [1, 2, 3, 4]
    features[:, 0, 1] = [0.5, 0, 0.5, 0]
    features[:, 0, 2] = [0, 0, 0, 7]
    features[:, 1, 0] = -1
    result = evaluation.feature_activity(features)
    assert result == {"features": 6, "never_active": 3,
                      "median_active_fraction": pytest.approx((0 + 0.25) / 2)}
    with pytest.raises(ValueError, match="features must be"):
        evaluation.feature_activity(np.ones(5))


def test_probe_copies_join_their_labelled_examples_in_every_fit(monkeypatch):
    """train_copies: the final fit gets the labelled examples then each copy of those same
    examples (labels repeated); the standardisation comes from the original training features;
    each cross-validation fit gets the copies of its own fit examples only."""
    x, y = _blobs(90, 0)
    xt, yt = _blobs(30, 1)
    copies = [x + 1000.0, x + 2000.0]  # a copy row tells which original it came from
    fits, head_fits = [], []
    real_fit, real_heads = evaluation.train_linear_probe, evaluation._train_probe_heads

    def spy_fit(features, labels, *a, **kw):
        fits.append((np.array(features), np.array(labels), kw["mean"]))
        return real_fit(features, labels, *a, **kw)

    def spy_heads(features, labels, *a, **kw):
        head_fits.append(np.array(features))
        return real_heads(features, labels, *a, **kw)

    monkeypatch.setattr(evaluation, "train_linear_probe", spy_fit)
    monkeypatch.setattr(evaluation, "_train_probe_heads", spy_heads)
    result = evaluation.probe_features(x, y, xt, yt, num_labels=30, epochs=1, min_steps=20,
                                       l2=[0.0, 1e-3], folds=3, train_copies=copies)
    assert result["augmented_copies"] == 2 and result["num_labels"] == 30
    (features, labels, mean), = fits
    assert features.shape == (90, 4)
    originals = features[:30]
    np.testing.assert_array_equal(features[30:60], originals + 1000.0)
    np.testing.assert_array_equal(features[60:], originals + 2000.0)
    np.testing.assert_array_equal(labels, np.tile(labels[:30], 3))
    assert np.isin(originals, x).all(axis=1).all()  # the labelled subset of the originals
    np.testing.assert_allclose(mean, x.mean(axis=0), rtol=1e-6)  # unmoved statistics
    assert len(head_fits) == 3
    fitted = []
    for rows in head_fits:  # 20 fit originals of 30, then their two copies
        assert rows.shape == (60, 4)
        np.testing.assert_array_equal(rows[20:40], rows[:20] + 1000.0)
        np.testing.assert_array_equal(rows[40:], rows[:20] + 2000.0)
        fitted.append({tuple(r) for r in rows[:20]})
    # every labelled example is held out of exactly one of the three fits
    every = {tuple(r) for r in originals}
    assert all(sum(r in f for f in fitted) == 2 for r in every)
    assert result["l2_selection"]["validation_examples"] == 30  # originals scored, not copies


def test_probe_copies_of_held_out_examples_are_never_fitted():
    """Random labels, more features than examples: a probe memorises what it is fitted on. With
    exact duplicates as the copies, a held-out example's copy in the fit would be memorised and
    its validation error near zero; kept out, the error stays at chance."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 20)
    x = rng.normal(size=(60, 200)).astype("float32")
    mean, std = x.mean(axis=0), x.std(axis=0) + 1e-6
    kwargs = dict(folds=3, epochs=20, batch_size=60, learning_rate=0.05, min_steps=100)
    control, _, _ = evaluation.train_linear_probe(x, y, 3, epochs=20, batch_size=60,
                                                  learning_rate=0.05, min_steps=100,
                                                  mean=mean, std=std)
    predicted = np.argmax(control.predict((x - mean) / std, verbose=0), axis=1)
    assert np.mean(predicted != y) == 0.0  # it memorises whatever it is fitted on
    sel = evaluation.choose_weight_decay(x, y, [0.0], 3, mean, std, copies=[x.copy()], **kwargs)
    assert sel["validation_examples"] == 60
    assert sel["validation_error"][0] > 0.4  # chance is 2/3: nothing held out was fitted


def test_probe_copies_must_be_row_aligned_feature_arrays():
    x, y = _blobs(30, 0)
    with pytest.raises(TypeError, match="train_copies must be a sequence"):
        evaluation.probe_features(x, y, x, y, epochs=1, min_steps=5, train_copies=x)
    with pytest.raises(ValueError, match=r"train_copies\[1\] must be row-aligned"):
        evaluation.probe_features(x, y, x, y, epochs=1, min_steps=5,
                                  train_copies=[x, x[:10]])
    plain = evaluation.probe_features(x, y, x, y, epochs=1, min_steps=5, train_copies=[])
    assert plain["augmented_copies"] == 0


def test_linear_probe_shift_fits_moved_copies_of_the_training_images(monkeypatch):
    """linear_probe(shift=2, copies=3): the probe gets, beside the unmoved training and test
    features, three copies of the training features, each image moved by its own (dy, dx) in
    [-2, 2]² (checked against NumPy: content kept away from the border, so a move loses nothing
    and is a roll)."""
    rng = np.random.default_rng(0)
    x = np.zeros((40, 8, 8, 1), "float32")
    x[:, 2:6, 2:6] = rng.random((40, 4, 4, 1))
    y = np.arange(40) % 4
    xt, yt = rng.random((12, 8, 8, 1)).astype("float32"), np.arange(12) % 4
    flatten = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
    seen = {}
    real = evaluation.probe_features

    def spy(train_features, train_labels, test_features, test_labels, **kwargs):
        seen.update(train=train_features, test=test_features, copies=kwargs["train_copies"])
        return real(train_features, train_labels, test_features, test_labels, **kwargs)

    monkeypatch.setattr(evaluation, "probe_features", spy)
    result = evaluation.linear_probe(flatten, x, y, xt, yt, epochs=1, min_steps=5, shift=2,
                                     copies=3, seed=5)
    assert result["augmented_copies"] == 3 and result["shift"] == 2
    np.testing.assert_array_equal(seen["train"], x.reshape(40, -1))
    np.testing.assert_array_equal(seen["test"], xt.reshape(12, -1))
    assert len(seen["copies"]) == 3
    offsets = set()
    for copy in seen["copies"]:
        moved = copy.reshape(40, 8, 8)
        for image, got in zip(x[..., 0], moved):
            match = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                     if np.array_equal(np.roll(image, (dy, dx), axis=(0, 1)), got)]
            assert len(match) == 1
            offsets.add(match[0])
    assert len(offsets) > 10  # drawn at random, not one move for all
    plain = evaluation.linear_probe(flatten, x, y, xt, yt, epochs=1, min_steps=5)
    assert seen["copies"] is None and plain["augmented_copies"] == 0 and plain["shift"] == 0


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(shift=-1), ValueError, "shift must be a whole number of pixels >= 0"),
    (dict(shift=1.5), ValueError, "shift must be a whole number"),
    (dict(shift=1, copies=0), ValueError, "copies must be a whole number >= 1"),
    (dict(copies=2), ValueError, "copies=2 needs shift >= 1"),
    (dict(shift=4), ValueError, "shift=4 would move whole 8x8 images out of the frame"),
])
def test_linear_probe_bad_shift(kwargs, error, match):
    flatten = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()])
    x, y = np.zeros((6, 8, 8, 1), "float32"), np.arange(6) % 3
    with pytest.raises(error, match=match):
        evaluation.linear_probe(flatten, x, y, x, y, epochs=1, min_steps=5, **kwargs)
