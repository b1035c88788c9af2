"""ZCAWhitening against closed forms and an independent SVD computation."""

import numpy as np
import pytest

from keras_ae.data import ZCAWhitening


def _correlated_images(n=500, seed=0):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(12, 12)) * np.linspace(2.0, 0.05, 12)  # unequal variances
    return (rng.normal(size=(n, 12)) @ mixing.T + 3.0).reshape(n, 3, 4, 1)


def test_diagonal_covariance_closed_form():
    # Four points with sample covariance diag(16/3, 4/3) and mean (1, -1).
    x = np.array([[-1.0, -2.0], [3.0, -2.0], [-1.0, 0.0], [3.0, 0.0]])
    zca = ZCAWhitening(epsilon=0.5).fit(x)
    np.testing.assert_allclose(zca.mean, [1.0, -1.0])
    np.testing.assert_allclose(zca.matrix, np.diag([1 / np.sqrt(16 / 3 + 0.5),
                                                    1 / np.sqrt(4 / 3 + 0.5)]), atol=1e-12)
    np.testing.assert_allclose(zca.transform(x)[0], [-2 / np.sqrt(16 / 3 + 0.5),
                                                     -1 / np.sqrt(4 / 3 + 0.5)], rtol=1e-6)


def test_matches_svd_oracle_and_is_symmetric():
    images = _correlated_images()
    eps = 0.01
    zca = ZCAWhitening(epsilon=eps).fit(images)
    x = images.reshape(len(images), -1)
    centred = x - x.mean(axis=0)
    _, singular, vt = np.linalg.svd(centred, full_matrices=False)  # another route than eigh
    variances = singular ** 2 / (len(x) - 1)
    oracle = vt.T @ np.diag(1 / np.sqrt(variances + eps)) @ vt
    np.testing.assert_allclose(zca.matrix, oracle, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(zca.matrix, zca.matrix.T, atol=1e-12)  # ZCA, not PCA whitening
    out = zca.transform(images)
    assert out.shape == images.shape and out.dtype == np.float32
    np.testing.assert_allclose(out, ((x - x.mean(axis=0)) @ oracle).reshape(images.shape),
                               rtol=1e-4, atol=1e-5)


def test_whitened_covariance_is_identity_for_small_epsilon():
    images = _correlated_images(n=2000)
    out = ZCAWhitening(epsilon=1e-9).fit_transform(images).reshape(2000, -1).astype(np.float64)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(out, rowvar=False), np.eye(12), atol=1e-3)


def test_inverse_transform_round_trips():
    images = _correlated_images()
    zca = ZCAWhitening(epsilon=0.1).fit(images)
    np.testing.assert_allclose(zca.inverse_transform(zca.transform(images)), images,
                               rtol=1e-4, atol=1e-4)


def test_save_and_load_round_trip(tmp_path):
    images = _correlated_images()
    zca = ZCAWhitening(epsilon=0.2).fit(images)
    path = zca.save(str(tmp_path / "zca.npz"))
    assert [p.name for p in tmp_path.iterdir()] == ["zca.npz"]  # no temporary left behind
    loaded = ZCAWhitening.load(path)
    assert loaded.get_config() == {"epsilon": 0.2} and loaded.image_shape == (3, 4, 1)
    np.testing.assert_array_equal(loaded.transform(images), zca.transform(images))


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no ZCA whitening file"):
        ZCAWhitening.load(str(tmp_path / "missing.npz"))
    bad = tmp_path / "bad.npz"
    np.savez(bad, epsilon=0.1)
    with pytest.raises(ValueError, match="not a ZCA whitening file"):
        ZCAWhitening.load(str(bad))
    truncated = tmp_path / "truncated.npz"
    ZCAWhitening(0.1).fit(_correlated_images()).save(str(truncated))
    truncated.write_bytes(truncated.read_bytes()[:200])
    with pytest.raises(ValueError, match="not a ZCA whitening file"):
        ZCAWhitening.load(str(truncated))
    corrupt = tmp_path / "corrupt.npz"
    np.savez(corrupt, epsilon=0.1, mean=np.zeros(5), matrix=np.eye(5), image_shape=[2, 2])
    with pytest.raises(ValueError, match="corrupt"):
        ZCAWhitening.load(str(corrupt))


@pytest.mark.parametrize("epsilon, error", [(0, ValueError), (-1.0, ValueError),
                                            (float("nan"), ValueError), ("0.1", TypeError),
                                            (True, TypeError)])
def test_bad_epsilon(epsilon, error):
    with pytest.raises(error, match="epsilon"):
        ZCAWhitening(epsilon)


def test_bad_inputs():
    zca = ZCAWhitening()
    with pytest.raises(ValueError, match="not fitted"):
        zca.transform(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="not fitted"):
        zca.save("unused.npz")
    with pytest.raises(ValueError, match="at least 2 images"):
        zca.fit(np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"batch of images \(N, ...\)"):
        zca.fit(np.zeros(3))
    zca.fit(_correlated_images())
    with pytest.raises(ValueError, match=r"fitted on images of shape \(3, 4, 1\)"):
        zca.transform(np.zeros((2, 4, 3, 1)))
