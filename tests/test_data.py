import gzip
import os
import shutil
import struct

import numpy as np
import pytest

from keras_ae import data
from keras_ae.data import IDXError, DatasetNotFoundError, read_idx, write_idx


def _write_raw(path, payload):
    with (gzip.open if path.endswith(".gz") else open)(path, "wb") as f:
        f.write(payload)


def _idx_bytes(array, magic_type=0x08):
    return bytes([0, 0, magic_type, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


@pytest.fixture
def tiny_folder(tmp_path):
    """A non-MNIST IDX folder: 12x10 images, 3 classes, train/t10k, mixed gzip and plain."""
    rng = np.random.default_rng(0)
    for prefix, n, gz in (("train", 30, ".gz"), ("t10k", 9, "")):
        images = rng.integers(0, 256, (n, 12, 10), dtype=np.uint8)
        labels = (np.arange(n) % 3).astype(np.uint8)
        _write_raw(str(tmp_path / f"{prefix}-images-idx3-ubyte{gz}"), _idx_bytes(images))
        _write_raw(str(tmp_path / f"{prefix}-labels-idx1-ubyte{gz}"), _idx_bytes(labels))
    return tmp_path


def test_idx_reader_matches_struct_oracle(tmp_path):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = str(tmp_path / "x-idx3-ubyte")
    _write_raw(path, _idx_bytes(array))
    np.testing.assert_array_equal(read_idx(path), array)
    write_idx(str(tmp_path / "y-idx3-ubyte.gz"), array)
    with gzip.open(tmp_path / "y-idx3-ubyte.gz") as f:
        assert f.read() == _idx_bytes(array)


def test_shipped_sample_is_real_balanced_mnist():
    x, y = data.read_idx_folder(data.SAMPLE_DIR, "train")
    assert x.shape == (5000, 28, 28, 1) and x.dtype == np.uint8
    assert np.bincount(y).tolist() == [500] * 10
    xt, yt = data.read_idx_folder(data.SAMPLE_DIR, "test")
    assert xt.shape == (1000, 28, 28, 1) and np.bincount(yt).tolist() == [100] * 10
    size = sum(os.path.getsize(os.path.join(data.SAMPLE_DIR, f)) for f in os.listdir(data.SAMPLE_DIR))
    assert size < 2 * 1024 * 1024
    # Real digits, not noise: MNIST's mean intensity is about 0.13 and most pixels are 0.
    assert 0.10 < x.mean() / 255 < 0.16 and (x == 0).mean() > 0.7


def test_shipped_sample_is_what_make_sample_makes(mnist_dir, tmp_path):
    """The shipped files are reproducible: rebuilt from the full MNIST folder, they hold the same
    images and labels in the same order."""
    from keras_ae.data import make_sample

    make_sample.main([mnist_dir, str(tmp_path)])
    for split in ("train", "test"):
        rebuilt = data.read_idx_folder(str(tmp_path), split)
        shipped = data.read_idx_folder(data.SAMPLE_DIR, split)
        for a, b in zip(rebuilt, shipped):
            np.testing.assert_array_equal(a, b)


def test_full_mnist_folder(mnist_dir):
    x, y = data.load_arrays(mnist_dir, "train")
    assert x.shape == (60000, 28, 28, 1)
    assert np.bincount(y).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    x, y = data.load_arrays(mnist_dir, "train[50000:]")
    assert len(x) == 10000


def test_load_pipeline_from_any_idx_folder(tiny_folder):
    ds = data.load(str(tiny_folder), "train", batch_size=8, seed=1)
    batches = list(ds.as_numpy_iterator())
    assert len(batches) == 3  # 30 // 8 with drop_remainder in training
    x, y = batches[0]
    assert x.shape == (8, 12, 10, 1) and x.dtype == np.float32 and y.dtype == np.int32
    assert 0.0 <= x.min() and x.max() <= 1.0
    test = list(data.load(str(tiny_folder), "test", batch_size=4).as_numpy_iterator())
    assert [len(b[0]) for b in test] == [4, 4, 1]  # no shuffle, keep the remainder
    raw, labels = data.load_arrays(str(tiny_folder), "test")
    np.testing.assert_allclose(np.concatenate([b[0] for b in test]), raw / 255.0, atol=1e-7)


def test_target_image_and_flatten(tiny_folder):
    x, t = next(iter(data.load(str(tiny_folder), batch_size=4, target="image", flatten=True)))
    assert x.shape == (4, 120)
    np.testing.assert_array_equal(x.numpy(), t.numpy())


def test_split_slices(tiny_folder):
    x, _ = data.load_arrays(str(tiny_folder), "train[:10]")
    assert len(x) == 10
    x, _ = data.load_arrays(str(tiny_folder), "train[50%:]")
    assert len(x) == 15
    with pytest.raises(ValueError, match="split="):
        data.load_arrays(str(tiny_folder), "validation")


def test_env_var_and_name(tiny_folder, tmp_path, monkeypatch):
    root = tmp_path / "root"
    shutil.copytree(tiny_folder, root / "mnist")
    monkeypatch.setenv(data.DATA_DIR_ENV, str(root))
    assert data.resolve_source(None) == ("idx", str(root / "mnist"))
    assert data.resolve_source("mnist") == ("idx", str(root / "mnist"))
    x, _ = data.load_arrays()
    assert x.shape[1:] == (12, 10, 1)


def test_default_without_anything_is_the_sample(monkeypatch):
    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    assert data.resolve_source(None) == ("idx", data.SAMPLE_DIR)


def test_offline_tfds_name_falls_back_fast(monkeypatch, tmp_path):
    """Offline, an unknown-locally 'mnist' falls back to the sample with a warning, without the
    minutes of retries tfds.load would spend."""
    from keras_ae.data import loading

    monkeypatch.delenv(data.DATA_DIR_ENV, raising=False)
    monkeypatch.setattr(loading, "_tfds_reachable", lambda timeout=2.0: False)
    with pytest.warns(UserWarning, match="sample shipped"):
        x, _ = data.load_arrays("mnist", "test", tfds_dir=str(tmp_path))
    assert x.shape == (1000, 28, 28, 1)
    with pytest.raises(DatasetNotFoundError, match="neither on disk in TFDS nor downloadable"):
        data.load_arrays("cifar10", "test", tfds_dir=str(tmp_path))


def test_missing_folder():
    with pytest.raises(DatasetNotFoundError, match="Data folder not found: ./no/such/dir"):
        data.load("./no/such/dir")


def test_env_var_not_a_folder(monkeypatch):
    monkeypatch.setenv(data.DATA_DIR_ENV, "/no/such/place")
    with pytest.raises(DatasetNotFoundError, match=r"\$KERAS_AE_DATA_DIR points to /no/such/place"):
        data.load_arrays()


def test_folder_without_idx(tmp_path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(DatasetNotFoundError, match="No IDX files for split 'train'"):
        data.load(str(tmp_path))


def test_truncated_file_names_it(tiny_folder):
    path = tiny_folder / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-7])
    with pytest.raises(IDXError, match=r"Truncated IDX file .*t10k-images-idx3-ubyte: header says"):
        data.load(str(tiny_folder), "test")


def test_corrupt_gzip_names_it(tiny_folder):
    path = tiny_folder / "train-labels-idx1-ubyte.gz"
    path.write_bytes(b"not gzip at all")
    with pytest.raises(IDXError, match=r"train-labels-idx1-ubyte.gz"):
        data.load(str(tiny_folder))


def test_bad_magic_names_it(tiny_folder):
    path = tiny_folder / "t10k-labels-idx1-ubyte"
    path.write_bytes(b"\x12\x34" + path.read_bytes()[2:])
    with pytest.raises(IDXError, match=r"Corrupt IDX file .*t10k-labels-idx1-ubyte: bad magic"):
        data.load_arrays(str(tiny_folder), "test")


def test_mismatched_counts(tiny_folder):
    _write_raw(str(tiny_folder / "t10k-labels-idx1-ubyte"), _idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(IDXError, match=r"holds 9 images but .*t10k-labels-idx1-ubyte holds 5 labels"):
        data.load_arrays(str(tiny_folder), "test")


def test_missing_partner_file(tiny_folder):
    os.remove(tiny_folder / "t10k-labels-idx1-ubyte")
    with pytest.raises(IDXError, match="no matching labels file"):
        data.load_arrays(str(tiny_folder), "test")


def test_keep_labels_balanced_and_seeded():
    labels = np.repeat(np.arange(10), 50)
    kept = data.keep_labels(labels, 100, seed=3)
    mask = kept != data.UNLABELLED
    assert mask.sum() == 100
    assert np.bincount(kept[mask]).tolist() == [10] * 10
    np.testing.assert_array_equal(kept[mask], labels[mask])
    np.testing.assert_array_equal(kept, data.keep_labels(labels, 100, seed=3))
    assert not np.array_equal(kept, data.keep_labels(labels, 100, seed=4))
    with pytest.raises(ValueError, match="num_labels"):
        data.keep_labels(labels, 1000)


def test_semi_supervised_pipeline_mixes_for_fit():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (200, 4, 4, 1), dtype=np.uint8)
    labels = np.arange(200) % 10
    ds = data.semi_supervised_dataset(images, labels, num_labels=20, batch_size=50, labelled_fraction=0.5)
    ys = np.concatenate([y for _, y in ds.take(8).as_numpy_iterator()])
    frac = (ys != -1).mean()
    assert 0.35 < frac < 0.65
    plain = data.semi_supervised_dataset(images, labels, num_labels=20, batch_size=50)
    ys = np.concatenate([y for _, y in plain.as_numpy_iterator()])
    assert (ys != -1).sum() == 20


def _np_shift(image, dy, dx):
    """NumPy oracle: ``image`` moved down by dy and right by dx pixels, zeros filling in."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


def test_labelled_shift_translates_only_labelled_examples():
    rng = np.random.default_rng(1)
    images = rng.integers(1, 256, (300, 9, 8, 1), dtype=np.uint8)  # no zero pixel: shifts show
    labels = np.arange(300) % 10
    originals = data.to_float_images(images)
    ds = data.semi_supervised_dataset(images, labels, num_labels=30, batch_size=64, seed=5,
                                      labelled_fraction=0.5, labelled_shift=2)
    shifts = set()
    for x, y in ds.take(6).as_numpy_iterator():
        for image, label in zip(x, y):
            if label == -1:  # unlabelled: an original, untouched
                assert any(np.array_equal(image, o) for o in originals)
                continue
            found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                     for o in originals[labels == label]
                     if np.array_equal(image, _np_shift(o, dy, dx))]
            assert len(found) == 1, found
            shifts.add(found[0])
    assert len(shifts) > 15  # most of the 25 offsets turn up: the shift is drawn per example
    again = data.semi_supervised_dataset(images, labels, num_labels=30, batch_size=64, seed=5,
                                         labelled_fraction=0.5, labelled_shift=2)
    third = data.semi_supervised_dataset(images, labels, num_labels=30, batch_size=64, seed=5,
                                         labelled_fraction=0.5, labelled_shift=2)
    for (a, _), (b, _) in zip(again.take(3).as_numpy_iterator(),
                              third.take(3).as_numpy_iterator()):
        np.testing.assert_array_equal(a, b)  # the same seed, the same pipeline


def test_labelled_shift_flattens_after_shifting_and_checks_its_argument():
    images = np.arange(1, 1 + 40 * 36, dtype=np.float32).reshape(40, 6, 6) % 250 + 1
    labels = np.arange(40) % 10
    ds = data.semi_supervised_dataset(images.astype(np.uint8), labels, num_labels=10,
                                      batch_size=8, labelled_fraction=0.5, labelled_shift=1,
                                      flatten=True)
    x, _ = next(ds.as_numpy_iterator())
    assert x.shape == (8, 36)
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="labelled_shift"):
            data.semi_supervised_dataset(images, labels, 10, labelled_fraction=0.5,
                                         labelled_shift=bad)
    with pytest.raises(ValueError, match="labelled_shift"):
        data.semi_supervised_dataset(images, labels, 10, labelled_fraction=0.5, labelled_shift=3)
    with pytest.raises(ValueError, match="labelled_fraction"):
        data.semi_supervised_dataset(images, labels, 10, labelled_shift=1)


def test_make_dataset_shift_translates_every_example_afresh_each_epoch():
    rng = np.random.default_rng(2)
    images = rng.integers(1, 256, (120, 9, 8, 1), dtype=np.uint8)  # no zero pixel: shifts show
    originals = data.to_float_images(images)
    ds = data.make_dataset(images, np.arange(120), batch_size=32, seed=3, shift=2)
    epochs = []
    for _ in range(2):
        offsets = {}
        seen = 0
        for x, y in ds.as_numpy_iterator():
            for image, index in zip(x, y):
                found = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                         if np.array_equal(image, _np_shift(originals[index], dy, dx))]
                assert found, "not a translation of its own image by at most 2 pixels"
                offsets[int(index)] = found[0]
                seen += 1
        assert seen == 96 and len(offsets) == 96  # shuffled, partial last batch dropped
        epochs.append(offsets)
    assert len(set(epochs[0].values())) > 20  # most of the 25 offsets: drawn per example
    both = set(epochs[0]) & set(epochs[1])
    moved = sum(epochs[0][i] != epochs[1][i] for i in both)
    assert moved > 0.8 * len(both)  # drawn afresh every epoch, not once per position
    first = [x for x, _ in data.make_dataset(images, np.arange(120), batch_size=32, seed=3,
                                             shift=2).take(2).as_numpy_iterator()]
    again = [x for x, _ in data.make_dataset(images, np.arange(120), batch_size=32, seed=3,
                                             shift=2).take(2).as_numpy_iterator()]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)  # the same seed, the same pipeline


def test_make_dataset_shift_zero_flatten_and_argument_errors():
    images = (np.arange(40 * 36).reshape(40, 6, 6) % 250 + 1).astype(np.uint8)
    labels = np.arange(40)
    plain = data.make_dataset(images, labels, batch_size=8, shuffle=False)
    unshifted = data.make_dataset(images, labels, batch_size=8, shuffle=False, shift=0)
    for (a, _), (b, _) in zip(plain.as_numpy_iterator(), unshifted.as_numpy_iterator()):
        np.testing.assert_array_equal(a, b)
    flat = data.make_dataset(images, labels, batch_size=8, shuffle=False, shift=1, flatten=True)
    x, y = next(flat.as_numpy_iterator())
    assert x.shape == (8, 36)
    originals = data.to_float_images(images)
    for image, index in zip(x, y):  # shifted as an image, then flattened
        assert any(np.array_equal(image, _np_shift(originals[index], dy, dx).reshape(-1))
                   for dy in (-1, 0, 1) for dx in (-1, 0, 1))
    target = data.make_dataset(images, labels, batch_size=8, shuffle=False, shift=1,
                               target="image")
    x, y = next(target.as_numpy_iterator())
    np.testing.assert_array_equal(x, y)  # an autoencoder's target is the shifted input itself
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="shift"):
            data.make_dataset(images, labels, shift=bad)
    with pytest.raises(ValueError, match="shift=3 would move whole 6x6 images"):
        data.make_dataset(images, labels, shift=3)
    with pytest.raises(ValueError, match=r"shift needs images of shape \(N, H, W\)"):
        data.make_dataset(images.reshape(40, 36), labels, shift=1)


def test_load_passes_shift_to_the_pipeline(tiny_folder):
    plain = next(data.load(tiny_folder, "train", batch_size=4, shuffle=False).as_numpy_iterator())
    moved = next(data.load(tiny_folder, "train", batch_size=4, shuffle=False, seed=0,
                           shift=2).as_numpy_iterator())
    np.testing.assert_array_equal(plain[1], moved[1])
    for image, original in zip(moved[0], plain[0]):
        assert any(np.array_equal(image, _np_shift(original, dy, dx))
                   for dy in range(-2, 3) for dx in range(-2, 3))
    assert not np.array_equal(moved[0], plain[0])


def test_labelled_shift_offsets_are_the_recorded_runs_stream():
    """The semi-supervised pipeline's offset for stateless seed (seed, i) is TensorFlow's
    stateless_uniform([2], int64) draw, as when the SWWAE shift results were recorded: a change
    of that stream would make their commands draw other offsets."""
    import tensorflow as tf

    from keras_ae.data.loading import shift_image

    image = np.random.default_rng(3).random((9, 8, 1)).astype(np.float32) + 0.5
    for i in range(40):
        offset = tf.random.stateless_uniform([2], seed=tf.constant([5, i], tf.int64), minval=0,
                                             maxval=5, dtype=tf.int64).numpy()
        dy, dx = 2 - int(offset[0]), 2 - int(offset[1])
        np.testing.assert_array_equal(shift_image(tf.constant(image), 2, (5, i)).numpy(),
                                      _np_shift(image, dy, dx))


def test_shifted_copies_move_each_image_by_its_own_offset_within_the_range():
    rng = np.random.default_rng(4)
    images = rng.integers(1, 256, (90, 9, 8, 1), dtype=np.uint8)  # no zero pixel: shifts show
    originals = data.to_float_images(images)
    copies = data.shifted_copies(images, 2, 3, seed=7, batch_size=40)  # batches of 40, 40, 10
    assert len(copies) == 3
    offsets = []
    for copy in copies:
        assert copy.shape == originals.shape and copy.dtype == np.float32
        found = []
        for image, original in zip(copy, originals):
            moves = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                     if np.array_equal(image, _np_shift(original, dy, dx))]
            assert len(moves) == 1, "not a translation of its own image by at most 2 pixels"
            found.append(moves[0])
        assert len(set(found)) > 15  # most of the 25 offsets: drawn per image
        assert found[:40] != found[40:80]  # each batch draws its own offsets
        offsets.append(found)
    assert sum(a != b for a, b in zip(offsets[0], offsets[1])) > 60  # the copies differ
    again = data.shifted_copies(images, 2, 3, seed=7, batch_size=40)
    for a, b in zip(copies, again):
        np.testing.assert_array_equal(a, b)  # the same seed, the same copies
    other = data.shifted_copies(images, 2, 1, seed=8, batch_size=40)[0]
    assert not np.array_equal(other, copies[0])


@pytest.mark.parametrize("kwargs, error, text", [
    ({"shift": 0, "copies": 1}, ValueError, "shift must be >= 1"),
    ({"shift": -1, "copies": 1}, ValueError, "shift must be a whole number"),
    ({"shift": 5, "copies": 1}, ValueError, "out of the frame"),
    ({"shift": 1, "copies": 0}, ValueError, "copies must be a whole number >= 1"),
    ({"shift": 1, "copies": 1.5}, ValueError, "copies must be"),
    ({"shift": 1, "copies": 1, "seed": "a"}, TypeError, "seed must be an int"),
    ({"shift": 1, "copies": 1, "batch_size": 0}, ValueError, "batch_size must be"),
])
def test_shifted_copies_argument_errors(kwargs, error, text):
    images = np.ones((4, 9, 8, 1), np.uint8)
    with pytest.raises(error, match=text):
        data.shifted_copies(images, **kwargs)


def _write_png_folder(root, sizes_by_class, channels=1, seed=0):
    """``root/<split>/<class>/i.png`` with random pixels; returns {split: (images, labels)} in
    the order a reader must give (classes sorted by name, files by name)."""
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    written = {}
    for split, per_class in sizes_by_class.items():
        images, labels = [], []
        for index, (name, sizes) in enumerate(sorted(per_class.items())):
            os.makedirs(os.path.join(root, split, name))
            for i, (h, w) in enumerate(sizes):
                image = rng.integers(0, 256, size=(h, w, channels), dtype=np.uint8)
                tf.io.write_file(os.path.join(root, split, name, f"{i}.png"),
                                 tf.io.encode_png(image))
                images.append(image)
                labels.append(index)
        written[split] = (images, np.array(labels))
    return written


def test_image_folder_reads_class_subfolders_exactly(tmp_path):
    root = str(tmp_path / "pics")
    written = _write_png_folder(root, {"train": {"b_cats": [(6, 5)] * 3, "a_dogs": [(6, 5)] * 2},
                                       "test": {"a_dogs": [(6, 5)], "b_cats": [(6, 5)]}})
    for split in ("train", "test"):
        x, y = data.load_arrays(root, split)
        np.testing.assert_array_equal(x, np.stack(written[split][0]))  # PNG is lossless
        np.testing.assert_array_equal(y, written[split][1])  # a_dogs = 0, b_cats = 1
    batch = next(iter(data.load(root, "test", batch_size=2, shuffle=False)))
    np.testing.assert_allclose(batch[0].numpy(), np.stack(written["test"][0]) / 255.0)


def test_image_folder_of_mixed_sizes_is_refused_or_resized(tmp_path):
    import tensorflow as tf

    root = str(tmp_path / "mixed")
    written = _write_png_folder(root, {"train": {"a": [(8, 8), (4, 6)]}}, channels=3)
    with pytest.raises(ValueError, match=r"2 different sizes \(4x6, 8x8\).*--image-size"):
        data.load_arrays(root, "train")
    x, _ = data.load_arrays(root, "train", image_size=(8, 8))
    assert x.shape == (2, 8, 8, 3) and x.dtype == np.uint8
    np.testing.assert_array_equal(x[0], written["train"][0][0])  # already 8x8: untouched
    expected = np.clip(np.round(tf.image.resize(written["train"][0][1], (8, 8)).numpy()), 0, 255)
    np.testing.assert_array_equal(x[1], expected.astype(np.uint8))
    with pytest.raises(ValueError, match="image_size must be"):
        data.load_arrays(root, "train", image_size=(8,))
    with pytest.raises(FileNotFoundError, match="No 'test' folder"):
        data.load_arrays(root, "test")
    with pytest.raises(ValueError, match="image_size resizes the images of a folder"):
        data.load_arrays(data.SAMPLE_DIR, "test", image_size=(8, 8))


def test_non_finite_images_are_refused_where_data_enters():
    images = np.zeros((4, 3, 3, 1), np.float32)
    images[2, 1, 1, 0] = np.nan
    images[3, 0, 0, 0] = np.inf
    with pytest.raises(ValueError, match=r"2 NaN or infinite value\(s\), in 2 image\(s\) "
                                         r"\(first at index 2\)"):
        data.to_float_images(images)
    with pytest.raises(ValueError, match="NaN or infinite"):
        data.make_dataset(images, np.zeros(4), batch_size=2)
