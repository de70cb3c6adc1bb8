"""Per-epoch image grids: generated samples and reconstructions."""

from __future__ import annotations

import os

import keras
import numpy as np

from tfface.imaging import save_grid
from tfface.io import atomic_path
from tfface.sampling.latents import fit_sampler
from tfface.sampling.samplers import SAMPLERS


class SampleGrid(keras.callbacks.Callback):
    """Saves a rows×rows grid of generated faces at the **beginning and the
    end of every epoch** (report 002's 25-image grids).

    The codes come from the distribution the run generates with
    (`sampler`): for "prior" (VAEs) N(0, I) scaled by `temperature`, drawn
    once; for a fitted sampler ("diagonal", "gaussian", "gmm", "two_stage":
    autoencoders, whose codes follow no prior — report 000's sigmoid codes
    live in [0, 1] — and runs that fit one at the end, `run.fit_sampler`)
    the sampler is refitted on the posterior means (inference mode) of
    `fit_images`, a fixed training subset, whenever the weights changed
    since the last grid, and drawn with the same seed: the same component
    choices and noise every time, so the 25 faces are the same draws from
    an epoch's sampler to the next. Either way the grids of a run are
    comparable across epochs. Decoding runs in inference mode and the
    result is cast to float32 before saving; the last codes are kept in
    `latents_used`.

    Files: `{directory}/{name}_e{epoch:03d}_{begin|end}.png` with 1-based
    epochs, and for the prior the latents in `{directory}/sample_latents.npy`
    (`{name}_latents.npy` for another `name`).

    Args:
        directory: str. Output folder.
        rows: int. Grid rows and columns. Defaults to 5 (25 images).
        seed: int. Seed of the latents. Defaults to 0.
        temperature: float. Scale of the draws around the centre. Defaults to 1.0.
        latents: array or None. Explicit (rows², latent_dim) latents.
        at_begin: bool. Also save at epoch begin. Defaults to True.
        sampler: str. A registered sampler kind. Defaults to "prior".
        fit_images: array or None. Training images the sampler is fitted
            on (required unless `sampler` is "prior").
        summaries: `GridSummaries` or None. Also log each grid to TensorBoard
            (tags `{name}_begin`/`{name}_end`, step = 0-based epoch).
            Defaults to None.
        sampler_args: dict. The fitted sampler's constructor arguments
            (`run.sampler_args`, e.g. components=10). Defaults to {}.
        name: str. Prefix of the files and tags. Defaults to "samples".

    Example:

    >>> import tempfile
    >>> from tfface.presets import build_preset
    >>> model = build_preset("vae_tiny", image_size=(32, 32))
    >>> model.compile(optimizer="adam")
    >>> out = tempfile.mkdtemp()
    >>> _ = model.fit(np.random.rand(8, 32, 32, 3).astype("float32"), epochs=1,
    ...               callbacks=[SampleGrid(out)], verbose=0)
    >>> sorted(f for f in os.listdir(out) if f.endswith(".png"))
    ['samples_e001_begin.png', 'samples_e001_end.png']
    """

    def __init__(
        self,
        directory: str,
        rows: int = 5,
        seed: int = 0,
        temperature: float = 1.0,
        latents=None,
        at_begin: bool = True,
        sampler: str = "prior",
        fit_images=None,
        summaries=None,
        sampler_args=None,
        name: str = "samples",
    ):
        super().__init__()
        if sampler not in SAMPLERS:
            raise ValueError(f"SampleGrid: unknown sampler {sampler!r}; known: {', '.join(SAMPLERS.names())}")
        if sampler != "prior" and latents is None and fit_images is None:
            raise ValueError(f"SampleGrid: the {sampler!r} sampler is fitted on codes; pass fit_images")
        self.directory = os.fspath(directory)
        self.rows = int(rows)
        self.seed = seed
        self.temperature = float(temperature)
        self.latents = None if latents is None else np.asarray(latents, dtype=np.float32)
        self.at_begin = at_begin
        self.sampler = sampler
        self.fit_images = None if fit_images is None else np.asarray(fit_images, dtype=np.float32)
        self.fitted = None
        self.fitted_at = None  # the optimizer step the fitted sampler saw
        self.summaries = summaries
        self.sampler_args = dict(sampler_args or {})
        self.name = name
        self.latents_used = None

    def _latents(self) -> np.ndarray:
        if self.latents is not None:
            return self.latents
        count = self.rows * self.rows
        if self.sampler == "prior":
            rng = np.random.default_rng(self.seed)
            self.latents = (rng.standard_normal((count, self.model.latent_dim)) * self.temperature).astype(np.float32)
            latents_file = "sample_latents.npy" if self.name == "samples" else f"{self.name}_latents.npy"
            with atomic_path(os.path.join(self.directory, latents_file)) as tmp:
                np.save(tmp, self.latents)
            return self.latents
        # Refitted when the weights changed: the codes' distribution moves as the encoder trains.
        step = weights_state(self.model)
        if self.fitted is None or step != self.fitted_at:
            self.fitted = fit_sampler(self.model, self.fit_images, self.sampler, **self.sampler_args)
            self.fitted_at = step
        return self.fitted.sample(count, seed=self.seed, temperature=self.temperature)

    def save(self, epoch: int, moment: str) -> str:
        """Decodes the fixed latents and writes `samples_eEEE_<moment>.png`; returns its path."""
        self.latents_used = self._latents()
        images = self.model.decode(self.latents_used, training=False)
        images = np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(images, "float32")))
        path = os.path.join(self.directory, f"{self.name}_e{epoch + 1:03d}_{moment}.png")
        save_grid(path, images, self.model.value_range, rows=self.rows, cols=self.rows)
        if self.summaries is not None:
            self.summaries.add(f"{self.name}_{moment}", path, step=epoch)
        return path

    def on_epoch_begin(self, epoch, logs=None):
        if self.at_begin:
            self.save(epoch, "begin")

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch, "end")


def weights_state(model) -> tuple[int, float]:
    """(optimizer step, a checksum of the first trainable weight): changes
    when the model's weights do (training, or swapped-in averages)."""
    optimizer = getattr(model, "optimizer", None)
    step = -1 if optimizer is None else int(keras.ops.convert_to_numpy(optimizer.iterations))
    first = model.trainable_weights[0] if model.trainable_weights else None
    return step, 0.0 if first is None else float(keras.ops.convert_to_numpy(keras.ops.sum(first)))


class ReconstructionGrid(keras.callbacks.Callback):
    """Saves originals (top row) above their reconstructions (bottom row) at
    the end of every epoch: `{directory}/reconstructions_e{epoch:03d}.png`.

    Args:
        directory: str. Output folder.
        images: array (N, H, W, C). Fixed images in the model's value range.
        summaries: `GridSummaries` or None. Also log each grid to TensorBoard
            (tag `reconstructions`, step = 0-based epoch). Defaults to None.
    """

    def __init__(self, directory: str, images, summaries=None):
        super().__init__()
        self.directory = os.fspath(directory)
        self.images = np.asarray(images, dtype=np.float32)
        self.summaries = summaries

    def on_epoch_end(self, epoch, logs=None):
        recon = self.model(self.images, training=False)
        recon = np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(recon, "float32")))
        both = np.concatenate([self.images, recon], axis=0)
        path = os.path.join(self.directory, f"reconstructions_e{epoch + 1:03d}.png")
        save_grid(path, both, self.model.value_range, rows=2, cols=len(self.images))
        if self.summaries is not None:
            self.summaries.add("reconstructions", path, step=epoch)
