"""Per-epoch image grids: generated samples and reconstructions."""

from __future__ import annotations

import os

import keras
import numpy as np

from tfface.imaging import save_grid
from tfface.io import atomic_path


class SampleGrid(keras.callbacks.Callback):
    """Saves a rows×rows grid decoded from fixed latent vectors at the
    **beginning and the end of every epoch** (report 002's 25-image grids).

    The latents are drawn once from a private seeded generator (N(0, I)
    scaled by `temperature`) or given, so every grid shows the same 25 codes
    and the grids of a run can be compared across epochs. Decoding runs in
    inference mode and the result is cast to float32 before saving.

    Files: `{directory}/samples_e{epoch:03d}_{begin|end}.png` with 1-based
    epochs, and the latents in `{directory}/sample_latents.npy`.

    Args:
        directory: str. Output folder.
        rows: int. Grid rows and columns. Defaults to 5 (25 images).
        seed: int. Seed of the latents. Defaults to 0.
        temperature: float. Scale of the prior draws. Defaults to 1.0.
        latents: array or None. Explicit (rows², latent_dim) latents.
        at_begin: bool. Also save at epoch begin. Defaults to True.
        summaries: `GridSummaries` or None. Also log each grid to TensorBoard
            (tags `samples_begin`/`samples_end`, step = 0-based epoch).
            Defaults to None.

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
        summaries=None,
    ):
        super().__init__()
        self.directory = os.fspath(directory)
        self.rows = int(rows)
        self.seed = seed
        self.temperature = float(temperature)
        self.latents = None if latents is None else np.asarray(latents, dtype=np.float32)
        self.at_begin = at_begin
        self.summaries = summaries

    def _latents(self) -> np.ndarray:
        if self.latents is None:
            rng = np.random.default_rng(self.seed)
            self.latents = (
                rng.standard_normal((self.rows * self.rows, self.model.latent_dim)) * self.temperature
            ).astype(np.float32)
            with atomic_path(os.path.join(self.directory, "sample_latents.npy")) as tmp:
                np.save(tmp, self.latents)
        return self.latents

    def save(self, epoch: int, moment: str) -> str:
        images = self.model.decode(self._latents(), training=False)
        images = np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(images, "float32")))
        path = os.path.join(self.directory, f"samples_e{epoch + 1:03d}_{moment}.png")
        save_grid(path, images, self.model.value_range, rows=self.rows, cols=self.rows)
        if self.summaries is not None:
            self.summaries.add(f"samples_{moment}", path, step=epoch)
        return path

    def on_epoch_begin(self, epoch, logs=None):
        if self.at_begin:
            self.save(epoch, "begin")

    def on_epoch_end(self, epoch, logs=None):
        self.save(epoch, "end")


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
