"""``benchmarks/wta_lr_check.py``: the label-free learning-rate check behind the FC-WTA SGD run."""

import argparse
import math
import os

import pytest

from keras_ae.testing import load_script

_PATH = os.path.join(os.path.dirname(__file__), "..", "benchmarks", "wta_lr_check.py")


@pytest.fixture(scope="module")
def bench():
    return load_script(_PATH, "wta_lr_check_benchmark")


def test_divergent_rate_is_recorded_and_never_chosen(bench, mnist_dir):
    # SGD at 1e6 on a squared error overflows within a few steps: recorded as diverged, left out
    # of the choice; 0.1 trains.
    args = argparse.Namespace(data_dir=os.path.dirname(mnist_dir), train_limit=200,
                              learning_rates=[0.1, 1e6], seed=0, hidden_units=8, k=0.25,
                              untied=False, optimizer="sgd", momentum=0.0, batch_size=20,
                              epochs=1)
    payload = bench.check(args)
    small, huge = payload["rows"]
    assert not small["diverged"] and math.isfinite(small["loss_per_epoch"][0])
    assert huge["diverged"] and payload["lowest_final_loss_rate"] == 0.1
    assert 0 <= small["never_active_units"] <= 8 and payload["images"] == 200


@pytest.mark.parametrize("argv, message", [
    (["--optimizer", "adam", "--momentum", "0.9", "--learning-rates", "1", "--tag", "x"],
     "momentum is SGD's"),
    (["--learning-rates", "1", "0", "--tag", "x"], "must be positive"),
])
def test_bad_arguments_are_usage_errors(bench, capsys, argv, message):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(argv)
    assert exit_info.value.code == 2 and message in capsys.readouterr().err
