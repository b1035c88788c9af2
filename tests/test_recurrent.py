import keras
import numpy as np
import pytest

from keras_ae.layers import UnrolledSparseEncoder
from keras_ae.layers.recurrent import ista_weights
from keras_ae.testing import run_layer_test


def _numpy_nonnegative_ista(x, dictionary, alpha, sparsity, steps):
    """Non-negative ISTA for min ½||x − Dz||² + λ||z||₁, z ≥ 0, from z = 0: every iterate."""
    z = np.zeros((x.shape[0], dictionary.shape[1]))
    iterates = []
    for _ in range(steps):
        gradient = (z @ dictionary.T - x) @ dictionary
        z = np.maximum(z - alpha * gradient - alpha * sparsity, 0.0)
        iterates.append(z)
    return np.stack(iterates, axis=1)


@pytest.mark.parametrize("return_sequences", [False, True])
def test_battery(return_sequences):
    x = np.random.default_rng(0).standard_normal((4, 6)).astype("float32")
    expected = (4, 3, 5) if return_sequences else (4, 5)
    run_layer_test(UnrolledSparseEncoder,
                   {"units": 5, "steps": 3, "return_sequences": return_sequences,
                    "recurrent_initializer": "orthogonal", "scale_shared_gradients": True,
                    "kernel_constraint": keras.constraints.MaxNorm(2.0, axis=0)},
                   x, expected_output_shape=expected)


def test_equals_nonnegative_ista_iterate_by_iterate():
    for steps in (1, 2, 7):
        _check_ista(steps)


def _check_ista(steps):
    rng = np.random.default_rng(1)
    dictionary = rng.standard_normal((12, 9))
    dictionary /= np.linalg.norm(dictionary, axis=0)
    x = rng.standard_normal((5, 12))
    alpha = 1.0 / np.linalg.norm(dictionary, ord=2) ** 2
    sparsity = 0.1
    # In Keras convention bias = −α·λ (the paper's b = +α·λ is subtracted).
    kernel = alpha * dictionary
    recurrent = np.eye(9) - alpha * dictionary.T @ dictionary
    bias = np.full(9, -alpha * sparsity)
    layer = UnrolledSparseEncoder(9, steps=steps, return_sequences=True)
    layer.build((None, 12))
    layer.set_weights([kernel.astype("float32"), recurrent.astype("float32"),
                       bias.astype("float32")])
    got = keras.ops.convert_to_numpy(layer(x.astype("float32")))
    want = _numpy_nonnegative_ista(x, dictionary, alpha, sparsity, steps)
    assert got.shape == (5, steps, 9)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert (want[:, -1] > 0).any() and (want[:, -1] == 0).any()  # a non-trivial case


