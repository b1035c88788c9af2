"""The shared test battery every layer and model of the zoo runs (after keras-hub's TestCase).

``run_layer_test`` and ``run_model_test`` check, on whatever backend Keras is running:

* config round trip (``get_config`` -> ``from_config`` -> same config; JSON-serialisable; the
  class is registered so ``deserialize_keras_object`` finds it without ``custom_objects``);
* an eager call and a symbolic call (``keras.Input``) agreeing on output shapes;
* one ``fit`` step that changes the trainable weights and gives a finite loss;
* ``.keras`` save/load giving the same class and identical outputs;
* (models) SavedModel export of the encoder and of the model, reloaded with
  ``tf.saved_model.load``, whose ``serving_default`` reproduces the Keras outputs.

They are plain functions raising ``AssertionError``, usable from pytest or any script.
"""

import importlib.util
import json
import os
import tempfile

import keras
import numpy as np
from keras import ops

SAVE_ATOL = 1e-6
EXPORT_ATOL = 1e-5


def _to_numpy(tree):
    return keras.tree.map_structure(lambda t: ops.convert_to_numpy(t), tree)


def assert_allclose_tree(actual, expected, atol, what):
    actual, expected = _to_numpy(actual), _to_numpy(expected)
    keras.tree.assert_same_structure(actual, expected)
    for a, e in zip(keras.tree.flatten(actual), keras.tree.flatten(expected)):
        np.testing.assert_allclose(a, e, atol=atol, rtol=0, err_msg=what)


def check_config_round_trip(obj):
    """``get_config`` is JSON-serialisable and survives ``from_config`` unchanged."""
    config = obj.get_config()
    json.dumps(config)
    clone = obj.__class__.from_config(config)
    assert clone.get_config() == config, (
        f"{obj.__class__.__name__}: from_config(get_config()) changed the config:\n"
        f"{config}\n!=\n{clone.get_config()}")
    serialized = keras.saving.serialize_keras_object(obj)
    revived = keras.saving.deserialize_keras_object(json.loads(json.dumps(serialized)))
    assert type(revived) is type(obj), (
        f"{obj.__class__.__name__} is not registered serialisable (got {type(revived)}).")
    return clone


def _symbolic_inputs(input_data):
    return keras.tree.map_structure(
        lambda a: keras.Input(shape=tuple(np.shape(a))[1:], dtype=str(np.asarray(a).dtype)),
        input_data)


def _is_float(a):
    return np.issubdtype(np.asarray(a).dtype, np.floating)


@keras.saving.register_keras_serializable(package="keras_ae_testing")
class _TrainableScale(keras.layers.Layer):
    """A learnable scalar gain, put in front of a weightless layer so fit has work to do."""

    def build(self, input_shape):
        self.gain = self.add_weight(shape=(), initializer="ones", name="gain")

    def call(self, x):
        return x * self.gain


def _flat_shapes(shapes):
    """A shape, or a nested list/tuple/dict of shapes -> a flat list of shape tuples."""
    if isinstance(shapes, dict):
        return [s for k in sorted(shapes) for s in _flat_shapes(shapes[k])]
    if isinstance(shapes, (list, tuple)) and shapes and isinstance(shapes[0], (list, tuple)):
        return [s for sub in shapes for s in _flat_shapes(sub)]
    return [tuple(shapes)]


def _tensor_shapes(tree):
    if isinstance(tree, dict):
        return [s for k in sorted(tree) for s in _tensor_shapes(tree[k])]
    return [tuple(t.shape) for t in keras.tree.flatten(tree)]


def _check_shapes_match(eager_shapes, symbolic_shapes, what):
    assert len(eager_shapes) == len(symbolic_shapes), (
        f"{what}: {len(eager_shapes)} eager outputs but {len(symbolic_shapes)} symbolic ones")
    for e, s in zip(eager_shapes, symbolic_shapes):
        assert len(e) == len(s) and all(sd is None or sd == ed for ed, sd in zip(e, s)), (
            f"{what}: eager output shape {e} disagrees with symbolic shape {s}")


def run_layer_test(layer_cls, init_kwargs, input_data, expected_output_shape=None,
                   call_kwargs=None, run_training_check=True, run_saving_check=True,
                   training_for_fit=True):
    """Runs the layer battery. ``input_data``: an array or a list/dict of arrays (batch first).

    Returns the eager outputs so a test can add its own oracle checks.
    """
    call_kwargs = call_kwargs or {}
    layer = layer_cls(**init_kwargs)
    check_config_round_trip(layer)

    eager = layer(input_data, **call_kwargs)
    eager_shapes = _tensor_shapes(eager)
    if expected_output_shape is not None:
        assert eager_shapes == _flat_shapes(expected_output_shape), (
            f"{layer_cls.__name__}: output shapes {eager_shapes} != expected {expected_output_shape}")

    fresh = layer_cls(**init_kwargs)
    inputs = _symbolic_inputs(input_data)
    symbolic = fresh(inputs, **call_kwargs)
    _check_shapes_match(eager_shapes, _tensor_shapes(symbolic), layer_cls.__name__)
    input_shapes = keras.tree.map_structure(lambda t: tuple(t.shape), inputs)
    _check_shapes_match(eager_shapes, _flat_shapes(fresh.compute_output_shape(input_shapes)),
                        f"{layer_cls.__name__}.compute_output_shape")

    if run_training_check:
        net_inputs = _symbolic_inputs(input_data)
        scaled = keras.tree.map_structure(
            lambda t: _TrainableScale()(t) if "float" in str(t.dtype) else t, net_inputs)
        outputs = layer_cls(**init_kwargs)(scaled, **call_kwargs)
        model = keras.Model(net_inputs, outputs)
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
        targets = keras.tree.map_structure(
            lambda o: np.zeros(o.shape, dtype="float32"), _to_numpy(model(input_data)))
        before = [np.copy(ops.convert_to_numpy(w)) for w in model.trainable_weights]
        history = model.fit(input_data, targets, epochs=1, batch_size=len(keras.tree.flatten(input_data)[0]),
                            verbose=0, shuffle=False)
        assert np.isfinite(history.history["loss"][-1]), f"{layer_cls.__name__}: loss not finite"
        after = [ops.convert_to_numpy(w) for w in model.trainable_weights]
        assert any(not np.array_equal(b, a) for b, a in zip(before, after)), (
            f"{layer_cls.__name__}: one fit step changed no weight (no gradient through the layer?)")

    if run_saving_check:
        model = keras.Model(inputs, symbolic)
        expected = model(input_data, training=False)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "layer.keras")
            model.save(path)
            reloaded = keras.saving.load_model(path)
        assert_allclose_tree(reloaded(input_data, training=False), expected, SAVE_ATOL,
                             f"{layer_cls.__name__}: .keras reload changed outputs")
    return eager


