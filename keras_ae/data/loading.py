"""Finding image data and turning it into ``tf.data`` pipelines.

Where the data comes from, in the order :func:`load` tries:

1. ``source`` is a folder: MNIST-style IDX files in it (gzipped or not), or a folder of images
   in class sub-folders per split (``train/<class>/*.png``, ``test/<class>/*.png``:
   :mod:`keras_ae.data.folders`).
2. ``source`` is a name (``"mnist"``, ``"fashion_mnist"``, ...):
   a. ``data_dir`` / ``$KERAS_AE_DATA_DIR``: the folder itself if it holds IDX files, or its
      sub-folder named ``source``;
   b. TFDS, only if TFDS already has the data on disk (``download=False``, fails at once);
   c. TFDS with download, only if the download server answers within two seconds — offline,
      ``tfds.load`` would otherwise retry for minutes;
   d. for ``"mnist"``, the sample shipped in the package, with a warning saying how to use the
      full set; for other names a :class:`DatasetNotFoundError` that says what to do.
3. ``source`` is ``None``: ``data_dir`` / ``$KERAS_AE_DATA_DIR`` if set, else the shipped sample.
"""

import glob
import os
import re
import socket
import warnings

import numpy as np

from keras_ae.data.folders import is_image_folder, read_image_folder
from keras_ae.data.idx import IDXError, read_image_label_pair

DATA_DIR_ENV = "KERAS_AE_DATA_DIR"
SAMPLE_DIR = os.path.join(os.path.dirname(__file__), "sample")
_SPLIT_ALIASES = {"train": ("train",), "test": ("t10k", "test")}
_SPLIT_RE = re.compile(r"^(train|test)(?:\[(-?\d*)(%?):(-?\d*)(%?)\])?$")
_TFDS_HOST = ("storage.googleapis.com", 443)


class DatasetNotFoundError(FileNotFoundError):
    """No data could be found for the requested source."""


def _parse_split(split):
    match = _SPLIT_RE.match(str(split).replace(" ", ""))
    if not match:
        raise ValueError(
            f"split={split!r} is not understood; expected 'train', 'test', or a slice such as "
            "'train[:50000]', 'train[50000:]' or 'train[:10%]'."
        )
    name, start, start_pct, stop, stop_pct = match.groups()

    def cut(n):
        def bound(text, pct):
            if text in (None, ""):
                return None
            value = int(text)
            return value * n // 100 if pct else value

        return slice(bound(start, start_pct), bound(stop, stop_pct))

    return name, cut


def _find_split_files(folder, split):
    """Returns (images_path, labels_path) for ``split`` in an IDX folder, or None."""
    for alias in _SPLIT_ALIASES[split]:
        found = {}
        for kind, pattern in (("images", f"*{alias}*images*idx3*"), ("labels", f"*{alias}*labels*idx1*")):
            paths = sorted(
                p for p in glob.glob(os.path.join(folder, pattern))
                if re.search(r"idx\d-ubyte(\.gz)?$", p)
            )
            if paths:
                found[kind] = paths[0]
        if len(found) == 2:
            return found["images"], found["labels"]
        if len(found) == 1:
            (kind, path), = found.items()
            missing = "labels" if kind == "images" else "images"
            raise IDXError(
                f"IDX folder {folder} has {path} but no matching {missing} file for split "
                f"{split!r} (expected a name like '{alias}-{missing}-idx"
                f"{'1' if missing == 'labels' else '3'}-ubyte[.gz]')."
            )
    return None


def _is_idx_folder(folder):
    return os.path.isdir(folder) and bool(glob.glob(os.path.join(folder, "*idx[13]-ubyte*")))


def read_idx_folder(folder, split="train"):
    """Reads ``split`` of an IDX folder as uint8 images (N, H, W, C) and int64 labels."""
    name, _ = _parse_split(split)
    if not os.path.exists(folder):
        raise DatasetNotFoundError(f"Data folder not found: {folder}")
    if not os.path.isdir(folder):
        raise DatasetNotFoundError(f"Data path is not a folder: {folder}")
    files = _find_split_files(folder, name)
    if files is None:
        raise DatasetNotFoundError(
            f"No IDX files for split {name!r} in {folder}: expected files named like "
            f"'{_SPLIT_ALIASES[name][0]}-images-idx3-ubyte[.gz]' and "
            f"'{_SPLIT_ALIASES[name][0]}-labels-idx1-ubyte[.gz]'."
        )
    images, labels = read_image_label_pair(*files)
    if images.ndim == 3:
        images = images[..., None]
    return images, labels.astype(np.int64)


