"""TensorBoard monitoring: what Keras's own ``TensorBoard`` callback does not log.

    monitor = MonitorCallback("runs/tb", images=x_val[:8])
    model.fit(data, epochs=10, callbacks=[keras.callbacks.TensorBoard("runs/tb"), monitor])

Keras's ``TensorBoard`` writes the standard scalars (``loss``, ``val_loss``, metrics) into the
runs ``train`` and ``validation``. :class:`MonitorCallback` adds, into the run ``monitor`` of the
same folder, after every ``every``-th epoch and the last one, computed on the fixed batch
``images`` at inference (corruption, dropout and MAE's masking off; ``training=True`` computes
the loss terms in training mode):

- ``loss_terms/<layer>``: each ``add_loss`` term (and weight regulariser) of the model as its own
  scalar, named after the layer that added it (``loss_terms/encoder/<layer>`` inside a nested
  model; ``_0``, ``_1``, ... when one layer adds several), and ``loss_terms/total``, their sum;
- ``reconstructions``: one picture, the inputs (the model's ``reconstruction_target``) above their
  reconstructions (``model.reconstruct``), for models that reconstruct their input;
- ``filters/<layer>``: the kernels of the first ``Conv2D`` of the model's encoder (of the model
  when it has no ``encoder``), one tile per filter, averaged over input channels.

A part that does not apply (no ``add_loss`` terms, no reconstruction, no conv layer) is skipped
and recorded in :attr:`MonitorCallback.skipped`; a part that fails is skipped with a warning,
never stopping the training. The step of each entry is the epoch; several ``fit`` calls with one
callback (a greedy stack's stages) continue one after another instead of overwriting each
other. Works on every backend (TensorFlow is needed for ``tf.summary``, as for Keras's callback).
"""

import os
import warnings

import keras
import numpy as np

from keras_ae.reporting import check_writable_folder
from keras_ae.visualize import filter_tiles, tile

PARTS = ("loss_terms", "reconstructions", "filters")


def _numpy(x):
    return np.asarray(keras.ops.convert_to_numpy(x), dtype=np.float32)


def loss_terms(model, images, training=False):
    """Runs ``model`` once on ``images`` (at inference unless ``training``) and returns
    ``{name: value}``, one entry per element of ``model.losses`` of that pass (``add_loss``
    terms and weight regularisers), each named after the (innermost) layer holding it: its name,
    prefixed with the nested models' names (``"encoder/sparsity"``), with ``_0``, ``_1``, ...
    when a layer holds several. Entries no layer holds (a subclassed model's own ``add_loss``)
    are summed into ``"other"``."""
    # A call from outside any other call clears every layer's losses and collects them afresh.
    model(images, training=training)
    total = model.losses
    terms, seen, held = {}, set(), 0

    def walk(layer, prefix):
        nonlocal held
        for sub in layer.layers:
            if id(sub) in seen:
                continue
            seen.add(id(sub))
            if isinstance(sub, keras.Model):
                walk(sub, f"{prefix}{sub.name}/")
                continue
            values = [float(_numpy(v)) for v in sub.losses]
            held += len(values)
            names = ([sub.name] if len(values) == 1 else
                     [f"{sub.name}_{i}" for i in range(len(values))])
            terms.update({prefix + n: v for n, v in zip(names, values)})

    walk(model, "")
    if held < len(total):
        terms["other"] = float(sum(float(_numpy(v)) for v in total) - sum(terms.values()))
    return terms


def first_conv(model):
    """The first ``keras.layers.Conv2D`` of ``model.encoder`` (of ``model`` when it has no
    encoder), nested models searched in layer order; ``None`` when there is none."""
    try:
        root = getattr(model, "encoder", None)
    except ValueError:  # a zoo-like model whose encoder is looked up by name and is missing
        root = None
    if not isinstance(root, keras.Model):
        root = model

    def search(layer):
        for sub in layer.layers:
            if isinstance(sub, keras.layers.Conv2D):
                return sub
            if isinstance(sub, keras.Model):
                found = search(sub)
                if found is not None:
                    return found
        return None

    return search(root)


def reconstruction_grid(inputs, reconstructions):
    """One picture: ``inputs`` in the top row, ``reconstructions`` below, both mapped to [0, 1]
    by the inputs' range (from min(0, lowest) to the highest value; clipped), one pixel of white
    between tiles. (2·H + 3, N·(W + 1) + 1[, C])."""
    inputs, reconstructions = _numpy(inputs), _numpy(reconstructions)
    lo = min(float(inputs.min()), 0.0)
    hi = max(float(inputs.max()), lo + 1e-8)
    rows = np.clip((np.concatenate([inputs, reconstructions]) - lo) / (hi - lo), 0.0, 1.0)
    return tile(rows, ncols=len(inputs), normalize=None)


