"""Sparse winner-take-all features, then a linear probe on them with few and many labels.

    python examples/wta_features.py runs/wta --model fc_wta --epochs 2
    python examples/wta_features.py runs/cwta --model conv_wta --epochs 1

The decoder learns from sparse codes only (lifetime, and for conv_wta spatial, winner-take-all);
the encoder's dense ReLU features feed the probe. Writes OUT/model.keras, OUT/filters.png (what
each unit draws) and OUT/probe.json.
"""

import argparse
import json
import os

import keras_ae


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output folder")
    parser.add_argument("--model", default="fc_wta", choices=["fc_wta", "conv_wta"])
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args(argv)

    x_train, y_train = keras_ae.data.load_arrays(None, "train")
    x_test, y_test = keras_ae.data.load_arrays(None, "test")
    x_train, x_test = map(keras_ae.data.to_float_images, (x_train, x_test))
    model = keras_ae.models.build(args.model, input_shape=list(x_train.shape[1:]))
    # lifetime sparsity keeps k % of each batch: every batch must be whole
    data = keras_ae.data.make_dataset(x_train, y_train, batch_size=100, drop_remainder=True)
    model.fit_procedure(data, args.epochs)

    report = keras_ae.evaluation.probe_report(model, x_train, y_train, x_test, y_test,
                                              budgets=["all", "1000", "100"], epochs=10)
    for budget, probe in report["probes"].items():
        print(f"{budget:>5} labels: test error {probe['test_error_percent']:.2f} %")
    os.makedirs(args.out, exist_ok=True)
    model.save(os.path.join(args.out, "model.keras"))
    keras_ae.visualize.save_filters(model.learned_filters(), os.path.join(args.out, "filters.png"))
    with open(os.path.join(args.out, "probe.json"), "w") as f:
        json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
