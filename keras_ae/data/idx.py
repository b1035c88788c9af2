"""Reading and writing MNIST-style IDX files, gzipped or not, with NumPy only.

IDX layout: two zero bytes, a type byte, the number of dimensions, then each dimension as a
big-endian 32-bit integer, then the data. Every way a file can be wrong raises
:class:`IDXError` (a ``ValueError``) that names the file.
"""

import gzip
import os
import struct

import numpy as np

# IDX type byte -> NumPy dtype (big-endian where it matters).
_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_DTYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09}


class IDXError(ValueError):
    """An IDX file is missing, truncated, corrupt or inconsistent with its partner."""


def _read_bytes(path):
    if not os.path.isfile(path):
        raise IDXError(f"IDX file not found: {path}")
    opener = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError) as e:  # gzip raises these for truncated or non-gzip data
        raise IDXError(f"Cannot read IDX file {path}: {e}") from None


def read_idx(path):
    """Reads one IDX file into a NumPy array, checking its header against its size."""
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise IDXError(f"Corrupt IDX file {path}: {len(raw)} bytes, shorter than the header.")
    zero0, zero1, type_code, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero0 != 0 or zero1 != 0 or type_code not in _IDX_TYPES or ndim == 0:
        raise IDXError(
            f"Corrupt IDX file {path}: bad magic number 0x{raw[:4].hex()} "
            "(expected 0x000008NN for uint8 data, e.g. 0x00000803 for images)."
        )
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise IDXError(f"Truncated IDX file {path}: the header promises {ndim} dimensions.")
    shape = struct.unpack(f">{ndim}I", raw[4:header_size])
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    actual = len(raw) - header_size
    if actual != expected:
        kind = "Truncated" if actual < expected else "Corrupt"
        raise IDXError(
            f"{kind} IDX file {path}: header says shape {tuple(shape)} ({expected} bytes of "
            f"data) but the file holds {actual} bytes."
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_size).reshape(shape)
    return data.astype(dtype.newbyteorder("="), copy=False)


def write_idx(path, array):
    """Writes a uint8/int8 array as an IDX file (gzipped when ``path`` ends in ``.gz``)."""
    array = np.asarray(array)
    if array.dtype not in _DTYPE_CODES:
        raise TypeError(f"write_idx expects uint8 or int8 data, got {array.dtype}.")
    header = bytes([0, 0, _DTYPE_CODES[array.dtype], array.ndim])
    header += struct.pack(f">{array.ndim}I", *array.shape)
    opener = gzip.open if path.endswith(".gz") else open
    tmp = path + ".tmp"
    with opener(tmp, "wb") as f:
        f.write(header + np.ascontiguousarray(array).tobytes())
    os.replace(tmp, path)


def read_image_label_pair(images_path, labels_path):
    """Reads an images file and its labels file and checks that they belong together."""
    images = read_idx(images_path)
    labels = read_idx(labels_path)
    if images.ndim not in (3, 4):
        raise IDXError(
            f"IDX images file {images_path} has shape {images.shape}; expected "
            "(count, height, width) or (count, height, width, channels)."
        )
    if labels.ndim != 1:
        raise IDXError(f"IDX labels file {labels_path} has shape {labels.shape}; expected (count,).")
    if len(images) != len(labels):
        raise IDXError(
            f"Mismatched IDX files: {images_path} holds {len(images)} images but "
            f"{labels_path} holds {len(labels)} labels."
        )
    return images, labels