def _as_summary_image(grid):
    """(H, W) or (H, W, C) in [0, 1] -> (1, H, W, C) for ``tf.summary.image``."""
    grid = np.asarray(grid, dtype=np.float32)
    if grid.ndim == 2:
        grid = grid[..., None]
    return grid[None]


class MonitorCallback(keras.callbacks.Callback):
    """Logs each loss term as a scalar, reconstructions and first-layer conv filters as pictures
    of a fixed batch to TensorBoard after every ``every``-th epoch (see the module docstring).

    Args:
        log_dir: the TensorBoard folder (the one given to ``keras.callbacks.TensorBoard``);
            checked writable here, a ``ValueError`` otherwise.
        images: the fixed batch, (N, H, W, C) images as the model takes them.
        every: log after every ``every`` epochs (and after the last epoch of a ``fit``).
        max_images: at most this many images of ``images`` are used.
        max_filters: at most this many filters are drawn.
        run: the sub-folder (TensorBoard's run) the entries go to.
        training: compute the loss terms in training mode (corruption, dropout, MAE's masking
            on; their random draws then advance the model's seed generators, so the training
            run's own draws differ from a run without the callback). Default: at inference.
    """

    def __init__(self, log_dir, images, every=1, max_images=8, max_filters=64, run="monitor",
                 training=False):
        super().__init__()
        for name, value in (("every", every), ("max_images", max_images),
                            ("max_filters", max_filters)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, got {value!r}.")
        images = _numpy(images)
        if images.ndim != 4 or not len(images):
            raise ValueError(f"images must be a non-empty (N, H, W, C) batch, got shape "
                             f"{images.shape}.")
        if not isinstance(run, str) or not run or os.sep in run:
            raise ValueError(f"run must be a folder name, got {run!r}.")
        self.log_dir = check_writable_folder(log_dir, name="log_dir")
        self.images = images[:max_images]
        self.every = every
        self.max_filters = max_filters
        self.run = run
        self.training = bool(training)
        #: the parts not logged at the last write, and why: ``{part: reason}``. A part that
        #: does not apply is checked again at the next write (a greedy stack's stages are
        #: different models); one that failed is not tried again.
        self.skipped = {}
        self._failed = set()
        self._writer = None
        self._last_step = -1

    @property
    def run_dir(self):
        return os.path.join(self.log_dir, self.run)

    def _summary(self):
        import tensorflow as tf

        if self._writer is None:
            self._writer = tf.summary.create_file_writer(self.run_dir)
        return tf.summary

    def on_epoch_end(self, epoch, logs=None):
        epochs = (self.params or {}).get("epochs")
        if (epoch + 1) % self.every and epoch + 1 != epochs:
            return
        step = max(epoch, self._last_step + 1)
        self._last_step = step
        self.write(step)

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.flush()

    def write(self, step):
        """Writes every part that applies for ``self.model`` at ``step``."""
        summary = self._summary()
        with self._writer.as_default(step=step):
            for part in PARTS:
                if part in self._failed:
                    continue
                try:
                    reason = getattr(self, f"_write_{part}")(summary)
                except Exception as e:  # monitoring must never stop a training run
                    first = str(e).splitlines()[0] if str(e) else ""
                    reason = f"failed: {type(e).__name__}: {first}"
                    self._failed.add(part)
                    warnings.warn(f"MonitorCallback: {part} {reason}; not logged from now on.",
                                  stacklevel=2)
                if reason:
                    self.skipped[part] = reason
                else:
                    self.skipped.pop(part, None)
        self._writer.flush()

    def _write_loss_terms(self, summary):
        terms = loss_terms(self.model, self.images, training=self.training)
        if not terms:
            return "the model has no add_loss terms"
        for name, value in terms.items():
            summary.scalar(f"loss_terms/{name}", value)
        summary.scalar("loss_terms/total", sum(terms.values()))
        return None

    def _write_reconstructions(self, summary):
        model = self.model
        reconstruct = getattr(model, "reconstruct", None)
        if reconstruct is None or not getattr(model, "reconstructs", False):
            return "the model does not reconstruct its input"
        target = getattr(model, "reconstruction_target", lambda x: x)(self.images)
        recs = _numpy(reconstruct(self.images))
        if recs.shape != np.shape(target):
            return f"reconstructions of shape {recs.shape}, not the inputs' {np.shape(target)}"
        summary.image("reconstructions", _as_summary_image(reconstruction_grid(target, recs)))
        return None

    def _write_filters(self, summary):
        layer = first_conv(self.model)
        if layer is None:
            return "the encoder has no Conv2D layer"
        tiles = filter_tiles(_numpy(layer.kernel))[: self.max_filters]
        summary.image(f"filters/{layer.name}", _as_summary_image(tile(tiles, normalize="each")))
        return None
