"""Oracle: a linear autoencoder trained with MSE spans the principal subspace of its data
(Baldi & Hornik 1989). Checked by the principal angles between the decoder's column space and
the top-k principal directions from NumPy's SVD of the same (real MNIST) images."""

import keras
import numpy as np

from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images
from keras_ae.models import LinearAutoencoder

K = 6  # the eigenvalue gap after the 6th component (2.26 vs 1.71) makes convergence quick


def _principal_angles_degrees(a, b):
    """Principal angles between the column spaces of a and b (Björck & Golub), in degrees."""
    qa, _ = np.linalg.qr(a)
    qb, _ = np.linalg.qr(b)
    cosines = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    return np.degrees(np.arccos(cosines))


def test_linear_autoencoder_spans_pca_subspace():
    images, _ = read_idx_folder(SAMPLE_DIR, "train")
    x = to_float_images(images)
    flat = x.reshape(len(x), -1).astype(np.float64)
    _, _, vt = np.linalg.svd(flat - flat.mean(0), full_matrices=False)
    pca = vt[:K].T  # (784, K)

    model = LinearAutoencoder(code_size=K)
    untrained = keras.ops.convert_to_numpy(model.decoder.get_layer("pixels").kernel).T
    assert _principal_angles_degrees(untrained, pca).max() > 45  # the check can fail

    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    model.fit(x, x, epochs=40, batch_size=500, verbose=0)
    decoder = keras.ops.convert_to_numpy(model.decoder.get_layer("pixels").kernel).T  # (784, K)
    angles = _principal_angles_degrees(decoder, pca)
    assert angles.max() < 5.0, f"principal angles to the PCA subspace: {np.round(angles, 2)}"
