"""The classic family's papers. They publish no MNIST figure under our protocol; the reference
for reconstruction is PCA of the same code size (a linear autoencoder spans PCA's subspace)."""

PAPERS = {
    "linear_autoencoder": {"citation": "Baldi & Hornik 1989", "figures": {}},
    "dense_autoencoder": {"citation": "Hinton & Salakhutdinov 2006", "figures": {}},
    "denoising_autoencoder": {"citation": "Vincent et al. 2008", "figures": {}},
    "conv_autoencoder": {"citation": "Masci et al. 2011", "figures": {}},
    "stacked_autoencoder": {"citation": "Bengio et al. 2007; Vincent et al. 2010", "figures": {}},
}