def _env_data_dir(data_dir):
    origin = "data_dir"
    if data_dir is None and os.environ.get(DATA_DIR_ENV):
        data_dir, origin = os.environ[DATA_DIR_ENV], f"${DATA_DIR_ENV}"
    if data_dir is not None and not os.path.isdir(data_dir):
        raise DatasetNotFoundError(f"{origin} points to {data_dir}, which is not a folder.")
    return data_dir


def _tfds_reachable(timeout=2.0):
    try:
        with socket.create_connection(_TFDS_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _load_tfds_arrays(name, split, tfds_dir, allow_download):
    """Returns (images, labels) from TFDS, or None when TFDS cannot provide them quickly."""
    try:
        import tensorflow_datasets as tfds
    except ImportError:
        return None
    kwargs = dict(split=split, batch_size=-1, as_supervised=True, data_dir=tfds_dir)
    try:
        images, labels = tfds.as_numpy(tfds.load(name, download=False, **kwargs))
    except Exception:  # tfds raises AssertionError or DatasetNotFoundError when absent locally
        if not (allow_download and _tfds_reachable()):
            return None
        try:
            images, labels = tfds.as_numpy(tfds.load(name, download=True, **kwargs))
        except Exception as e:
            warnings.warn(f"TFDS could not download {name!r}: {e}")
            return None
    return np.asarray(images), np.asarray(labels).astype(np.int64)


def resolve_source(source=None, data_dir=None):
    """Says where ``source`` will be read from: ('idx', folder), ('images', folder of class
    sub-folders per split) or ('tfds', name)."""
    data_dir = _env_data_dir(data_dir)
    if source is None:
        if data_dir is None:
            return "idx", SAMPLE_DIR
        source = "mnist" if not _is_idx_folder(data_dir) else data_dir
    source = os.fspath(source)
    looks_like_path = os.sep in source or source.startswith(".") or os.path.exists(source)
    if looks_like_path:
        if not os.path.exists(source):
            raise DatasetNotFoundError(f"Data folder not found: {source}")
        return ("images" if is_image_folder(source) else "idx"), source
    if data_dir is not None:
        if _is_idx_folder(data_dir) and source == "mnist":
            return "idx", data_dir
        sub = os.path.join(data_dir, source)
        if os.path.isdir(sub):
            return ("images" if is_image_folder(sub) else "idx"), sub
    return "tfds", source


def load_arrays(source=None, split="train", data_dir=None, tfds_dir=None, allow_download=True,
                image_size=None):
    """Loads a split as NumPy arrays: uint8 images (N, H, W, C) and int64 labels (N,).

    See the module docstring for how ``source`` is resolved. ``image_size``: ``(height,
    width)`` to resize the images of a folder of class sub-folders to (other sources refuse it).
    """
    name, cut = _parse_split(split)
    kind, where = resolve_source(source, data_dir)
    if image_size is not None and kind != "images":
        raise ValueError(f"image_size resizes the images of a folder of class sub-folders; "
                         f"{where} is {'an IDX folder' if kind == 'idx' else 'a TFDS dataset'}.")
    if kind == "images":
        images, labels = read_image_folder(where, name, image_size=image_size)
    elif kind == "idx":
        images, labels = read_idx_folder(where, name)
    else:
        arrays = _load_tfds_arrays(where, name, tfds_dir, allow_download)
        if arrays is not None:
            images, labels = arrays
        elif where == "mnist":
            warnings.warn(
                "MNIST was not found locally and could not be downloaded, so the 6,000-image "
                "sample shipped with keras_ae is used. For the full set, point "
                f"--data-dir or ${DATA_DIR_ENV} at a folder of MNIST IDX files.",
                stacklevel=2,
            )
            images, labels = read_idx_folder(SAMPLE_DIR, name)
        else:
            raise DatasetNotFoundError(
                f"Dataset {where!r} is neither on disk in TFDS nor downloadable now. Pass a folder "
                f"of MNIST-style IDX files as the source, or set ${DATA_DIR_ENV} (or --data-dir) "
                f"to a folder holding a sub-folder named {where!r}."
            )
    sl = cut(len(images))
    if sl.start is not None or sl.stop is not None:
        images, labels = images[sl], labels[sl]
    return images, labels


def check_finite(images, name="images"):
    """Refuses images holding NaN or infinite values (a ``ValueError`` saying how many): backends
    disagree on what such values give, so they are stopped where data enters."""
    images = np.asarray(images)
    if images.dtype.kind == "f":
        bad = images.size - int(np.count_nonzero(np.isfinite(images)))
        if bad:
            where = np.flatnonzero(~np.isfinite(images.reshape(len(images), -1)).all(axis=1))
            raise ValueError(f"{name} hold {bad} NaN or infinite value(s), in {len(where)} "
                             f"image(s) (first at index {int(where[0])}); clean or drop them.")
    return images


def to_float_images(images):
    """uint8 (or already float) images -> float32 in [0, 1]; NaN or infinite values are refused."""
    images = np.asarray(images)
    if images.dtype == np.uint8:
        return images.astype(np.float32) / 255.0
    return check_finite(images.astype(np.float32))


def check_shift(shift, shape, name="shift"):
    """Validates a random-translation range for images of ``shape`` (N, H, W[, C]); returns it
    as an int. ``name`` is the argument named in the errors."""
    if isinstance(shift, bool) or not isinstance(shift, (int, np.integer)) or shift < 0:
        raise ValueError(f"{name} must be a whole number of pixels >= 0, got {shift!r}.")
    if shift:
        if len(shape) not in (3, 4):
            raise ValueError(f"{name} needs images of shape (N, H, W) or (N, H, W, C), "
                             f"got shape {tuple(shape)}.")
        if 2 * shift >= min(shape[1:3]):
            raise ValueError(f"{name}={shift} would move whole {shape[1]}x{shape[2]} images "
                             f"out of the frame.")
    return int(shift)


def _translate(images, offsets, shift):
    """``images`` (B, H, W[, C]), each moved by its offsets (B, 2) in [0, 2·shift], which stand
    for (dy, dx) = shift − offset; zeros fill in. One gather per axis for the whole batch."""
    import tensorflow as tf

    height, width = images.shape[1], images.shape[2]
    padding = [[0, 0], [shift, shift], [shift, shift]] + [[0, 0]] * (images.shape.rank - 3)
    padded = tf.pad(images, padding)
    # the window starting at (shift - dy, shift - dx) holds the image moved by (dy, dx)
    rows = offsets[:, :1] + tf.range(height)[None]
    cols = offsets[:, 1:] + tf.range(width)[None]
    moved = tf.gather(padded, rows, axis=1, batch_dims=1)
    return tf.gather(moved, cols, axis=2, batch_dims=1)


def shift_images(images, shift, seed):
    """A batch ``images`` (B, H, W[, C]) with each image translated by its own random (dy, dx)
    in [-shift, shift]², zeros filling in; ``seed`` is a stateless seed (two integers), so the
    same seed gives the same offsets."""
    import tensorflow as tf

    offsets = tf.random.stateless_uniform(tf.stack([tf.shape(images)[0], 2]),
                                          seed=tf.cast(tf.stack(seed), tf.int64),
                                          minval=0, maxval=2 * shift + 1, dtype=tf.int32)
    return _translate(images, offsets, shift)


def shift_image(image, shift, seed):
    """One image (H, W[, C]) translated by a random (dy, dx) in [-shift, shift]², zeros filling
    in. Its offset is drawn as the semi-supervised pipeline's always was (the results recorded
    with ``labelled_shift`` reproduce), not as ``shift_images`` draws a batch's."""
    import tensorflow as tf

    offset = tf.random.stateless_uniform([2], seed=tf.cast(tf.stack(seed), tf.int64),
                                         minval=0, maxval=2 * shift + 1, dtype=tf.int64)
    return _translate(image[None], tf.cast(offset, tf.int32)[None], shift)[0]


def shifted_copies(images, shift, copies, seed=0, batch_size=10000):
    """``copies`` translated versions of the whole array ``images`` (N, H, W[, C]): in each,
    every image moved by its own random (dy, dx) in [-shift, shift]², zeros filling in (as
    ``make_dataset(shift=...)`` moves them), drawn reproducibly from ``seed``; copy ``c`` differs
    from copy ``c'``. For augmenting a fixed-feature evaluation such as a linear probe
    (``keras_ae.evaluation.probe_features(train_copies=...)``).

    Returns:
        a list of ``copies`` float32 arrays shaped like ``images`` (uint8 is scaled to [0, 1]).
    """
    import tensorflow as tf

    x = to_float_images(images)
    shift = check_shift(shift, x.shape)
    if not shift:
        raise ValueError("shift must be >= 1 pixel for shifted copies (0 would copy the images "
                         "unchanged).")
    if isinstance(copies, bool) or not isinstance(copies, (int, np.integer)) or copies < 1:
        raise ValueError(f"copies must be a whole number >= 1, got {copies!r}.")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seed must be an int, got {seed!r}.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    out = []
    for c in range(copies):
        parts = [shift_images(tf.constant(x[i:i + batch_size]), shift, (int(seed), c * 100003 + j))
                 for j, i in enumerate(range(0, len(x), batch_size))]
        out.append(np.concatenate([p.numpy() for p in parts]) if parts else x.copy())
    return out


def make_dataset(images, labels, batch_size=128, shuffle=True, seed=None, drop_remainder=None,
                 target="label", flatten=False, sample_weight=None, shift=0):
    """NumPy arrays -> a shuffled, batched, prefetched ``tf.data.Dataset``.

    Args:
        images: uint8 or float array (N, H, W, C); uint8 is scaled to [0, 1].
        labels: int array (N,).
        target: ``"label"`` gives ``(images, labels)``; ``"image"`` gives ``(images, images)`` for
            training a plain autoencoder.
        flatten: give images as (N, H*W*C) vectors.
        drop_remainder: default ``shuffle`` (training pipelines drop the partial last batch, which
            would otherwise trigger a retrace).
        sample_weight: optional (N,) weights, yielded as the third element.
        shift: data augmentation: translate every image, each time it is drawn, by a random
            whole number of pixels in ``[-shift, shift]`` along each spatial axis
            (independently; the uncovered border filled with zeros), drawn afresh every epoch
            and reproducibly for a given ``seed``. Images of shape (N, H, W) or (N, H, W, C);
            with ``target="image"`` the target is the shifted image; ``flatten`` flattens
            after shifting.
    """
    import tensorflow as tf

    if target not in ("label", "image"):
        raise ValueError(f"target must be 'label' or 'image', got {target!r}.")
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}.")
    if len(images) != len(labels):
        raise ValueError(f"images ({len(images)}) and labels ({len(labels)}) differ in length.")
    x = to_float_images(images)
    shift = check_shift(shift, x.shape)
    if flatten and not shift:
        x = x.reshape(len(x), -1)
    y = x if target == "image" and not shift else np.asarray(labels).astype(np.int32)
    parts = (x, y) if sample_weight is None else (x, y, np.asarray(sample_weight, np.float32))
    ds = tf.data.Dataset.from_tensor_slices(parts)
    if shuffle:
        ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    drop = shuffle if drop_remainder is None else drop_remainder
    ds = ds.batch(batch_size, drop_remainder=drop)
    if shift:
        # one random number per batch, a new sequence every epoch: the seed of its offsets
        draws = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def translate(batch, draw):
            moved = shift_images(batch[0], shift, (draw, 0))
            if flatten:
                moved = tf.reshape(moved, [tf.shape(moved)[0], -1])
            return (moved, moved if target == "image" else batch[1]) + tuple(batch[2:])

        ds = tf.data.Dataset.zip((ds, draws)).map(translate, num_parallel_calls=tf.data.AUTOTUNE,
                                                  deterministic=True)
    return ds.prefetch(tf.data.AUTOTUNE)


