"""Folders of images in class sub-folders (PNG, JPEG, GIF, BMP): the layout that
``keras.utils.image_dataset_from_directory`` reads, one folder per split::

    my_data/train/<class name>/*.png     my_data/test/<class name>/*.png

Class indices follow the sorted class-folder names (as Keras orders them). Images must all have
one size, or are resized to ``image_size``; grey images keep one channel, colour ones three.
"""

import os

import numpy as np

__all__ = ["IMAGE_EXTENSIONS", "is_image_folder", "read_image_folder"]

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp")


def _class_folders(folder):
    return sorted(d for d in os.listdir(folder)
                  if os.path.isdir(os.path.join(folder, d)) and not d.startswith("."))


def _image_files(folder):
    return sorted(f for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS))


def is_image_folder(folder):
    """Whether ``folder`` holds a ``train`` sub-folder of class folders of images."""
    train = os.path.join(folder, "train")
    return os.path.isdir(train) and any(
        _image_files(os.path.join(train, c)) for c in _class_folders(train))


def read_image_folder(folder, split="train", image_size=None):
    """Reads ``folder/split/<class>/*`` as uint8 images (N, H, W, C) and int64 labels.

    Args:
        image_size: ``(height, width)`` to resize every image to (bilinear); ``None`` requires
            every image to have the same size and refuses the folder otherwise.

    Raises:
        FileNotFoundError: no such split folder or no images in it.
        ValueError: images of different sizes with ``image_size=None``, a file that is not a
            readable image, or a bad ``image_size``.
    """
    import tensorflow as tf

    if image_size is not None:
        if (not isinstance(image_size, (list, tuple)) or len(image_size) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0
                           for v in image_size)):
            raise ValueError(f"image_size must be (height, width) of positive ints, "
                             f"got {image_size!r}.")
    where = os.path.join(folder, split)
    if not os.path.isdir(where):
        raise FileNotFoundError(f"No {split!r} folder in {folder}: expected "
                                f"{where}/<class name>/<images>.")
    classes = _class_folders(where)
    paths, labels = [], []
    for index, name in enumerate(classes):
        files = _image_files(os.path.join(where, name))
        paths += [os.path.join(where, name, f) for f in files]
        labels += [index] * len(files)
    if not paths:
        raise FileNotFoundError(f"No images ({', '.join(IMAGE_EXTENSIONS)}) in the class "
                                f"folders of {where}.")
    images = []
    for path in paths:
        try:
            image = tf.io.decode_image(tf.io.read_file(path), expand_animations=False).numpy()
        except tf.errors.InvalidArgumentError:
            raise ValueError(f"{path} is not a readable PNG/JPEG/GIF/BMP image.") from None
        images.append(image[..., :3] if image.shape[-1] in (3, 4) else image[..., :1])
    channels = max(im.shape[-1] for im in images)
    if channels == 3:
        images = [np.repeat(im, 3, axis=-1) if im.shape[-1] == 1 else im for im in images]
    if image_size is None:
        sizes = sorted({im.shape[:2] for im in images})
        if len(sizes) > 1:
            raise ValueError(f"The images in {where} have {len(sizes)} different sizes "
                             f"({', '.join(f'{h}x{w}' for h, w in sizes[:4])}"
                             f"{', ...' if len(sizes) > 4 else ''}): pass image_size (command "
                             f"line: --image-size HxW) to resize them.")
        stacked = np.stack(images)
    else:
        stacked = np.stack([
            im if im.shape[:2] == tuple(image_size) else np.clip(np.round(
                tf.image.resize(im, image_size, method="bilinear").numpy()), 0, 255)
            .astype(np.uint8) for im in images])
    return stacked.astype(np.uint8), np.asarray(labels, np.int64)