def run_model_test(model, input_data, fit_x=None, fit_y=None, run_fit=True,
                   run_saving=True, run_export=True, export_full_model=True):
    """Runs the model battery on a built zoo model. Returns nothing; raises on failure.

    ``fit_x``/``fit_y`` default to ``input_data`` and the model's own fit target (the images
    for reconstruction models).
    """
    name = model.__class__.__name__
    check_config_round_trip(model)

    eager = model(input_data, training=False)
    symbolic = model(_symbolic_inputs(input_data))
    _check_shapes_match(_tensor_shapes(eager), _tensor_shapes(symbolic), name)

    if run_fit:
        if fit_x is None:
            fit_x = input_data
        if fit_y is None:
            if getattr(model, "fit_target", "image") != "image":
                raise ValueError(f"{name} trains on labels: pass fit_y to run_model_test.")
            fit_y = fit_x
        if not model.compiled:
            model.compile()
        before = [np.copy(ops.convert_to_numpy(w)) for w in model.trainable_weights]
        history = model.fit(fit_x, fit_y, epochs=1, batch_size=len(fit_x), verbose=0)
        loss = history.history["loss"][-1]
        assert np.isfinite(loss), f"{name}: fit gave a non-finite loss {loss}"
        after = [ops.convert_to_numpy(w) for w in model.trainable_weights]
        assert any(not np.array_equal(b, a) for b, a in zip(before, after)), (
            f"{name}: one fit step changed no weight")

    expected = model(input_data, training=False)
    expected_code = model.encoder(input_data, training=False) if hasattr(model, "encoder") else None
    with tempfile.TemporaryDirectory() as tmp:
        if run_saving:
            path = os.path.join(tmp, "model.keras")
            model.save(path)
            reloaded = keras.saving.load_model(path)
            assert type(reloaded) is type(model), f"{name}: reloaded as {type(reloaded)}"
            assert_allclose_tree(reloaded(input_data, training=False), expected, SAVE_ATOL,
                                 f"{name}: .keras reload changed outputs")
            if expected_code is not None:
                assert_allclose_tree(reloaded.encoder(input_data, training=False), expected_code,
                                     SAVE_ATOL, f"{name}: .keras reload changed encoder outputs")
        if run_export:
            from keras_ae.export import export_saved_model

            targets = [(model.encoder, expected_code, "encoder")] if expected_code is not None else []
            if export_full_model or not targets:
                targets.append((model, expected, "model"))
            for part, want, label in targets:
                path = export_saved_model(part, os.path.join(tmp, f"saved_{label}"))
                got = call_saved_model(path, input_data)
                if not isinstance(want, dict):
                    assert len(got) == 1, f"{name}: {label} signature has outputs {list(got)}"
                    got = next(iter(got.values()))
                assert_allclose_tree(got, want, EXPORT_ATOL,
                                     f"{name}: SavedModel of the {label} disagrees with Keras")


def call_saved_model(path, input_data, signature="serving_default"):
    """Loads a SavedModel with ``tf.saved_model.load`` and calls one signature on NumPy input."""
    import tensorflow as tf

    loaded = tf.saved_model.load(path)
    fn = loaded.signatures[signature]
    (input_name,) = fn.structured_input_signature[1].keys()
    out = fn(**{input_name: tf.constant(np.asarray(input_data))})
    return {k: v.numpy() for k, v in out.items()}


def load_script(path, name):
    """Imports the Python file at ``path`` (an example or benchmark script, which is not part of
    the package) as a module called ``name``, so tests can call its functions."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gradients(fn, *arrays):
    """The gradients of the scalar ``fn(*arrays)`` with respect to each array, on whichever
    backend Keras runs, as NumPy arrays (zeros where ``fn`` does not depend on an array)."""
    arrays = [np.asarray(a, dtype="float32") for a in arrays]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(a) for a in arrays]
        with tf.GradientTape() as tape:
            tape.watch(tensors)
            value = fn(*tensors)
        grads = [None if g is None else g.numpy() for g in tape.gradient(value, tensors)]
    elif backend == "jax":
        import jax

        grads = [np.asarray(g) for g in jax.grad(fn, argnums=tuple(range(len(arrays))))(*arrays)]
    elif backend == "torch":
        import torch

        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        fn(*tensors).backward()
        grads = [None if t.grad is None else t.grad.detach().numpy() for t in tensors]
    else:
        raise NotImplementedError(f"gradients: backend {backend!r} is not supported.")
    return [np.zeros_like(a) if g is None else g for a, g in zip(arrays, grads)]
