"""The classic family on MNIST: test reconstruction error of each model vs PCA with the same code size.

    python -m benchmarks.classic_mnist --data-dir ../shared/datasets --epochs 10

PCA (from NumPy's SVD of the training images) is the reference every autoencoder of code size k
is measured against: a linear autoencoder should match it (Baldi & Hornik 1989) and a deep one
should beat it (Hinton & Salakhutdinov 2006). The linear autoencoder's principal angles to the
PCA subspace are reported too. Writes benchmarks/results/classic_mnist.{json,md}.
"""

import argparse
import json
import os
import time

from benchmarks._common import RESULTS, command_line, machine, timestamp, write_results  # noqa: E402

MODELS = {
    "linear_autoencoder": dict(code_size=30),
    "dense_autoencoder": dict(hidden_units=[1000, 500, 250], code_size=30),
    "denoising_autoencoder": dict(hidden_units=[1000, 500, 250], code_size=30, noise="masking",
                                  noise_level=0.2),
    "conv_autoencoder": dict(filters=[32, 64], code_size=30),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    args = parser.parse_args()

    import keras
    import numpy as np

    import keras_ae
    where = machine()
    x_train, _ = keras_ae.data.load_arrays("mnist", "train", data_dir=args.data_dir)
    x_test, _ = keras_ae.data.load_arrays("mnist", "test", data_dir=args.data_dir)
    x_train, x_test = keras_ae.data.to_float_images(x_train), keras_ae.data.to_float_images(x_test)
    flat_train = x_train.reshape(len(x_train), -1).astype(np.float64)
    flat_test = x_test.reshape(len(x_test), -1).astype(np.float64)
    mean = flat_train.mean(0)
    _, _, vt = np.linalg.svd(flat_train - mean, full_matrices=False)

    def pca_mse(k):
        basis = vt[:k]
        recon = (flat_test - mean) @ basis.T @ basis + mean
        return float(np.mean((recon - flat_test) ** 2))

    train = keras_ae.data.make_dataset(x_train, np.zeros(len(x_train)), batch_size=args.batch_size,
                                       target="image", seed=0)
    # Rows of models not run now are kept from earlier runs (each row says its command and
    # epochs), so slow models can be run separately or on another backend.
    json_path = os.path.join(RESULTS, "classic_mnist.json")
    recon_path = os.path.join(RESULTS, "classic_mnist_reconstructions.npz")
    previous = []
    if os.path.exists(json_path):
        with open(json_path) as f:
            previous = json.load(f)["results"]
    rows = {r["model"]: r for r in previous}
    recons = dict(np.load(recon_path)) if os.path.exists(recon_path) else {}
    for name in args.models:
        keras.utils.set_random_seed(0)
        config = MODELS[name]
        model = keras_ae.models.build(name, **config)
        model.compile(loss="mse") if name == "linear_autoencoder" else model.compile()
        t = time.time()
        model.fit(train, epochs=args.epochs, verbose=2, shuffle=False)  # the pipeline shuffles
        seconds = time.time() - t
        recon = model.reconstruct(x_test)
        mse = float(np.mean((recon - x_test) ** 2))
        k = config["code_size"]
        row = {"model": name, "config": config, "code_size": k, "epochs": args.epochs,
               "backend": keras.backend.backend(), "command": command_line(), "machine": where,
               "date": timestamp(), "test_mse_per_pixel": mse,
               "test_squared_error_per_image": mse * flat_test.shape[1],
               "pca_test_mse_per_pixel": pca_mse(k), "train_seconds": round(seconds, 1)}
        if name == "linear_autoencoder":
            w = keras.ops.convert_to_numpy(model.decoder.get_layer("pixels").kernel).T
            qa, _ = np.linalg.qr(w)
            cos = np.linalg.svd(qa.T @ vt[:k].T, compute_uv=False)
            # The trailing PCA directions are nearly degenerate (tiny eigengaps at k=30), so the
            # largest angle converges slowly; the median says how much of the subspace is shared.
            row["median_principal_angle_deg"] = float(np.median(np.degrees(np.arccos(np.clip(cos, -1, 1)))))
        rows[name] = row
        recons[name] = recon[:16]
        print(row, flush=True)
        np.savez_compressed(recon_path, **recons)
        report([rows[n] for n in MODELS if n in rows], recons, x_test[:16], args.batch_size)


def report(rows, recons, inputs, batch_size):
    from keras_ae import visualize

    visualize.save_reconstructions(
        inputs, [recons[r["model"]] for r in rows], os.path.join(RESULTS, "classic_mnist.png"),
        row_titles=["input"] + [r["model"] for r in rows], title="MNIST test digits and reconstructions")
    payload = {"benchmark": "classic autoencoders on MNIST", "train_examples": 60000,
               "test_examples": 10000, "batch_size": batch_size, "results": rows}
    md = [f"MNIST (60,000 train / 10,000 test), batch {batch_size}. Reference: PCA with the same "
          "code size, fitted on the same training images (NumPy SVD).",
          "", "| model | code | epochs | backend | test MSE / pixel | PCA test MSE / pixel | ratio to PCA | train time | note |",
          "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        note = (f"median principal angle to the PCA subspace {r['median_principal_angle_deg']:.1f}°"
                if "median_principal_angle_deg" in r else "")
        md.append(f"| {r['model']} | {r['code_size']} | {r['epochs']} | {r['backend']} | "
                  f"{r['test_mse_per_pixel']:.4f} | {r['pca_test_mse_per_pixel']:.4f} | "
                  f"{r['test_mse_per_pixel'] / r['pca_test_mse_per_pixel']:.2f} | {r['train_seconds']:.0f} s | {note} |")
    md += ["", "Commands: " + "; ".join(sorted({f"`{r['command']}` ({r['machine']}, {r['date']})" for r in rows})),
           "", "![reconstructions](benchmarks/results/classic_mnist.png)"]
    write_results("classic_mnist", payload, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
