"""Winner-take-all autoencoders (Makhzani & Frey 2015): FC-WTA, Conv-WTA, stacked Conv-WTA."""

from keras_ae.models.wta.model import (  # noqa: F401
    ConvWTA,
    FCWTA,
    SparseReconstruction,
    StackedConvWTA,
)
from keras_ae.models.wta.reference import PAPERS  # noqa: F401
