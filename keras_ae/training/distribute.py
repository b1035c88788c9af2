"""Data-parallel training over every local device (``keras-ae train --distribute``).

:func:`data_parallel` is a context: a model built, compiled and fit inside it trains with each
batch split evenly across the devices, the gradients averaged, the weights kept identical on
every device. What Keras 3 offers per backend, and what is used here:

* TensorFlow: ``tf.distribute.MirroredStrategy`` over the GPUs, else over the logical CPUs. Each
  replica runs the model on its slice of the batch; Keras scales the compiled loss and the
  ``add_loss`` terms by ``1 / replicas`` so that the summed gradients are those of the mean.
* JAX: ``keras.distribution.DataParallel`` over ``keras.distribution.list_devices()``. The
  variables are replicated and each batch is sharded along its first axis; the jitted step is
  one program over the whole batch that XLA partitions.
* torch: none. Keras's ``keras.distribution`` API has a JAX implementation (and a TensorFlow
  prototype marked not for use); ``fit`` on torch runs on one device. :func:`data_parallel`
  refuses with a ``ValueError`` saying so.

Batch sizes stay global: a pipeline of batches of ``B`` trains with ``B / replicas`` examples
per device, and ``B`` must be a multiple of the replica count.

Batch-level computations (WTA's lifetime sparsity, :class:`keras_ae.layers.LifetimeTopK`) see
on TensorFlow the replica's slice: each unit keeps ``max(1, ceil(k · B / replicas))`` of the
slice's examples; ``k`` stays the fraction of the examples the layer sees, it is not rescaled.
On JAX the layer sees the whole batch, as on one device. docs/distributed.md says more.
"""

import contextlib
import functools

import keras

#: The backends :func:`data_parallel` supports, and what it uses on each.
SUPPORTED = {"tensorflow": "tf.distribute.MirroredStrategy",
             "jax": "keras.distribution.DataParallel"}


def _unsupported(backend):
    return ValueError(
        f"data-parallel training (--distribute) needs the tensorflow backend "
        f"({SUPPORTED['tensorflow']}) or the jax backend ({SUPPORTED['jax']}); Keras "
        f"{keras.__version__} has no data-parallel fit on the {backend} backend (its "
        f"keras.distribution API is implemented for JAX only). Set KERAS_BACKEND=tensorflow or "
        f"jax, or train without --distribute.")


def _tensorflow_devices():
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [d.name for d in devices]


@functools.lru_cache(maxsize=None)
def _mirrored_strategy(devices):
    # One per process and device list: two MirroredStrategy instances in one process can give
    # their all-reduces the same collective keys, and the second's fit then fails.
    import tensorflow as tf

    return tf.distribute.MirroredStrategy(devices=list(devices))


def replica_count(backend=None):
    """How many devices :func:`data_parallel` splits a batch across on ``backend`` (default:
    Keras's); a ``ValueError`` on a backend it does not support."""
    backend = backend or keras.backend.backend()
    if backend == "tensorflow":
        return len(_tensorflow_devices())
    if backend == "jax":
        return len(keras.distribution.list_devices())
    raise _unsupported(backend)


def check_global_batch(batch_size, replicas, name="batch_size"):
    """``batch_size`` if it is a positive int that ``replicas`` devices split evenly, else a
    ``ValueError`` naming ``name``."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"{name} must be a positive int, got {batch_size!r}.")
    if batch_size % replicas:
        raise ValueError(f"{name} is the global batch, split evenly across the {replicas} "
                         f"devices: it must be a multiple of {replicas}, got {batch_size}.")
    return batch_size


@contextlib.contextmanager
def data_parallel(batch_size=None):
    """A context in which models built, compiled and fit train data-parallel over every local
    device; it yields the replica count.

    Build the model inside it (TensorFlow creates mirrored variables there, JAX replicated
    ones) and compile and fit it inside it too. ``batch_size``, if given, is the global batch
    the pipelines use: checked to be a multiple of the replica count.

    Raises:
        ValueError: on the torch backend (or any other but tensorflow and jax), naming the
            supported ones; a ``batch_size`` the replicas do not split evenly.
    """
    backend = keras.backend.backend()
    replicas = replica_count(backend)
    if batch_size is not None:
        check_global_batch(batch_size, replicas)
    if backend == "tensorflow":
        strategy = _mirrored_strategy(tuple(_tensorflow_devices()))
        with strategy.scope():
            yield strategy.num_replicas_in_sync
    else:
        distribution = keras.distribution.DataParallel(devices=keras.distribution.list_devices())
        with distribution.scope():
            yield replicas
