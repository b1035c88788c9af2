import os

import keras
import pytest


#: Modules that test the library's procedures, command line, reports and documents rather than a
#: layer's or model's backend code run under one backend each (spread so that the backends, run
#: side by side, end at about the same time); every other module -- the layer and model
#: batteries, export, checkpoints, tuning -- runs under all three. KERAS_AE_ALL_BACKENDS=1 runs
#: everything everywhere.
ONE_BACKEND = {
    "test_cli.py": "torch",
    "test_data.py": "torch",
    "test_reporting.py": "torch",
    "test_search.py": "torch",
    "test_evaluation.py": "jax",
    "test_readme.py": "tensorflow",
    "test_reproduction.py": "jax",
    "test_visualize.py": "jax",
    "test_quality_floor.py": "tensorflow",
    "test_leaderboard.py": "jax",
    "test_monitoring.py": "tensorflow",
    # spawns its own processes, one per backend
    "test_distribute.py": "tensorflow",
}


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend: {keras.backend.backend()}"


def pytest_collection_modifyitems(config, items):
    if os.environ.get("KERAS_AE_ALL_BACKENDS") == "1":
        return
    here = keras.backend.backend()
    elsewhere = [item for item in items if ONE_BACKEND.get(item.path.name, here) != here]
    if elsewhere:
        config.hook.pytest_deselected(items=elsewhere)
        items[:] = [item for item in items if ONE_BACKEND.get(item.path.name, here) == here]


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
