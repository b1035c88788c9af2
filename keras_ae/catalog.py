"""The registered model names, their families and one-line descriptions, as data.

``keras-ae list`` reads this without importing Keras; a test checks it against the registry
(:func:`keras_ae.models.names`), so the two cannot drift apart.
"""

MODELS = {
    "conv_autoencoder": ("classic", "convolutional autoencoder: conv + max-pool encoder, "
                                    "transposed-conv or upsampling decoder"),
    "conv_wta": ("wta", "convolutional winner-take-all autoencoder: spatial + lifetime sparsity"),
    "denoising_autoencoder": ("classic", "dense autoencoder reconstructing clean images from "
                                         "corrupted ones"),
    "dense_autoencoder": ("classic", "fully-connected autoencoder of any depth"),
    "drsae": ("drsae", "discriminative recurrent sparse autoencoder (unrolled ISTA encoder, "
                       "decoder and classifier)"),
    "mae": ("mae", "masked autoencoder: ViT encoder on the visible patches, light decoder, loss on "
                   "masked patches"),
    "fc_wta": ("wta", "fully-connected winner-take-all autoencoder: lifetime sparsity"),
    "linear_autoencoder": ("classic", "linear autoencoder (spans PCA's subspace)"),
    "stacked_autoencoder": ("classic", "stacked (denoising) autoencoder, trained greedily layer "
                                       "by layer"),
    "stacked_conv_wta": ("wta", "stacked Conv-WTA, trained greedily stage by stage"),
    "swwae": ("swwae", "stacked what-where autoencoder: unpooling decoder, classifier head"),
    "swwae_soft": ("swwae", "SWWAE with soft what-where pooling"),
    "swwae_what_only": ("swwae", "SWWAE without 'where': upsampling decoder (ablation)"),
    "text_autoencoder": ("text", "document autoencoder on bag-of-words / TF-IDF vectors: codes for "
                                 "retrieval"),
}


def names():
    """The registered model names, sorted."""
    return sorted(MODELS)
