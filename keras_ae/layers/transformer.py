"""The pre-norm transformer block of ViT and MAE, built on Keras's ``MultiHeadAttention``."""

import keras

from keras_ae import checks

__all__ = ["TransformerBlock"]


@keras.saving.register_keras_serializable(package="keras_ae")
class TransformerBlock(keras.layers.Layer):
    """``x + MHA(LN(x))`` then ``+ MLP(LN(·))``: a pre-norm transformer encoder block.

    Input and output ``(batch, tokens, width)``; the number of tokens may vary from call to call
    (MAE's encoder sees only the visible patches in training, all of them at inference).

    Args:
        num_heads: attention heads; they must divide the width (each head has
            ``width / num_heads`` dimensions).
        mlp_ratio: the MLP's hidden size as a multiple of the width.
        dropout: dropout rate after attention and in the MLP (0: none).
        layer_norm_epsilon: LayerNormalization's epsilon (1e-6, as MAE).
    """

    def __init__(self, num_heads, mlp_ratio=4.0, dropout=0.0, layer_norm_epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.num_heads = checks.positive_int("num_heads", num_heads)
        if isinstance(mlp_ratio, bool) or not isinstance(mlp_ratio, (int, float)) or mlp_ratio <= 0:
            raise ValueError(f"mlp_ratio must be a positive number, got {mlp_ratio!r}.")
        self.mlp_ratio = float(mlp_ratio)
        self.dropout = checks.fraction("dropout", dropout, low_open=False, high_open=True)
        self.layer_norm_epsilon = checks.non_negative("layer_norm_epsilon", layer_norm_epsilon)

    def build(self, input_shape):
        if len(input_shape) != 3 or input_shape[-1] is None:
            raise ValueError(f"TransformerBlock expects (batch, tokens, width) with a known "
                             f"width, got shape {tuple(input_shape)}.")
        width = int(input_shape[-1])
        if width % self.num_heads:
            raise ValueError(f"the width {width} must be divisible by num_heads {self.num_heads}.")
        eps = self.layer_norm_epsilon
        init = keras.initializers.GlorotUniform()
        self.norm1 = keras.layers.LayerNormalization(epsilon=eps, name="norm1")
        self.attention = keras.layers.MultiHeadAttention(
            self.num_heads, width // self.num_heads, dropout=self.dropout,
            kernel_initializer=init, name="attention")
        self.norm2 = keras.layers.LayerNormalization(epsilon=eps, name="norm2")
        hidden = max(1, int(round(width * self.mlp_ratio)))
        self.mlp_in = keras.layers.Dense(hidden, activation="gelu", kernel_initializer=init,
                                         name="mlp_in")
        self.mlp_out = keras.layers.Dense(width, kernel_initializer=init, name="mlp_out")
        self.drop = keras.layers.Dropout(self.dropout)
        self.norm1.build(input_shape)
        self.attention.build(input_shape, input_shape)
        self.norm2.build(input_shape)
        self.mlp_in.build(input_shape)
        self.mlp_out.build(tuple(input_shape[:-1]) + (hidden,))

    def call(self, x, training=None):
        h = self.norm1(x)
        x = x + self.drop(self.attention(h, h, training=training), training=training)
        h = self.mlp_out(self.drop(self.mlp_in(self.norm2(x)), training=training))
        return x + self.drop(h, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "mlp_ratio": self.mlp_ratio,
                "dropout": self.dropout, "layer_norm_epsilon": self.layer_norm_epsilon}
