"""The WTA paper's published figures (MNIST test error % of a linear classifier on the
features). ``second_hand``: recalled from secondary sources, not checked against the paper."""

PAPERS = {
    "fc_wta": {
        "citation": "Makhzani & Frey 2015, Winner-Take-All Autoencoders",
        "figures": {"mnist_error_percent": 1.20, "units": 2000, "k": 0.05},
    },
    "conv_wta": {
        "citation": "Makhzani & Frey 2015, Winner-Take-All Autoencoders",
        "figures": {"mnist_error_percent": 1.0, "maps": 128, "second_hand": True},
    },
    "stacked_conv_wta": {
        "citation": "Makhzani & Frey 2015, Winner-Take-All Autoencoders",
        "figures": {"mnist_error_percent": 0.64, "second_hand": True},
    },
}
