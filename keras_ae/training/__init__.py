"""Training utilities below the models: resumable fits with whole checkpoints, learning-rate
schedules, optimizers, the one greedy stage-by-stage trainer of the stacked models,
TensorBoard monitoring, and data-parallel training over every local device."""

from keras_ae.training.checkpoint import EpochCheckpoint, resumable_fit  # noqa: F401
from keras_ae.training.distribute import (  # noqa: F401
    SUPPORTED as DISTRIBUTED_BACKENDS, check_global_batch, data_parallel, replica_count)
from keras_ae.training.greedy import train_greedily  # noqa: F401
from keras_ae.training.optimizers import (  # noqa: F401
    OPTIMIZERS, check_optimizer_arguments, describe_optimizer, make_optimizer)
from keras_ae.training.schedules import SCHEDULES, learning_rate  # noqa: F401
from keras_ae.training.tensorboard import MonitorCallback  # noqa: F401
