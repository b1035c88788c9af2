"""The SWWAE paper's published figures (semi-supervised test error %, lower is better).

``second_hand``: figures recalled from secondary sources, not checked against the paper."""

PAPERS = {
    "swwae": {
        "citation": "Zhao, Mathieu, Goroshin & LeCun 2016, Stacked What-Where Auto-encoders",
        "figures": {
            "mnist_semi_supervised_error_percent": {"100": 8.71, "600": 3.31, "1000": 2.83,
                                                    "3000": 2.10, "second_hand": True},
            "svhn_1000_labels_error_percent": {"no_dropout": 27.83, "dropout": 23.56},
        },
    },
}
