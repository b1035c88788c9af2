import os

import keras
import pytest


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend: {keras.backend.backend()}"


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


@pytest.fixture
def images():
    """A small batch of real MNIST digits from the shipped sample, float32 in [0, 1], NHWC."""
    from keras_ae.data import SAMPLE_DIR, read_idx_folder, to_float_images

    x, _ = read_idx_folder(SAMPLE_DIR, "test")
    return to_float_images(x[:8])


@pytest.fixture(scope="session")
def mnist_dir():
    """The full MNIST IDX folder (../shared/datasets/mnist or $KERAS_AE_DATA_DIR/mnist), or skip."""
    candidates = [os.path.join(os.environ.get("KERAS_AE_DATA_DIR", ""), "mnist"),
                  os.path.join(os.path.dirname(__file__), "..", "..", "shared", "datasets", "mnist")]
    for c in candidates:
        if os.path.isdir(c):
            return os.path.abspath(c)
    pytest.skip("full MNIST IDX folder not found")


def backend():
    return keras.backend.backend()