def test_ista_weights_helper_matches_definition():
    d = np.random.default_rng(2).standard_normal((4, 3))
    kernel, recurrent, bias = ista_weights(d, 0.2, 0.5)
    np.testing.assert_allclose(kernel, 0.2 * d, rtol=1e-6)
    np.testing.assert_allclose(recurrent, np.eye(3) - 0.2 * d.T @ d, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(bias, -0.1 * np.ones(3), rtol=1e-6)


def test_last_iterate_matches_sequence_and_output_shape():
    x = np.random.default_rng(3).standard_normal((3, 4)).astype("float32")
    seq = UnrolledSparseEncoder(6, steps=4, return_sequences=True,
                                recurrent_initializer="orthogonal")
    last = UnrolledSparseEncoder(6, steps=4, recurrent_initializer="orthogonal")
    seq.build((None, 4))
    last.build((None, 4))
    last.set_weights(seq.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(seq(x))[:, -1],
                               keras.ops.convert_to_numpy(last(x)), atol=1e-6)
    assert seq.compute_output_shape((None, 4)) == (None, 4, 6)
    assert last.compute_output_shape((None, 4)) == (None, 6)
    assert [w.path.split("/")[-1] for w in seq.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert tuple(seq.kernel.shape) == (4, 6) and tuple(seq.recurrent_kernel.shape) == (6, 6)


def _numpy_forward(x, kernel, recurrent, bias, steps):
    z = np.zeros((x.shape[0], kernel.shape[1]))
    for _ in range(steps):
        z = np.maximum(x @ kernel + z @ recurrent + bias, 0.0)
    return z


def _sgd_step_delta(weights, x, steps, scale):
    """−(weight change) after one SGD(lr=1) step on mean(z_T²): the gradient, on any backend."""
    inputs = keras.Input((x.shape[1],))
    layer = UnrolledSparseEncoder(weights[0].shape[1], steps=steps, scale_shared_gradients=scale)
    model = keras.Model(inputs, layer(inputs))
    layer.set_weights(weights)
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="mse")
    model.fit(x, np.zeros((len(x), weights[0].shape[1]), "float32"), batch_size=len(x),
              epochs=1, verbose=0, shuffle=False)
    return [w - np.asarray(a) for w, a in zip(weights, layer.get_weights())]


def _weights(seed, input_dim=3, units=4):
    rng = np.random.default_rng(seed)
    return [rng.normal(0, 0.5, (input_dim, units)).astype("float32"),
            rng.normal(0, 0.3, (units, units)).astype("float32"),
            rng.normal(0.2, 0.1, (units,)).astype("float32")]


def test_gradient_matches_finite_differences():
    steps = 3
    weights = _weights(4)
    x = np.random.default_rng(5).standard_normal((6, 3)).astype("float32")
    grads = _sgd_step_delta(weights, x, steps, scale=False)

    def loss(ws):
        return np.mean(_numpy_forward(x.astype("float64"), *ws, steps) ** 2)

    eps = 1e-5
    base = [w.astype("float64") for w in weights]
    for k, w in enumerate(base):
        numeric = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus = [b.copy() for b in base]
            minus = [b.copy() for b in base]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            numeric[idx] = (loss(plus) - loss(minus)) / (2 * eps)
        np.testing.assert_allclose(grads[k], numeric, atol=1e-4, rtol=1e-3)


@pytest.mark.filterwarnings("ignore:Gradients do not exist")  # steps=1 never uses S
def test_scaled_gradients_are_divided_by_use_counts():
    for steps in (1, 4):
        _check_scaled_gradients(steps)


def _check_scaled_gradients(steps):
    weights = _weights(6)
    x = np.random.default_rng(7).standard_normal((6, 3)).astype("float32")
    plain = _sgd_step_delta(weights, x, steps, scale=False)
    scaled = _sgd_step_delta(weights, x, steps, scale=True)
    # kernel and bias: used `steps` times; recurrent_kernel: steps − 1 times (z⁰ = 0).
    counts = [steps, max(steps - 1, 1), steps]
    for p, s, c in zip(plain, scaled, counts):
        np.testing.assert_allclose(s, p / c, rtol=1e-4, atol=1e-7)
    if steps > 1:
        assert np.abs(plain[1]).max() > 0
    else:
        np.testing.assert_array_equal(plain[1], 0.0)


def test_scaling_leaves_forward_values_unchanged():
    weights = _weights(8)
    x = np.random.default_rng(9).standard_normal((5, 3)).astype("float32")
    outs = []
    for scale in (False, True):
        layer = UnrolledSparseEncoder(4, steps=5, scale_shared_gradients=scale)
        layer.build((None, 3))
        layer.set_weights(weights)
        outs.append(keras.ops.convert_to_numpy(layer(x)))
    np.testing.assert_array_equal(outs[0], outs[1])


def test_uses_counts():
    assert UnrolledSparseEncoder(3, steps=11).uses == {
        "kernel": 11, "recurrent_kernel": 10, "bias": 11}


def test_bad_arguments():
    for kwargs, match in [(dict(units=0), "units"), (dict(units=3, steps=0), "steps"),
                          (dict(units="3"), "units"), (dict(units=3, steps=2.5), "steps")]:
        with pytest.raises(ValueError, match=match):
            UnrolledSparseEncoder(**kwargs)


def test_rank_other_than_two_is_rejected():
    layer = UnrolledSparseEncoder(3)
    with pytest.raises(ValueError, match="rank 2|ndim=2|expected ndim"):
        layer(np.zeros((2, 4, 4), "float32"))
