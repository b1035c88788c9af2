"""The base class every model of the zoo derives from.

A zoo model is a *functional* ``keras.Model`` built in ``__init__`` from plain config fields
(the keras-hub pattern): ``get_config`` returns exactly those fields and ``from_config`` calls
the constructor again, so a ``.keras`` file reloads into the same class. The encoder is a nested
functional model named ``"encoder"`` (``model.get_layer("encoder")``, also ``model.encoder``), so
it survives saving and can be exported on its own.
"""

import keras


def as_list(value):
    """Tuples -> lists, so configs survive a JSON round trip unchanged."""
    if isinstance(value, (list, tuple)):
        return [as_list(v) for v in value]
    return value


class ZooModel(keras.Model):
    """Common behaviour of the zoo's models.

    Subclasses build their graph, call ``super().__init__(inputs=..., outputs=..., **kwargs)``,
    then ``self._store_config(...)`` with their constructor arguments.
    """

    #: ``compile()`` defaults, overridable per subclass.
    default_learning_rate = 1e-3
    default_loss = "mse"
    default_metrics = None
    #: what ``model.fit`` expects as target, given a ``(images, labels)`` pipeline:
    #: ``"image"`` (reconstruct the input) or ``"label"``.
    fit_target = "image"
    #: for models with dict outputs: the key holding the input reconstruction.
    reconstruction_key = None

    def _store_config(self, **config):
        self._zoo_config = {k: as_list(v) for k, v in config.items()}

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._zoo_config}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        return cls(**config)

    @property
    def encoder(self):
        return self.get_layer("encoder")

    @property
    def decoder(self):
        return self.get_layer("decoder")

    def compile(self, optimizer=None, loss="auto", metrics="auto", **kwargs):
        """``keras.Model.compile`` with this model's defaults (Adam and its loss)."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(self.default_learning_rate)
        if isinstance(loss, str) and loss == "auto":
            loss = self.default_loss
        if isinstance(metrics, str) and metrics == "auto":
            metrics = self.default_metrics
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras skips this for models overriding compile(); ours only adds defaults, so the
        # saved compile arguments (optimizer state included) can be restored as usual.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def fit_pairs(self, dataset):
        """Maps a ``(images, labels)`` pipeline to what ``fit`` on this model expects."""
        if self.fit_target == "image":
            return dataset.map(lambda x, y: (x, x))
        return dataset

    def reconstruct(self, images, batch_size=256):
        """Reconstructions of ``images`` at inference (corruption and sparsity off)."""
        out = self.predict(images, batch_size=batch_size, verbose=0)
        if self.reconstruction_key is not None:
            out = out[self.reconstruction_key]
        return out

    def encode(self, images, batch_size=256):
        """Codes of ``images`` from the encoder at inference."""
        return self.encoder.predict(images, batch_size=batch_size, verbose=0)
