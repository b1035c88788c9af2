"""Export a zoo model (or its encoder) as a TensorFlow SavedModel for TF Serving.

The SavedModel has a ``serving_default`` signature with an open batch dimension, a named input
and named outputs (``{"code": ...}`` for a single-output model, the model's own keys for dict
outputs). It is written to a temporary folder beside ``path`` and moved into place only once it
is complete, so a failed export leaves nothing behind.

Keras exports SavedModels from the TensorFlow and JAX backends. Under PyTorch it cannot (it
would need ``torch_xla``), but a ``.keras`` file loads under any backend: the model is saved to a
temporary ``.keras`` file and exported by a TensorFlow-backend subprocess.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile

import re

import keras

from keras_ae.reporting import check_writable_folder

__all__ = ["export_saved_model", "export_for_serving", "signature", "serving_versions"]

_SERVABLE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def _input_specs(model, input_name):
    import tensorflow as tf

    shapes = [tuple(t.shape) for t in model.inputs]
    if len(shapes) != 1:
        raise ValueError(f"export_saved_model supports single-input models; "
                         f"{model.name} has {len(shapes)} inputs.")
    return [tf.TensorSpec(shape=(None,) + shapes[0][1:], dtype=model.inputs[0].dtype,
                          name=input_name)]


def _named_outputs(outputs, output_name):
    """A model's outputs by their signature names: a dict's own keys, ``output_name_i`` for a
    list, ``output_name`` for one tensor."""
    if isinstance(outputs, dict):
        return dict(outputs)
    if isinstance(outputs, (list, tuple)):
        return {f"{output_name}_{i}": o for i, o in enumerate(outputs)}
    return {output_name: outputs}


def _write(model, path, input_name, output_name):
    """Writes the SavedModel at ``path`` (which must not exist) from a TF or JAX backend."""
    archive = keras.export.ExportArchive()
    archive.track(model)

    def serve(x):
        return _named_outputs(model(x, training=False), output_name)

    archive.add_endpoint("serve", serve, input_signature=_input_specs(model, input_name))
    archive.write_out(path, verbose=False)


def _export_via_tensorflow_subprocess(model, path, input_name, output_name):
    with tempfile.TemporaryDirectory(prefix="keras_ae_export_") as tmp:
        keras_file = os.path.join(tmp, "model.keras")
        model.save(keras_file)
        env = dict(os.environ, KERAS_BACKEND="tensorflow")
        cmd = [sys.executable, "-m", "keras_ae.export_worker", keras_file, path,
               "--input-name", input_name, "--output-name", output_name]
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(
                f"Exporting {model.name} through the TensorFlow backend failed:\n{result.stderr[-3000:]}"
            )


def export_saved_model(model, path, input_name="images", output_name="code", overwrite=False):
    """Exports ``model`` (a zoo model, its encoder, or any single-input Keras model) as a SavedModel.

    Args:
        model: the model to export. Pass ``model.encoder`` to serve codes.
        path: the SavedModel folder to write.
        input_name: name of the signature's input.
        output_name: name of the signature's output for single-output models.
        overwrite: replace an existing folder at ``path``; otherwise it is an error.

    Returns:
        ``path``.
    """
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"Export path {path} already exists; overwrite it (overwrite=True, "
                              f"keras-ae export --overwrite) or choose another path.")
    parent = check_writable_folder(os.path.dirname(path), name="export path")
    tmp = tempfile.mkdtemp(prefix=".tmp_export_", dir=parent)
    staging = os.path.join(tmp, "saved_model")
    try:
        if keras.backend.backend() in ("tensorflow", "jax"):
            _write(model, staging, input_name, output_name)
        else:
            _export_via_tensorflow_subprocess(model, staging, input_name, output_name)
        with open(os.path.join(staging, "keras_ae.json"), "w") as f:
            json.dump({"model": model.name, "input": input_name,
                       "exported_from_backend": keras.backend.backend(),
                       "signature": signature(model, input_name, output_name)}, f, indent=1)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.replace(staging, path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return path


def _spec(tensor, name=None):
    shape = [None] + [None if d is None else int(d) for d in tuple(tensor.shape)[1:]]
    return {"dtype": str(tensor.dtype), "shape": shape, **({"name": name} if name else {})}


def signature(model, input_name="images", output_name="code"):
    """The ``serving_default`` signature :func:`export_saved_model` gives ``model``: its input
    (name, dtype, shape with an open batch dimension) and outputs by name, as a JSON-ready dict."""
    if len(model.inputs) != 1:
        raise ValueError(f"export supports single-input models; {model.name} has "
                         f"{len(model.inputs)} inputs.")
    named = _named_outputs(model.output, output_name)
    return {"signature_name": "serving_default", "method": "tensorflow/serving/predict",
            "inputs": {input_name: _spec(model.inputs[0])},
            "outputs": {k: _spec(v) for k, v in sorted(named.items())}}


def serving_versions(folder):
    """The version numbers TF Serving would load from ``folder`` (its numeric sub-folders)."""
    if not os.path.isdir(folder):
        return []
    return sorted(int(d) for d in os.listdir(folder)
                  if d.isdigit() and os.path.isdir(os.path.join(folder, d)))


def export_for_serving(model, serving_dir, name=None, version=None, input_name="images",
                       output_name="code"):
    """Exports ``model`` in TF Serving's layout, ``serving_dir/<name>/<version>/``, a SavedModel
    folder TF Serving (``--model_base_path=serving_dir/<name>``) loads as that version.

    Args:
        model: the model to serve (``model.encoder`` to serve codes).
        serving_dir: the base folder holding one folder per served model.
        name: the servable's name (default: the model's name); letters, digits, ``_ . -``.
        version: a positive int; default the next free one (1 in an empty folder). An existing
            version is never overwritten (TF Serving treats versions as immutable): a
            ``FileExistsError``.

    The version folder appears whole or not at all (:func:`export_saved_model`); it holds
    ``keras_ae.json`` with the signature (:func:`signature`). Returns ``(path, signature)``.
    """
    name = model.name if name is None else name
    if not isinstance(name, str) or not _SERVABLE_NAME.match(name):
        raise ValueError(f"name must be a folder name of letters, digits, '_', '.' or '-', "
                         f"got {name!r}.")
    base = check_writable_folder(os.path.join(os.fspath(serving_dir), name),
                                 name="serving directory")
    if version is None:
        version = max(serving_versions(base), default=0) + 1
    elif isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"version must be a positive int, got {version!r}.")
    path = os.path.join(base, str(version))
    if os.path.exists(path):
        raise FileExistsError(f"{path} already exists: TF Serving versions are immutable; "
                              f"export as a new version (default: the next free one).")
    export_saved_model(model, path, input_name=input_name, output_name=output_name)
    return path, signature(model, input_name, output_name)
