"""Pretrained models as presets, in the keras-hub preset layout.

A preset is a folder::

    config.json        the model's Keras serialisation (module, class_name, config, ...)
    metadata.json      versions, registered name, parameter count, date, training command and
                       metrics, sha256 of the two files above, and a check of the encoder's
                       outputs on a fixed batch
    model.weights.h5   the weights (``model.save_weights``)
    README.md          the model card (written from metadata.json)

The presets trained by ``python -m benchmarks.presets`` ship inside the package (this folder),
so ``pip install`` users load them offline::

    import keras_ae
    keras_ae.models.preset_names()                     # ['conv_autoencoder_mnist', ...]
    model = keras_ae.models.from_preset("fc_wta_mnist")  # or a path to a preset folder
    codes = model.encode(images)

Loading checks both files' sha256 against metadata.json first: a corrupt, truncated or foreign
file is a ``ValueError`` naming it, never a model with wrong weights. :func:`save_preset` writes
a whole preset or nothing (a temporary folder beside the target, renamed into place).
"""

import hashlib
import json
import os
import shutil
import tempfile

import keras
import numpy as np

from keras_ae.models.base import encoder_of
from keras_ae.models.registry import _REGISTRY
from keras_ae.reporting import timestamp, versions

#: the folder of the presets shipped with the package
BUILTIN_DIR = os.path.dirname(os.path.abspath(__file__))
CONFIG_FILE = "config.json"
METADATA_FILE = "metadata.json"
WEIGHTS_FILE = "model.weights.h5"
CARD_FILE = "README.md"
#: the files whose sha256 metadata.json records and loading verifies
CHECKED_FILES = (CONFIG_FILE, WEIGHTS_FILE)
#: the fixed batch of the output check: the first images of the shipped sample's test split
CHECK_IMAGES = 8
#: how close the recorded output check must be (float32 on another backend or machine)
CHECK_RTOL, CHECK_ATOL = 1e-4, 1e-5

__all__ = ["BUILTIN_DIR", "from_preset", "list_presets", "output_check", "preset_names",
           "read_metadata", "resolve", "save_preset", "verify_output_check"]


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def registered_name(model):
    """The registry name of ``model``'s class; a ``ValueError`` for a class not registered."""
    for name, (cls, _) in _REGISTRY.items():
        if type(model) is cls:
            return name
    raise ValueError(f"model must be a registered zoo model (keras_ae.models.names()), got a "
                     f"{type(model).__name__}.")


def preset_names(directory=BUILTIN_DIR):
    """The presets in ``directory`` (default: those shipped with the package), sorted."""
    if not os.path.isdir(directory):
        return []
    return sorted(entry for entry in os.listdir(directory)
                  if os.path.isfile(os.path.join(directory, entry, METADATA_FILE)))


def resolve(preset):
    """The folder of ``preset``: a shipped preset's name, or a path to a preset folder."""
    if not isinstance(preset, (str, os.PathLike)):
        raise TypeError(f"preset must be a preset name or a folder path, got "
                        f"{type(preset).__name__}.")
    preset = os.fspath(preset)
    if os.path.isdir(preset):
        folder = preset
    elif os.sep not in preset and "/" not in preset and preset in preset_names():
        folder = os.path.join(BUILTIN_DIR, preset)
    else:
        raise ValueError(f"preset {preset!r} is neither a shipped preset (one of: "
                         f"{', '.join(preset_names()) or 'none'}) nor an existing folder.")
    missing = [f for f in (METADATA_FILE,) + CHECKED_FILES
               if not os.path.isfile(os.path.join(folder, f))]
    if missing:
        raise ValueError(f"preset folder {folder!r} lacks {', '.join(missing)}: not a keras-ae "
                         f"preset (expected {CONFIG_FILE}, {METADATA_FILE}, {WEIGHTS_FILE}).")
    return folder


