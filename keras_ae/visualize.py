"""Pictures: image grids, inputs vs reconstructions, filters, codes (matplotlib, PNG files).

Every ``save_*`` function writes a PNG atomically (temporary file, then rename) and returns
its path. Nothing here touches the backend: pass NumPy arrays.
"""

import os

import numpy as np


def pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path, dpi=120):
    plt = pyplot()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    return path


def tile(images, ncols=None, pad=1, normalize="each"):
    """Tiles (N, H, W[, C]) images into one (rows·H, cols·W[, C]) array with a padding border.

    ``normalize``: ``"each"`` rescales each tile to [0, 1] (filters), ``"global"`` rescales all
    tiles together, ``None`` leaves values as they are (images already in [0, 1]).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"tile expects (N, H, W) or (N, H, W, C) images, got shape {images.shape}.")
    n = len(images)
    ncols = ncols or int(np.ceil(np.sqrt(n)))
    nrows = int(np.ceil(n / ncols))
    if normalize == "each":
        lo = images.reshape(n, -1).min(1).reshape((n,) + (1,) * (images.ndim - 1))
        hi = images.reshape(n, -1).max(1).reshape((n,) + (1,) * (images.ndim - 1))
        images = (images - lo) / np.maximum(hi - lo, 1e-8)
    elif normalize == "global":
        images = (images - images.min()) / max(images.max() - images.min(), 1e-8)
    h, w = images.shape[1:3]
    canvas = np.ones((nrows * (h + pad) + pad, ncols * (w + pad) + pad) + images.shape[3:],
                     dtype=np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        canvas[pad + r * (h + pad): pad + r * (h + pad) + h,
               pad + c * (w + pad): pad + c * (w + pad) + w] = img
    return canvas


def save_grid(images, path, ncols=None, title=None, normalize="each", cmap="gray"):
    """Saves ``images`` as one tiled picture."""
    plt = pyplot()
    canvas = tile(images, ncols=ncols, normalize=normalize)
    fig, ax = plt.subplots(figsize=(max(3, canvas.shape[1] / 40), max(3, canvas.shape[0] / 40)))
    ax.imshow(canvas, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def save_reconstructions(inputs, reconstructions, path, n=16, title=None, row_titles=None):
    """Rows of images: inputs on top, then each array of ``reconstructions`` below it.

    ``reconstructions`` may be one array or a list of arrays (e.g. several models compared).
    """
    plt = pyplot()
    rows = [np.asarray(inputs)[:n]]
    recs = reconstructions if isinstance(reconstructions, (list, tuple)) else [reconstructions]
    rows += [np.clip(np.asarray(r)[:n], 0.0, 1.0) for r in recs]
    row_titles = row_titles or ["input"] + (["reconstruction"] if len(recs) == 1 else
                                            [f"reconstruction {i}" for i in range(len(recs))])
    fig, axes = plt.subplots(len(rows), 1, figsize=(n * 0.6, 0.8 * len(rows) + 0.4))
    axes = np.atleast_1d(axes)
    for ax, row, label in zip(axes, rows, row_titles):
        ax.imshow(tile(row, ncols=len(row), normalize=None), cmap="gray", vmin=0, vmax=1,
                  interpolation="nearest")
        ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def filter_tiles(kernel):
    """Conv kernels (kh, kw, in, out) or dense weights (in, out) with in = H·W as (out, h, w)
    pictures, one per unit: conv kernels with several input channels show the mean over input
    channels; dense weights are reshaped to square images when ``in`` is a perfect square. A
    ``Conv2DTranspose`` kernel is (kh, kw, out, in): pass it as is for a one-channel decoder, or
    ``transpose(0, 1, 3, 2)``."""
    kernel = np.asarray(kernel)
    if kernel.ndim == 4:
        return kernel.mean(axis=2).transpose(2, 0, 1)
    if kernel.ndim == 2:
        side = int(round(np.sqrt(kernel.shape[0])))
        if side * side != kernel.shape[0]:
            raise ValueError(f"dense weights of shape {kernel.shape}: input size is not square.")
        return kernel.T.reshape(-1, side, side)
    raise ValueError(f"filters must be a 2-D or 4-D kernel, got shape {kernel.shape}.")


def save_filters(kernel, path, max_filters=128, title=None):
    """Saves conv kernels (kh, kw, in, out) or dense weights (in, out) with in = H·W as tiles
    (:func:`filter_tiles`), each rescaled to [0, 1] on its own."""
    return save_grid(filter_tiles(kernel)[:max_filters], path, title=title, normalize="each")


def save_codes_2d(codes, labels, path, title=None):
    """Scatter plot of 2-D codes coloured by label."""
    return save_code_maps([(title, codes)], labels, path)


def save_code_maps(maps, labels, path, title=None):
    """Scatter plots of 2-D codes side by side, coloured by the same ``labels``: ``maps`` is a
    list of ``(panel title or None, codes (N, 2))``, e.g. a code-size-2 autoencoder's codes
    beside PCA's two components of the same images."""
    plt = pyplot()
    if not isinstance(maps, (list, tuple)) or not maps:
        raise ValueError("maps must be a non-empty list of (title, codes) pairs.")
    labels = np.asarray(labels)
    maps = [(name, np.asarray(codes)) for name, codes in maps]
    for _, codes in maps:
        if codes.ndim != 2 or codes.shape[1] != 2 or len(codes) != len(labels):
            raise ValueError(f"each map must hold codes of shape (N, 2) with N = {len(labels)} "
                             f"labels, got {codes.shape}.")
    fig, axes = plt.subplots(1, len(maps), figsize=(5.5 * len(maps), 5), squeeze=False)
    for ax, (name, codes) in zip(axes[0], maps):
        sc = ax.scatter(codes[:, 0], codes[:, 1], c=labels, cmap="tab10", s=4)
        if name:
            ax.set_title(name, fontsize=10)
    fig.colorbar(sc, ax=list(axes[0]), fraction=0.04 / len(maps), pad=0.03)
    if title:
        fig.suptitle(title, y=1.03 if any(name for name, _ in maps) else 0.98)
    return save_figure(fig, path)


