"""ZCA whitening of images, fitted on training data (NumPy; a preprocessing step, not a layer).

``ZCAWhitening(epsilon).fit(train_images)`` learns the mean image and the symmetric matrix
``W = U · diag(1 / sqrt(λ + ε)) · Uᵀ`` from the eigendecomposition ``U · diag(λ) · Uᵀ`` of the
training images' covariance; :meth:`~ZCAWhitening.transform` maps images to ``(x − mean) · W``,
images of the same shape whose pixel covariance is close to the identity along the directions
of variance well above ``ε`` and shrunk along the rest (ε regularises the near-zero variances
of the border pixels, which plain whitening would blow up). Being symmetric, ZCA keeps whitened
images spatially aligned with the originals (PCA whitening would rotate them), so they can be
shown and fed to convolutions as images.

The fitted transform is deterministic (float64 eigendecomposition of the same images), and
:meth:`~ZCAWhitening.save` / :meth:`~ZCAWhitening.load` keep it beside a model trained on its
output (an ``.npz`` file, written whole or not at all).
"""

import math
import numbers
import os
import tempfile
import zipfile

import numpy as np

__all__ = ["ZCAWhitening"]


class ZCAWhitening:
    """ZCA whitening with regulariser ``epsilon`` (see the module docstring).

    Args:
        epsilon: added to every eigenvalue of the covariance before the inverse square root;
            a positive number in the units of the pixel variance (for pixels in [0, 1], MNIST's
            largest eigenvalue is about 5 and its 70th about 0.1).
    """

    def __init__(self, epsilon=0.1):
        if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
            raise TypeError(f"epsilon must be a positive number, got {epsilon!r}.")
        if not (math.isfinite(epsilon) and epsilon > 0):
            raise ValueError(f"epsilon must be a positive finite number, got {epsilon!r}.")
        self.epsilon = float(epsilon)
        self.mean = None
        self.matrix = None
        self.image_shape = None

    @property
    def fitted(self):
        return self.matrix is not None

    def fit(self, images):
        """Learns the mean and the whitening matrix from ``images`` (N, ...) with N ≥ 2."""
        x = self._flatten(images, "images", check_shape=False)
        if len(x) < 2:
            raise ValueError(f"fit needs at least 2 images to estimate a covariance, "
                             f"got {len(x)}.")
        mean = x.mean(axis=0)
        centred = x - mean
        covariance = centred.T @ centred / (len(x) - 1)
        eigenvalues, eigenvectors = np.linalg.eigh(covariance)
        eigenvalues = np.clip(eigenvalues, 0.0, None)  # round-off can make tiny ones negative
        scale = 1.0 / np.sqrt(eigenvalues + self.epsilon)
        self.mean = mean
        self.matrix = (eigenvectors * scale) @ eigenvectors.T
        self.image_shape = tuple(np.shape(images)[1:])
        return self

    def transform(self, images):
        """``(images − mean) · W``, as float32 images of the input's shape."""
        x = self._flatten(images, "images")
        return ((x - self.mean) @ self.matrix).astype(np.float32).reshape(np.shape(images))

    def inverse_transform(self, whitened):
        """Maps whitened images back to pixel space (``W`` is invertible for ε > 0)."""
        x = self._flatten(whitened, "whitened")
        return (np.linalg.solve(self.matrix, x.T).T + self.mean).astype(np.float32).reshape(
            np.shape(whitened))

    def fit_transform(self, images):
        return self.fit(images).transform(images)

    def get_config(self):
        return {"epsilon": self.epsilon}

    def save(self, path):
        """Writes the fitted transform to ``path`` (``.npz``) atomically."""
        self._check_fitted()
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=".tmp_zca_", suffix=".npz", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, epsilon=self.epsilon, mean=self.mean, matrix=self.matrix,
                         image_shape=np.asarray(self.image_shape, dtype=np.int64))
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.remove(tmp)
            raise
        return path

    @classmethod
    def load(cls, path):
        """The transform :meth:`save` wrote to ``path``."""
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no ZCA whitening file at {path!r}.")
        try:
            with np.load(path) as data:
                zca = cls(float(data["epsilon"]))
                zca.mean, zca.matrix = data["mean"], data["matrix"]
                zca.image_shape = tuple(int(v) for v in data["image_shape"])
        except (KeyError, ValueError, OSError, zipfile.BadZipFile) as error:
            raise ValueError(f"{path!r} is not a ZCA whitening file written by "
                             f"ZCAWhitening.save: {error}") from error
        dim = int(np.prod(zca.image_shape))
        if zca.mean.shape != (dim,) or zca.matrix.shape != (dim, dim):
            raise ValueError(f"{path!r} is corrupt: mean {zca.mean.shape} and matrix "
                             f"{zca.matrix.shape} do not fit images of shape {zca.image_shape}.")
        return zca

    def _check_fitted(self):
        if not self.fitted:
            raise ValueError("this ZCAWhitening is not fitted yet: call fit(train_images) first.")

    def _flatten(self, images, name, check_shape=True):
        x = np.asarray(images, dtype=np.float64)
        if x.ndim < 2:
            raise ValueError(f"{name} must be a batch of images (N, ...), got shape {x.shape}.")
        if check_shape:
            self._check_fitted()
            if tuple(x.shape[1:]) != self.image_shape:
                raise ValueError(f"{name} of shape {tuple(x.shape[1:])} per image, but this "
                                 f"transform was fitted on images of shape {self.image_shape}.")
        return x.reshape(len(x), -1)