def read_metadata(preset):
    """``metadata.json`` of ``preset`` (a name or a folder) as a dict."""
    folder = resolve(preset)
    path = os.path.join(folder, METADATA_FILE)
    try:
        with open(path) as f:
            metadata = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"preset metadata {path!r} cannot be read: {e}") from None
    if not isinstance(metadata, dict) or not isinstance(metadata.get("files"), dict):
        raise ValueError(f"preset metadata {path!r} has no 'files' checksums: not a keras-ae "
                         f"preset.")
    return metadata


def list_presets(directory=BUILTIN_DIR):
    """``{name: metadata}`` of the presets in ``directory`` (default: the shipped ones)."""
    return {name: read_metadata(os.path.join(directory, name))
            for name in preset_names(directory)}


def _verify_files(folder, metadata):
    for file in CHECKED_FILES:
        expected = metadata["files"].get(file)
        actual = _sha256(os.path.join(folder, file))
        if expected != actual:
            raise ValueError(f"preset {folder!r}: {file} has sha256 {actual[:12]}..., metadata.json "
                             f"records {str(expected)[:12]}...: the file is corrupt or not this "
                             f"preset's.")


def from_preset(preset, load_weights=True):
    """The model of ``preset`` (a shipped preset's name or a preset folder), weights loaded.

    Verifies ``config.json`` and ``model.weights.h5`` against the sha256 in ``metadata.json``
    before reading them. ``load_weights=False`` gives the architecture freshly initialised.
    """
    folder = resolve(preset)
    metadata = read_metadata(folder)
    _verify_files(folder, metadata)
    with open(os.path.join(folder, CONFIG_FILE)) as f:
        config = json.load(f)
    model = keras.saving.deserialize_keras_object(config)
    if load_weights:
        path = os.path.join(folder, WEIGHTS_FILE)
        try:
            model.load_weights(path)
        except Exception as e:  # a checksummed file that still does not fit: say which
            raise ValueError(f"preset {folder!r}: {WEIGHTS_FILE} does not fit its "
                             f"{metadata.get('registered_name', 'model')}: {e}") from None
    return model


def check_images():
    """The fixed batch of the output check (float32 in [0, 1], NHWC)."""
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    images, _ = read_idx_folder(SAMPLE_DIR, "test")
    return to_float_images(images[:CHECK_IMAGES])


def output_check(model, images=None):
    """What a preset records of its encoder's outputs: per image of the fixed batch, the L2
    norm and the sum of its flattened features (a dict of two lists of floats)."""
    images = check_images() if images is None else images
    features = encoder_of(model).predict(images, verbose=0)
    key = getattr(model, "feature_key", None)
    if isinstance(features, dict):
        features = features[key] if key else next(iter(features.values()))
    flat = np.asarray(features, np.float64).reshape(len(images), -1)
    return {"images": f"the first {len(images)} test images of the shipped MNIST sample",
            "feature_shape": list(np.shape(features)[1:]),
            "l2_norm": [float(v) for v in np.linalg.norm(flat, axis=1)],
            "sum": [float(v) for v in flat.sum(axis=1)]}


def verify_output_check(model, recorded):
    """Raises a ``ValueError`` unless ``model``'s :func:`output_check` matches ``recorded``
    (a preset's ``metadata["output_check"]``) within float32 tolerance."""
    now = output_check(model)
    for field in ("l2_norm", "sum"):
        got, want = np.asarray(now[field]), np.asarray(recorded[field])
        if got.shape != want.shape or not np.allclose(got, want, rtol=CHECK_RTOL,
                                                      atol=CHECK_ATOL * max(1, np.abs(want).max())):
            raise ValueError(f"the encoder's outputs on the check batch differ from the "
                             f"preset's record ({field}: {got[:3]} vs {want[:3]}).")
    return now


