import math

import keras
import pytest

from keras_ae.training import SCHEDULES, describe_optimizer, learning_rate, make_optimizer


def test_cosine_follows_the_closed_form_and_ends_at_zero():
    schedule = learning_rate(0.2, "cosine", 40)
    for step in (0, 10, 20, 33, 40, 55):
        expected = 0.2 * 0.5 * (1 + math.cos(math.pi * min(step, 40) / 40))
        got = float(keras.ops.convert_to_numpy(schedule(step)))
        assert got == pytest.approx(expected, abs=1e-7)


def test_constant_is_the_rate_itself():
    assert learning_rate(3e-4, "constant", 0) == 3e-4
    assert set(SCHEDULES) == {"cosine", "constant"}


def test_bad_schedule_arguments():
    with pytest.raises(ValueError, match="schedule must be one of"):
        learning_rate(0.1, "step", 10)
    with pytest.raises(ValueError, match="total_steps"):
        learning_rate(0.1, "cosine", 0)


def test_make_optimizer_by_name():
    sgd = make_optimizer("sgd", 0.1, momentum=0.9)
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.momentum == 0.9
    assert isinstance(make_optimizer("adam", 1e-3), keras.optimizers.Adam)
    assert describe_optimizer("sgd", 0.9) == "SGD, momentum 0.9"
    assert describe_optimizer("adam") == "Adam"
    for call in (lambda: make_optimizer("rmsprop", 1e-3), lambda: describe_optimizer("Adam")):
        with pytest.raises(ValueError, match="optimizer must be one of"):
            call()


@pytest.mark.parametrize("name, momentum, match", [
    ("adam", 0.9, "momentum is SGD's: optimizer 'adam' takes none"),
    ("sgd", 1.0, r"momentum must be a number in \[0, 1\), got 1.0"),
    ("sgd", -0.1, r"in \[0, 1\)"),
    ("sgd", True, r"in \[0, 1\)"),
    ("sgd", "0.9", r"in \[0, 1\)"),
])
def test_make_optimizer_rejects_momentum_it_would_ignore_or_misuse(name, momentum, match):
    with pytest.raises(ValueError, match=match):
        make_optimizer(name, 1e-3, momentum=momentum)
