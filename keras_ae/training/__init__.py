"""Training procedures beyond a single ``fit``."""

from keras_ae.training.greedy import greedy_pretrain  # noqa: F401
from keras_ae.training.schedules import SCHEDULES, learning_rate  # noqa: F401
