"""Learning-rate schedules by name, for the probe and the example scripts."""

import keras

#: ``"cosine"`` anneals from the initial rate to zero over the run; ``"constant"`` keeps it.
SCHEDULES = ("cosine", "constant")


def check_schedule(schedule):
    """Raises ``ValueError`` unless ``schedule`` is one of :data:`SCHEDULES`."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}.")


def learning_rate(rate, schedule, total_steps):
    """``rate`` as ``schedule`` over ``total_steps`` optimizer steps: a float or a Keras schedule.

    Raises:
        ValueError: ``schedule`` is not one of :data:`SCHEDULES`, or ``total_steps`` < 1 for
            ``"cosine"``.
    """
    check_schedule(schedule)
    if schedule == "constant":
        return rate
    if int(total_steps) < 1:
        raise ValueError(f"total_steps must be >= 1 for a cosine schedule, got {total_steps!r}.")
    return keras.optimizers.schedules.CosineDecay(rate, decay_steps=int(total_steps))
