"""Data: IDX folders, folders of images in class sub-folders, TFDS names and the shipped
MNIST sample as ``tf.data`` pipelines;
ZCA whitening as a NumPy preprocessing step."""

from keras_ae.data.folders import is_image_folder, read_image_folder
from keras_ae.data.idx import IDXError, read_idx, write_idx
from keras_ae.data.loading import (
    DATA_DIR_ENV,
    SAMPLE_DIR,
    check_finite,
    DatasetNotFoundError,
    load,
    load_arrays,
    make_dataset,
    read_idx_folder,
    resolve_source,
    shifted_copies,
    to_float_images,
)
from keras_ae.data.semi import UNLABELLED, keep_labels, labelled_mask, semi_supervised_dataset
from keras_ae.data.whitening import ZCAWhitening
