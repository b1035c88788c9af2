"""The classic family on MNIST: test reconstruction error of each model vs PCA with the same code size.

    python benchmarks/classic_mnist.py --data-dir ../shared/datasets --epochs 10

PCA (from NumPy's SVD of the training images) is the reference every autoencoder of code size k
is measured against: a linear autoencoder should match it (Baldi & Hornik 1989) and a deep one
should beat it (Hinton & Salakhutdinov 2006). The linear autoencoder's principal angles to the
PCA subspace are reported too. Writes benchmarks/results/classic_mnist.{json,md}.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _common import command_line, machine, timestamp, write_results  # noqa: E402

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
    from keras_ae import visualize

    start_all = time.time()
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
    rows, recons = [], []
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
        row = {"model": name, "config": config, "code_size": k, "test_mse_per_pixel": mse,
               "test_squared_error_per_image": mse * flat_test.shape[1],
               "pca_test_mse_per_pixel": pca_mse(k), "train_seconds": round(seconds, 1)}
        if name == "linear_autoencoder":
            w = keras.ops.convert_to_numpy(model.decoder.get_layer("pixels").kernel).T
            qa, _ = np.linalg.qr(w)
            cos = np.linalg.svd(qa.T @ vt[:k].T, compute_uv=False)
            # The trailing PCA directions are nearly degenerate (tiny eigengaps at k=30), so the
            # largest angle converges slowly; the median says how much of the subspace is shared.
            row["median_principal_angle_deg"] = float(np.median(np.degrees(np.arccos(np.clip(cos, -1, 1)))))
        rows.append(row)
        recons.append(recon[:16])
        print(row, flush=True)

    visualize.save_reconstructions(
        x_test[:16], recons, os.path.join(os.path.dirname(__file__), "results", "classic_mnist.png"),
        row_titles=["input"] + [r["model"] for r in rows],
        title=f"MNIST test digits and reconstructions ({args.epochs} epochs)")
    took = time.time() - start_all
    payload = {"benchmark": "classic autoencoders on MNIST", "command": command_line(),
               "machine": where, "date": timestamp(), "backend": keras.backend.backend(),
               "epochs": args.epochs, "train_examples": len(x_train), "test_examples": len(x_test),
               "seconds": round(took, 1), "results": rows}
    md = [f"MNIST (60,000 train / 10,000 test), {args.epochs} epochs, batch {args.batch_size}, "
          f"{keras.backend.backend()} backend. Reference: PCA with the same code size, on the same data.",
          "", "| model | code | test MSE / pixel | PCA test MSE / pixel | ratio to PCA | note |",
          "| --- | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        note = (f"median principal angle to the PCA subspace {r['median_principal_angle_deg']:.1f}°"
                if "median_principal_angle_deg" in r else "")
        md.append(f"| {r['model']} | {r['code_size']} | {r['test_mse_per_pixel']:.4f} | "
                  f"{r['pca_test_mse_per_pixel']:.4f} | {r['test_mse_per_pixel'] / r['pca_test_mse_per_pixel']:.2f} | {note} |")
    md += ["", f"Command: `{payload['command']}` · machine: {where} · {payload['date']} · took {took:.0f} s.",
           "", "![reconstructions](benchmarks/results/classic_mnist.png)"]
    write_results("classic_mnist", payload, "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