def load(source=None, split="train", batch_size=128, shuffle=None, seed=None,
         drop_remainder=None, target="label", flatten=False, data_dir=None, tfds_dir=None,
         allow_download=True, limit=None, shift=0, image_size=None):
    """Loads images as a ``tf.data.Dataset`` of ``(images, labels)`` batches.

    Images are float32 in [0, 1], NHWC (or flat with ``flatten=True``); labels int32.

    Args:
        source: a TFDS name (``"mnist"``), a folder of IDX files, or ``None`` for
            ``$KERAS_AE_DATA_DIR`` / the shipped MNIST sample.
        split: ``"train"``, ``"test"`` or a slice such as ``"train[:50000]"``.
        shuffle: default ``True`` for training splits, ``False`` otherwise.
        target: ``"label"`` or ``"image"`` (``(x, x)`` pairs for autoencoders).
        limit: keep only the first ``limit`` examples (after slicing).
        data_dir: a folder of IDX files or of one sub-folder per dataset name; overrides
            ``$KERAS_AE_DATA_DIR``.
        shift: random translations of up to ``shift`` pixels, drawn afresh every epoch (data
            augmentation; see ``make_dataset``).
        image_size: ``(height, width)``: resize the images of a folder of class sub-folders.
    """
    images, labels = load_arrays(source, split, data_dir, tfds_dir, allow_download, image_size)
    if limit is not None:
        images, labels = images[:limit], labels[:limit]
    if shuffle is None:
        shuffle = str(split).startswith("train")
    return make_dataset(images, labels, batch_size=batch_size, shuffle=shuffle, seed=seed,
                        drop_remainder=drop_remainder, target=target, flatten=flatten,
                        shift=shift)