def save_projections(images, projections, path, ncols=3, title=None):
    """Images (left) beside their deconvnet projections (right), both tiled ``ncols`` wide in
    the same order. Each projection is scaled on its own by its largest magnitude, zero at
    mid-grey (positive lighter, negative darker); the images are drawn as they are (in [0, 1])."""
    plt = pyplot()
    images = np.asarray(images, dtype=np.float32)
    projections = np.asarray(projections, dtype=np.float32)
    if images.shape != projections.shape or not len(images):
        raise ValueError(f"images and projections must have one non-empty shape, got "
                         f"{images.shape} and {projections.shape}.")
    peak = np.abs(projections.reshape(len(projections), -1)).max(axis=1)
    scaled = 0.5 + 0.5 * projections / np.maximum(peak, 1e-12).reshape(
        (-1,) + (1,) * (projections.ndim - 1))
    fig, axes = plt.subplots(1, 2, figsize=(8, 4.4))
    for ax, canvas, name in ((axes[0], tile(images, ncols, normalize=None), "images"),
                             (axes[1], tile(scaled, ncols, normalize=None), "projections")):
        ax.imshow(np.clip(canvas, 0.0, 1.0), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(name, fontsize=9)
        ax.axis("off")
    if title:
        fig.suptitle(title, fontsize=10)
    return save_figure(fig, path)


def pca_2d(codes):
    """Codes (N, ...) projected on their first two principal components.

    Returns ``(projection (N, 2), share)``, ``share`` being the fraction of the codes' total
    variance the two components hold (1.0 for codes with at most two directions of variance,
    NaN when the codes do not vary at all). Each component's sign is fixed so that its largest
    loading is positive: the same codes always give the same picture.
    """
    x = np.asarray(codes, dtype=np.float64)
    if x.ndim < 2 or len(x) < 2:
        raise ValueError(f"pca_2d needs at least two codes (N >= 2, any feature shape), got "
                         f"shape {x.shape}.")
    x = x.reshape(len(x), -1)
    x = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    components = vt[:2]
    signs = np.sign(components[np.arange(len(components)), np.abs(components).argmax(axis=1)])
    projection = x @ (components * signs[:, None]).T
    if projection.shape[1] < 2:  # one-dimensional codes: the second axis is flat
        projection = np.concatenate([projection, np.zeros((len(x), 1))], axis=1)
    total = float((s ** 2).sum())
    share = float((s[:2] ** 2).sum() / total) if total > 0 else float("nan")
    return projection.astype(np.float32), share


def save_codes(codes, labels, path, title=None):
    """Codes coloured by label: as they are when two-dimensional, else on their first two
    principal components (:func:`pca_2d`, with the share of variance shown)."""
    codes = np.asarray(codes)
    flat = codes.reshape(len(codes), -1)
    if flat.shape[1] == 2:
        return save_codes_2d(flat, labels, path, title=title)
    projection, share = pca_2d(flat)
    note = (f"{flat.shape[1]}-d codes on their first two principal components "
            f"({100 * share:.0f} % of the variance)")
    return save_codes_2d(projection, labels, path, title=f"{title}\n{note}" if title else note)
