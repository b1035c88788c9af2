"""The DrSAE paper's published figures (MNIST test error %)."""

PAPERS = {
    "drsae": {
        "citation": "Rolfe & LeCun 2013, Discriminative Recurrent Sparse Auto-Encoders",
        "figures": {"mnist_error_percent": {"400_units_T11": 1.08, "200_units_T11": 1.21,
                                            "200_units_T2": 1.49}},
    },
}