def _card(name, metadata):
    training = metadata.get("training", {})
    metrics = metadata.get("metrics", {})
    lines = [f"# `{name}`", "", metadata.get("description", ""), "",
             "```python", "import keras_ae", "",
             f'model = keras_ae.models.from_preset("{name}")',
             "codes = model.encode(images)  # float32 NHWC in [0, 1], shaped like "
             f"{metadata['input_shape']}", "```", "",
             f"- model: `{metadata['registered_name']}` ({metadata['class_name']}), "
             f"{metadata['parameter_count']:,} parameters",
             f"- saved: {metadata['date_saved']} with keras {metadata['keras_version']}, "
             f"keras-ae {metadata['keras_ae_version']}"]
    if training.get("command"):
        lines.append(f"- trained by: `{training['command']}`")
    for field in ("data", "procedure", "machine", "train_seconds"):
        if field in training:
            lines.append(f"- {field.replace('_', ' ')}: {training[field]}")
    if metrics:
        lines += ["", "| metric | value |", "| --- | --- |"]
        lines += [f"| {k} | {format(v, '.4g') if isinstance(v, float) else v} |"
                  for k, v in metrics.items()]
    lines += ["", f"`{WEIGHTS_FILE}` sha256 `{metadata['files'][WEIGHTS_FILE]}`; loading "
              f"verifies it.", ""]
    return "\n".join(lines)


def save_preset(model, directory, description="", training=None, metrics=None,
                overwrite=False):
    """Writes ``model`` as a preset folder ``directory`` (its name is the preset's name).

    Args:
        model: a registered zoo model (built; trained, normally).
        directory: the preset folder to create; an existing one is a ``FileExistsError``
            unless ``overwrite``.
        description: one paragraph for the card.
        training: JSON-ready dict of how it was trained (``command``, ``data``,
            ``procedure``, ``machine``, ``train_seconds``, ...).
        metrics: JSON-ready dict of measured figures (test reconstruction MSE, probe
            accuracy, ...), shown on the card.

    Everything is written into a temporary folder beside ``directory`` and renamed into place:
    a failure leaves no partial preset and any old one as it was. Returns the metadata.
    """
    name = registered_name(model)
    directory = os.path.abspath(os.fspath(directory))
    if os.path.exists(directory) and not overwrite:
        raise FileExistsError(f"directory {directory!r} exists; pass overwrite=True to replace "
                              f"the preset.")
    for label, value in (("training", training), ("metrics", metrics)):
        if value is not None and not isinstance(value, dict):
            raise TypeError(f"{label} must be a dict or None, got {type(value).__name__}.")
    parent = os.path.dirname(directory)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(directory)}.", dir=parent)
    try:
        # the architecture only: no compile config, so that neither the file nor the fresh copy
        # below carries an optimizer (a trained model's save_weights would write its state)
        config = keras.saving.serialize_keras_object(model)
        config.pop("compile_config", None)
        with open(os.path.join(tmp, CONFIG_FILE), "w") as f:
            json.dump(config, f, indent=1, sort_keys=True)
        bare = keras.saving.deserialize_keras_object(config)
        bare.set_weights(model.get_weights())
        bare.save_weights(os.path.join(tmp, WEIGHTS_FILE))
        versions_now = versions()
        metadata = {
            "registered_name": name, "class_name": type(model).__name__,
            "description": description,
            "input_shape": list(model.inputs[0].shape[1:]) if model.inputs else None,
            "keras_version": keras.__version__,
            "keras_ae_version": versions_now.get("keras-ae", "unknown"),
            "backend": keras.backend.backend(),
            "parameter_count": int(model.count_params()),
            "date_saved": timestamp(),
            "training": training or {}, "metrics": metrics or {},
            "output_check": output_check(model),
            "files": {f: _sha256(os.path.join(tmp, f)) for f in CHECKED_FILES},
        }
        with open(os.path.join(tmp, METADATA_FILE), "w") as f:
            json.dump(metadata, f, indent=1, sort_keys=True)
        with open(os.path.join(tmp, CARD_FILE), "w") as f:
            f.write(_card(os.path.basename(directory), metadata))
        if os.path.exists(directory):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(directory)}.old.", dir=parent)
            os.replace(directory, os.path.join(old, "preset"))
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, directory)
    finally:
        if os.path.exists(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
    return metadata
