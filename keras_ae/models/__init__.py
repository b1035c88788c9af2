"""The zoo's models, one sub-package per family, and the registry that names them.

    >>> import keras_ae
    >>> keras_ae.models.names()
    >>> model = keras_ae.models.build("conv_autoencoder", filters=[16, 32])

Each family (``classic``, ``swwae``, ``wta``, ``drsae``, ``mae``, ``text``) holds its model
graphs and configs (``model.py``), its training procedure (``ZooModel.fit_procedure``: one fit,
two phases, or greedy stage by stage), its analysis where it has one, and its papers' published
figures as data (``reference.PAPERS``; the text family has no reproduced paper figures yet).
"""

from keras_ae.models import classic, drsae, mae, swwae, text, wta  # noqa: F401
from keras_ae.models.base import ZooModel, check_config_fields, config_fields, encoder_of  # noqa: F401
from keras_ae.models.classic import (  # noqa: F401
    ConvAutoencoder,
    DenoisingAutoencoder,
    DenseAutoencoder,
    LinearAutoencoder,
    StackedAutoencoder,
)
from keras_ae.models.drsae import DrSAE, DrSAEPhaseSwitch, LossWeight  # noqa: F401
from keras_ae.models.mae import MAE  # noqa: F401
from keras_ae.models.presets import from_preset, list_presets, preset_names, save_preset  # noqa: F401
from keras_ae.models.registry import build, describe, get, names, register  # noqa: F401
from keras_ae.models.swwae import SWWAE, GraphAnchor, SWWAESoft, SWWAEWhatOnly  # noqa: F401
from keras_ae.models.text import BagOfWordsCrossEntropy, TextAutoencoder  # noqa: F401
from keras_ae.models.wta import ConvWTA, FCWTA, StackedConvWTA  # noqa: F401


def papers():
    """Every family's papers and their published figures: ``{family: PAPERS}``."""
    return {"classic": classic.PAPERS, "swwae": swwae.PAPERS, "wta": wta.PAPERS,
            "drsae": drsae.PAPERS, "mae": mae.PAPERS}
