"""Winner-take-all autoencoders (Makhzani & Frey 2015): FC-WTA, Conv-WTA, stacked Conv-WTA."""

from keras_ae.models.wta.model import ConvWTA, FCWTA, StackedConvWTA  # noqa: F401
from keras_ae.models.wta.reference import PAPERS  # noqa: F401
