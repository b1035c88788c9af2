"""``keras_ae.visualize``: the arrays behind the pictures, against NumPy oracles computed
another way (covariance eigenvectors for the principal components, explicit placement for tiles)."""

import numpy as np
import pytest

from keras_ae import visualize

PNG = b"\x89PNG\r\n\x1a\n"


def _signed(vectors):
    """Rows with the documented sign convention: each row's largest loading positive."""
    vectors = np.asarray(vectors)
    idx = np.abs(vectors).argmax(axis=1)
    return vectors * np.sign(vectors[np.arange(len(vectors)), idx])[:, None]


def test_pca_2d_matches_the_covariance_eigenvectors():
    rng = np.random.default_rng(0)
    rotation, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    codes = (rng.standard_normal((400, 5)) * [5.0, 3.0, 1.0, 0.5, 0.1]) @ rotation.T + 7.0
    projection, share = visualize.pca_2d(codes)

    centred = codes - codes.mean(axis=0)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(centred, rowvar=False))
    top = _signed(eigenvectors[:, ::-1][:, :2].T)
    np.testing.assert_allclose(projection, centred @ top.T, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(share, eigenvalues[::-1][:2].sum() / eigenvalues.sum(), rtol=1e-6)


def test_pca_2d_closed_form_cases():
    t = np.linspace(-1.0, 1.0, 11)
    line = np.stack([t, 2 * t, -2 * t], axis=1)           # one direction of variance
    projection, share = visualize.pca_2d(line)
    assert share == pytest.approx(1.0)
    np.testing.assert_allclose(np.abs(projection[:, 0]), 3 * np.abs(t), atol=1e-5)  # |(1,2,-2)| = 3
    np.testing.assert_allclose(projection[:, 1], 0.0, atol=1e-5)

    one_d, share = visualize.pca_2d(t[:, None])            # a single feature: second axis flat
    np.testing.assert_allclose(one_d, np.stack([t, np.zeros_like(t)], axis=1), atol=1e-6)
    assert share == pytest.approx(1.0)

    maps = np.zeros((4, 2, 2, 1))                          # feature maps are flattened first
    maps[:, 0, 0, 0] = [0.0, 1.0, 2.0, 3.0]
    assert visualize.pca_2d(maps)[0].shape == (4, 2)
    assert np.isnan(visualize.pca_2d(np.ones((3, 4)))[1])  # no variance at all


def test_pca_2d_needs_two_codes():
    with pytest.raises(ValueError, match="at least two codes"):
        visualize.pca_2d(np.zeros((1, 5)))


def test_tile_places_each_image():
    images = np.arange(8, dtype=np.float32).reshape(2, 2, 2)
    canvas = visualize.tile(images, pad=1, normalize=None)
    assert canvas.shape == (4, 7)
    np.testing.assert_array_equal(canvas[1:3, 1:3], images[0])
    np.testing.assert_array_equal(canvas[1:3, 4:6], images[1])
    assert (canvas[0] == 1).all() and (canvas[:, 3] == 1).all()   # the padding border


def test_save_codes_writes_pictures(tmp_path):
    rng = np.random.default_rng(1)
    labels = np.arange(50) % 3
    for dims in (2, 7):
        path = visualize.save_codes(rng.standard_normal((50, dims)), labels,
                                    str(tmp_path / f"codes{dims}.png"), title="t")
        assert open(path, "rb").read(8) == PNG
    assert sorted(p.name for p in tmp_path.iterdir()) == ["codes2.png", "codes7.png"]  # no temp left


def test_save_code_maps_and_projections(tmp_path):
    rng = np.random.default_rng(4)
    labels = np.arange(40) % 4
    path = visualize.save_code_maps([("a", rng.standard_normal((40, 2))),
                                     (None, rng.standard_normal((40, 2)))], labels,
                                    str(tmp_path / "maps.png"), title="two maps")
    assert open(path, "rb").read(8) == PNG
    with pytest.raises(ValueError, match=r"codes of shape \(N, 2\) with N = 40 labels, got \(39, 2\)"):
        visualize.save_code_maps([("a", np.zeros((39, 2)))], labels, str(tmp_path / "bad.png"))
    with pytest.raises(ValueError, match="maps must be a non-empty list"):
        visualize.save_code_maps([], labels, str(tmp_path / "bad.png"))
    images = rng.random((9, 6, 6, 1))
    path = visualize.save_projections(images, rng.standard_normal((9, 6, 6, 1)),
                                      str(tmp_path / "proj.png"), title="unit 0")
    assert open(path, "rb").read(8) == PNG
    with pytest.raises(ValueError, match="images and projections must have one non-empty shape"):
        visualize.save_projections(images, images[:8], str(tmp_path / "bad.png"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps.png", "proj.png"]


def test_save_filters_kernels_and_errors(tmp_path):
    rng = np.random.default_rng(2)
    conv = visualize.save_filters(rng.standard_normal((5, 5, 3, 8)), str(tmp_path / "conv.png"))
    dense = visualize.save_filters(rng.standard_normal((49, 6)), str(tmp_path / "dense.png"))
    for path in (conv, dense):
        assert open(path, "rb").read(8) == PNG
    with pytest.raises(ValueError, match="input size is not square"):
        visualize.save_filters(np.zeros((50, 4)), str(tmp_path / "bad.png"))
    with pytest.raises(ValueError, match="2-D or 4-D kernel"):
        visualize.save_filters(np.zeros((5, 5, 4)), str(tmp_path / "bad.png"))
    assert not (tmp_path / "bad.png").exists()


def test_save_reconstructions_and_codes_2d_errors(tmp_path):
    x = np.random.default_rng(3).random((4, 8, 8, 1))
    path = visualize.save_reconstructions(x, [x, 1 - x], str(tmp_path / "r.png"), n=4)
    assert open(path, "rb").read(8) == PNG
    with pytest.raises(ValueError, match=r"codes of shape \(N, 2\)"):
        visualize.save_codes_2d(np.zeros((4, 3)), np.zeros(4), str(tmp_path / "c.png"))
    with pytest.raises(ValueError, match="tile expects"):
        visualize.tile(np.zeros((2, 3)))
