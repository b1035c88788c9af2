import os

import keras
import numpy as np
import pytest

from keras_ae.export import export_saved_model
from keras_ae.models import ConvAutoencoder, DenseAutoencoder
from keras_ae.testing import call_saved_model


def test_signature_is_named_with_open_batch(tmp_path, images):
    import tensorflow as tf

    model = DenseAutoencoder(hidden_units=[8], code_size=3)
    path = export_saved_model(model.encoder, str(tmp_path / "enc"))
    sig = tf.saved_model.load(path).signatures["serving_default"]
    (spec,) = sig.structured_input_signature[1].values()
    assert spec.name == "images" and spec.shape.as_list() == [None, 28, 28, 1]
    assert list(sig.structured_outputs) == ["code"]
    for n in (1, 5):  # any batch size
        got = call_saved_model(path, images[:n])["code"]
        np.testing.assert_allclose(got, keras.ops.convert_to_numpy(model.encoder(images[:n])), atol=1e-5)


def test_serving_layout_versions_and_saved_model_cli_run(tmp_path, images):
    """TF Serving's layout (base/<name>/<version>/), the next free version by default, versions
    never overwritten; the recorded signature is the SavedModel's, and `saved_model_cli run`
    executes it with the Keras outputs of a model trained under this backend."""
    import json
    import shutil
    import subprocess

    import tensorflow as tf

    from keras_ae.export import export_for_serving

    model = DenseAutoencoder(hidden_units=[8], code_size=3)
    model.compile()
    model.fit(images, images, epochs=1, batch_size=8, verbose=0)
    base = tmp_path / "serving"
    os.makedirs(base / "digits" / "7")  # an existing version: the next free one is 8
    path, sig = export_for_serving(model.encoder, str(base), name="digits")
    assert path == str(base / "digits" / "8")
    with pytest.raises(FileExistsError, match="immutable"):
        export_for_serving(model.encoder, str(base), name="digits", version=8)
    for bad, argument in ((dict(name="a/b"), "name"), (dict(version=0), "version")):
        with pytest.raises(ValueError, match=argument):
            export_for_serving(model.encoder, str(base), **bad)
    assert sorted(os.listdir(base / "digits")) == ["7", "8"]  # nothing half-written
    loaded = tf.saved_model.load(path).signatures["serving_default"]
    (spec,) = loaded.structured_input_signature[1].values()
    assert sig["inputs"] == {"images": {"dtype": "float32", "shape": [None, 28, 28, 1]}}
    assert spec.shape.as_list() == sig["inputs"]["images"]["shape"]
    assert sorted(loaded.structured_outputs) == sorted(sig["outputs"]) == ["code"]
    assert json.load(open(os.path.join(path, "keras_ae.json")))["signature"] == sig
    expected = keras.ops.convert_to_numpy(model.encoder(images))
    exe = shutil.which("saved_model_cli")
    if exe is None:
        pytest.skip("saved_model_cli is not on PATH")
    np.save(tmp_path / "x.npy", images)
    subprocess.run([exe, "run", "--dir", path, "--tag_set", "serve", "--signature_def",
                    "serving_default", "--inputs", f"images={tmp_path / 'x.npy'}",
                    "--outdir", str(tmp_path / "out")], capture_output=True, text=True, check=True)
    np.testing.assert_allclose(np.load(tmp_path / "out" / "code.npy"), expected, atol=1e-5)


def test_existing_path_is_refused_and_overwrite_replaces(tmp_path):
    model = DenseAutoencoder(hidden_units=[8], code_size=3)
    path = str(tmp_path / "enc")
    os.makedirs(path)
    with pytest.raises(FileExistsError, match="already exists"):
        export_saved_model(model.encoder, path)
    export_saved_model(model.encoder, path, overwrite=True)
    assert os.path.isfile(os.path.join(path, "saved_model.pb"))


def test_failed_export_leaves_nothing(tmp_path, monkeypatch):
    """An export that dies half-way (here: after writing part of its files) leaves no trace."""
    from keras_ae import export

    def half_write(model, path, *args):
        os.makedirs(os.path.join(path, "variables"))
        open(os.path.join(path, "saved_model.pb"), "wb").write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(export, "_write", half_write)
    monkeypatch.setattr(export, "_export_via_tensorflow_subprocess", half_write)
    model = DenseAutoencoder(hidden_units=[8], code_size=3)
    with pytest.raises(RuntimeError, match="disk full"):
        export_saved_model(model.encoder, str(tmp_path / "out"))
    assert os.listdir(tmp_path) == []


def test_model_trained_here_exports_and_reloads(tmp_path, images):
    """The full path a user takes: train a little, export the encoder, serve it."""
    model = ConvAutoencoder(filters=[4, 8])
    model.compile()
    model.fit(images, images, epochs=1, batch_size=4, verbose=0)
    path = export_saved_model(model.encoder, str(tmp_path / "enc"))
    got = call_saved_model(path, images)["code"]
    np.testing.assert_allclose(got, keras.ops.convert_to_numpy(model.encoder(images)), atol=1e-5)
