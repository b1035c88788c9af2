"""Data-parallel training (keras_ae.training.data_parallel, ``keras-ae train --distribute``) on
two logical CPU devices.

The backend and the device count are fixed when a process starts, so every case runs in a
subprocess (tests/distribute_worker.py, or the command line) with its own backend: the module
itself runs under one backend only (conftest.ONE_BACKEND).

Tolerances. The runs compared start from the same weights and read the same batches in the same
order (no shuffling), so they differ only by the order of float32 additions: two half-batch sums
added after an all-reduce instead of one sum. That moves each loss by a few units of float32
rounding (measured: at most 2.4e-7 relative on TensorFlow, 0 on JAX, over 12 steps), so 1e-5
relative on the losses and 1e-5 on the weights leave room for other machines' reductions while
catching any real difference in what is computed: an ``add_loss`` term not averaged over the
replicas, or a sparsity over another set of examples, moves the weights by ~1e-2 (measured 0.012
between FC-WTA's two sparsity rules below).
"""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_ae.training import check_global_batch

HERE = os.path.dirname(os.path.abspath(__file__))
WORKER = os.path.join(HERE, "distribute_worker.py")
RTOL = 1e-5
WEIGHTS_ATOL = 1e-5
#: the weights of two runs that do compute different things differ by more than this
DIFFERENT = 1e-3


def _env(backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if backend == "jax":
        env["XLA_FLAGS"] = (env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=2"
                            ).strip()
    return env


def _run(backend, *argv):
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True,
                          env=_env(backend), timeout=600)


_REPORTS = {}


def _curves(backend):
    """The worker's ``curves`` report on ``backend`` (run once per backend)."""
    if backend not in _REPORTS:
        result = _run(backend, WORKER, "curves")
        assert result.returncode == 0, result.stderr[-3000:]
        _REPORTS[backend] = json.loads(result.stdout.strip().splitlines()[-1])
    report = _REPORTS[backend]
    assert report["replicas"] == 2
    return report


def _assert_same_run(entry, losses_key, weights_key):
    np.testing.assert_allclose(entry[losses_key], entry["distributed"], rtol=RTOL)
    assert entry[weights_key] <= WEIGHTS_ATOL, entry[weights_key]


@pytest.mark.parametrize("backend", ["tensorflow", "jax"])
def test_swwae_trains_as_on_one_device(backend):
    """SWWAE's loss has add_loss terms (reconstructions) beside the compiled cross-entropy:
    both are averaged over the replicas, so the run is the one-device run."""
    entry = _curves(backend)["swwae"]
    assert entry["weight_copies"] == [1, 2]  # the distributed run's variables are on both devices
    _assert_same_run(entry, "one_device", "weights_difference")
    assert entry["distributed"][-1] < entry["distributed"][0]


def test_fc_wta_sparsity_tensorflow_per_replica_slice():
    """On TensorFlow each replica keeps the top k of its own half of the batch: the run is the
    one-device run on half batches with the gradients of two averaged before each update, and
    not the one on whole batches (whose loss curve it follows within 0.5 %)."""
    entry = _curves("tensorflow")["fc_wta"]
    assert entry["weight_copies"] == [1, 2]
    _assert_same_run(entry, "per_slice_reference", "weights_difference_to_reference")
    assert entry["weights_difference"] > DIFFERENT
    np.testing.assert_allclose(entry["one_device"], entry["distributed"], rtol=5e-3)


def test_fc_wta_sparsity_jax_whole_batch():
    """On JAX the jitted step is one program over the whole batch: the top k is over the global
    batch, as on one device, and not over each device's half."""
    entry = _curves("jax")["fc_wta"]
    assert entry["weight_copies"] == [1, 2]
    _assert_same_run(entry, "one_device", "weights_difference")
    assert entry["weights_difference_to_reference"] > DIFFERENT


def test_data_parallel_refused_on_torch():
    result = _run("torch", WORKER, "refusal")
    assert result.returncode == 0, result.stderr[-3000:]
    message = json.loads(result.stdout.strip().splitlines()[-1])["ValueError"]
    assert message.startswith("data-parallel training (--distribute) needs the tensorflow "
                              "backend (tf.distribute.MirroredStrategy) or the jax backend "
                              "(keras.distribution.DataParallel)")
    assert "on the torch backend" in message


def _train_argv(out):
    return ["train", "fc_wta", "--epochs", "1", "--limit", "256", "--batch-size", "64",
            "--distribute", "--no-export", "--out", out, "--set", "hidden_units=64"]


def _check_run(result, out):
    assert result.returncode == 0, result.stderr[-3000:]
    assert "--distribute: 2 replica(s)" in result.stdout
    with open(os.path.join(out, "metrics.json")) as f:
        metrics = json.load(f)
    with open(os.path.join(out, "history.json")) as f:
        history = json.load(f)
    assert metrics["replicas"] == 2 and metrics["batch_size"] == 64
    assert np.isfinite(history["loss"][0]) and 0 < metrics["test"]["reconstruction_mse"] < 1
    assert os.path.isfile(os.path.join(out, "model.keras"))


def test_cli_distribute_tensorflow(tmp_path):
    out = str(tmp_path / "run")
    _check_run(_run("tensorflow", WORKER, "cli", *_train_argv(out)), out)


def test_cli_distribute_jax(tmp_path):
    out = str(tmp_path / "run")
    _check_run(_run("jax", "-m", "keras_ae.cli", *_train_argv(out)), out)


def test_cli_distribute_refused_on_torch(tmp_path):
    out = str(tmp_path / "run")
    result = _run("torch", "-m", "keras_ae.cli", *_train_argv(out))
    assert result.returncode != 0
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("keras-ae: error: data-parallel training (--distribute) needs")
    for supported in ("tensorflow", "tf.distribute.MirroredStrategy", "jax",
                      "keras.distribution.DataParallel", "torch backend"):
        assert supported in message
    assert not os.path.exists(os.path.join(out, "metrics.json"))


@pytest.mark.parametrize("batch_size, replicas, expected", [
    (3, 2, "multiple of 2, got 3"),
    (0, 1, "positive int, got 0"),
    (True, 1, "positive int, got True"),
    (2.0, 2, "positive int, got 2.0"),
])
def test_global_batch_must_split_evenly(batch_size, replicas, expected):
    with pytest.raises(ValueError, match=expected) as error:
        check_global_batch(batch_size, replicas, name="--batch-size")
    assert str(error.value).startswith("--batch-size")


def test_global_batch_accepted():
    assert check_global_batch(64, 2) == 64
