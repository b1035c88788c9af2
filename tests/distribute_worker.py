"""Run by tests/test_distribute.py in a fresh process (the backend and the device count are
fixed when the process starts): ``python distribute_worker.py MODE`` prints one JSON line.

Two logical CPU devices: on TensorFlow configured here before any op; on JAX the caller sets
``XLA_FLAGS=--xla_force_host_platform_device_count=2``.

MODE ``curves``: trains small FC-WTA and SWWAE models on the shipped sample from the same
initial weights, on one device and under ``data_parallel`` (the pipelines do not shuffle), and
reports the per-epoch losses and final weights' largest difference. For FC-WTA it also trains
the one-device reference of "lifetime sparsity over each replica's slice": batches of B / 2 with
Adam averaging the gradients of 2 consecutive batches before each update
(``gradient_accumulation_steps=2``), which is what two replicas computing on the two halves of
each batch of B and averaging their gradients do.

MODE ``refusal``: the ``ValueError`` of ``data_parallel()`` (torch), as JSON.

MODE ``cli ARGS...``: ``keras_ae.cli.main(ARGS)`` with the two devices.
"""

import json
import os
import sys

import keras

if keras.backend.backend() == "tensorflow":
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

import numpy as np  # noqa: E402

from keras_ae import models  # noqa: E402
from keras_ae.data import SAMPLE_DIR, make_dataset, read_idx_folder, to_float_images  # noqa: E402
from keras_ae.training import data_parallel, replica_count  # noqa: E402

EPOCHS = 3
BATCH = 64
EXAMPLES = 256
SMALL = {"fc_wta": dict(hidden_units=64, k=0.05),
         # dropout draws differ per replica: off, so that the two runs compute the same thing
         "swwae": dict(filters=[4, 8], head_units=[16], dropout=0.0)}


def data(batch):
    x, y = read_idx_folder(SAMPLE_DIR, "train")
    return make_dataset(to_float_images(x[:EXAMPLES]), y[:EXAMPLES], batch_size=batch,
                        shuffle=False, drop_remainder=True)


def build(name, initial):
    model = models.build(name, input_shape=[28, 28, 1], **SMALL[name])
    model.set_weights(initial)
    return model


def devices_holding(variable):
    """How many devices hold a copy of ``variable``."""
    value = variable.value
    if keras.backend.backend() == "jax":
        return len(value.sharding.device_set)
    return len(getattr(value, "values", [value]))  # a MirroredVariable has one per replica


def train(name, initial, distributed):
    if distributed:
        with data_parallel(batch_size=BATCH):
            model = build(name, initial)
            history = model.fit_procedure(data(BATCH), EPOCHS, verbose=0)
    else:
        model = build(name, initial)
        history = model.fit_procedure(data(BATCH), EPOCHS, verbose=0)
    return model.get_weights(), history["loss"], devices_holding(model.trainable_variables[0])


def train_accumulated(name, initial, steps):
    model = build(name, initial)
    model.compile(optimizer=keras.optimizers.Adam(model.default_learning_rate,
                                                  gradient_accumulation_steps=steps))
    history = model.fit(model.fit_pairs(data(BATCH // steps)), epochs=EPOCHS, shuffle=False,
                        verbose=0)
    return model.get_weights(), history.history["loss"]


def largest_difference(a, b):
    return max(float(np.max(np.abs(u - v))) for u, v in zip(a, b))


def curves():
    report = {"replicas": replica_count()}
    for name in SMALL:
        keras.utils.set_random_seed(0)
        initial = models.build(name, input_shape=[28, 28, 1], **SMALL[name]).get_weights()
        one_weights, one_loss, one_copies = train(name, initial, distributed=False)
        many_weights, many_loss, copies = train(name, initial, distributed=True)
        entry = {"weight_copies": [one_copies, copies], "one_device": one_loss,
                 "distributed": many_loss,
                 "weights_difference": largest_difference(one_weights, many_weights),
                 "weights_scale": max(float(np.max(np.abs(w))) for w in one_weights)}
        if name == "fc_wta":
            acc_weights, acc_loss = train_accumulated(name, initial, report["replicas"])
            entry["per_slice_reference"] = acc_loss
            entry["weights_difference_to_reference"] = largest_difference(acc_weights,
                                                                          many_weights)
        report[name] = entry
    return report


if __name__ == "__main__":
    if sys.argv[1] == "curves":
        print(json.dumps(curves()))
    elif sys.argv[1] == "refusal":  # data_parallel on a backend it does not support
        try:
            with data_parallel():
                print("entered")
        except ValueError as error:
            print(json.dumps({"ValueError": str(error)}))
    elif sys.argv[1] == "cli":
        from keras_ae import cli

        code = cli.main(sys.argv[2:])
        sys.stdout.flush()
        os._exit(code)
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
