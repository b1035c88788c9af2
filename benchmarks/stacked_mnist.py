"""Stacked autoencoder on MNIST: greedy layer-wise pre-training, then a classifier fine-tuned on
the pre-trained encoder, against the same classifier trained from random initialisation.

    python -m benchmarks.stacked_mnist --data-dir ../shared/datasets --pretrain-epochs 2 --finetune-epochs 5

Both classifiers have the same architecture, optimiser, epochs and data, so the difference is
what pre-training gives. Writes benchmarks/results/stacked_mnist.{json,md}.
"""

import argparse
import time

from benchmarks._common import command_line, machine, timestamp, write_results  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--units", type=int, nargs="+", default=[500, 250, 30])
    parser.add_argument("--noise-level", type=float, default=0.2, help="masking noise in pre-training (0: none)")
    parser.add_argument("--pretrain-epochs", type=int, default=2)
    parser.add_argument("--finetune-epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--num-labels", type=int, default=None,
                        help="fine-tune on this many labels (balanced), pre-train on all images")
    args = parser.parse_args()

    import keras
    import numpy as np

    import keras_ae
    from keras_ae.models import StackedAutoencoder
    from keras_ae.training import greedy_pretrain

    start, where = time.time(), machine()
    x_train, y_train = keras_ae.data.load_arrays("mnist", "train", data_dir=args.data_dir)
    x_test, y_test = keras_ae.data.load_arrays("mnist", "test", data_dir=args.data_dir)
    x_train, x_test = keras_ae.data.to_float_images(x_train), keras_ae.data.to_float_images(x_test)
    if args.num_labels:
        keep = keras_ae.data.labelled_mask(keras_ae.data.keep_labels(y_train, args.num_labels, seed=0))
        x_labelled, y_labelled = x_train[keep], y_train[keep]
    else:
        x_labelled, y_labelled = x_train, y_train
    noise = "masking" if args.noise_level > 0 else None

    def classifier_error(pretrain):
        keras.utils.set_random_seed(0)
        model = StackedAutoencoder(units=args.units, noise=noise, noise_level=args.noise_level)
        t = time.time()
        recon_mse = None
        if pretrain:
            greedy_pretrain(model, x_train, epochs=args.pretrain_epochs, batch_size=args.batch_size,
                            verbose=2)
            recon_mse = float(np.mean((model.reconstruct(x_test) - x_test) ** 2))
        pretrain_seconds = time.time() - t
        clf = model.classifier(10)
        clf.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                    metrics=["accuracy"])
        t = time.time()
        clf.fit(x_labelled, y_labelled, epochs=args.finetune_epochs, batch_size=args.batch_size,
                verbose=2)
        _, accuracy = clf.evaluate(x_test, y_test, verbose=0)
        return {"pretrained": pretrain, "test_error_percent": 100 * (1 - float(accuracy)),
                "pretrain_seconds": round(pretrain_seconds, 1),
                "finetune_seconds": round(time.time() - t, 1),
                "pretrained_stack_test_mse_per_pixel": recon_mse}

    rows = [classifier_error(True), classifier_error(False)]
    took = time.time() - start
    payload = {"benchmark": "stacked autoencoder, greedy pre-training + fine-tuning, MNIST",
               "command": command_line(), "machine": where, "date": timestamp(),
               "backend": keras.backend.backend(), "units": args.units,
               "noise_level": args.noise_level, "pretrain_epochs_per_layer": args.pretrain_epochs,
               "finetune_epochs": args.finetune_epochs, "labelled_examples": int(len(x_labelled)),
               "seconds": round(took, 1), "results": rows}
    md = [f"Stacked autoencoder 784-{'-'.join(map(str, args.units))} on MNIST, "
          f"{keras.backend.backend()} backend: greedy pre-training ({args.pretrain_epochs} epoch(s) per "
          f"layer on 60,000 images, masking noise {args.noise_level}), then a softmax classifier on the "
          f"encoder fine-tuned end to end for {args.finetune_epochs} epochs on {len(x_labelled):,} "
          "labelled images; the baseline is the same classifier from random initialisation.", "",
          "| initialisation | test error % | pre-training time | fine-tuning time |",
          "| --- | ---: | ---: | ---: |"]
    for r in rows:
        md.append(f"| {'greedy pre-training' if r['pretrained'] else 'random'} | "
                  f"{r['test_error_percent']:.2f} | {r['pretrain_seconds']:.0f} s | {r['finetune_seconds']:.0f} s |")
    md += ["", f"Command: `{payload['command']}` · machine: {where} · {payload['date']} · took {took:.0f} s."]
    write_results("stacked_mnist", payload, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
