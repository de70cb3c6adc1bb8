"""The layout of a run folder and of its exports, in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass

#: The folder inside an export version that holds model.keras, config.json and sampler.json.
ASSETS_EXTRA = "assets.extra"


@dataclass(frozen=True)
class RunDir:
    """Paths inside a run folder.

    ```
    RUN/
      config.json          resolved experiment config
      precision.json       the dtype policy each segment of the run trained under, and why
      history.csv          per-epoch losses (rewritten atomically each epoch)
      history.json         the same, written at the end
      loss_curves.png      train/validation curves, updated each epoch
      grids/               samples_eNNN_{begin,end}.png, reconstructions_eNNN.png
      model.keras          the trained model (reloads for more training)
      export/1/            SavedModel (TF Serving layout, version 1); its assets.extra/
                           holds model.keras, config.json, sampler.json (load_run opens it)
      checkpoints/         state for resuming an interrupted run
      best/                best.json (early stopping / best epoch) and that epoch's weights
      tensorboard/         TensorBoard logs: train/, validation/ (loss terms, learning rate), grids/
      skipped_files.txt    unusable input files and why
      sampler.json         fitted latent sampler (`tfface sample`)
      attribute_directions.json  attribute directions in latent space (`tfface sample RUN directions`)
      samples/             generated grids, interpolations, traversals, edits
      metrics.json         evaluation results and protocol (`tfface evaluate`)
      metrics.md           the same as a Markdown table
    ```
    """

    root: str

    def __post_init__(self):
        object.__setattr__(self, "root", os.path.abspath(os.fspath(self.root)))

    def path(self, *parts: str) -> str:
        """A path inside the run folder."""
        return os.path.join(self.root, *parts)

    @property
    def config(self) -> str:
        return self.path("config.json")

    @property
    def history_csv(self) -> str:
        return self.path("history.csv")

    @property
    def history_json(self) -> str:
        return self.path("history.json")

    @property
    def loss_curves(self) -> str:
        return self.path("loss_curves.png")

    @property
    def grids(self) -> str:
        return self.path("grids")

    @property
    def model(self) -> str:
        return self.path("model.keras")

    @property
    def export_root(self) -> str:
        """The folder holding the run's export versions (`RUN/export`)."""
        return self.path("export")

    def export_version(self, version: int = 1) -> str:
        """The folder of export version `version` (`RUN/export/<version>`)."""
        return self.path("export", str(version))

    @property
    def tensorboard(self) -> str:
        return self.path("tensorboard")

    @property
    def checkpoints(self) -> str:
        return self.path("checkpoints")

    @property
    def best(self) -> str:
        return self.path("best")

    @property
    def precision(self) -> str:
        return self.path("precision.json")

    @property
    def skipped_files(self) -> str:
        return self.path("skipped_files.txt")

    @property
    def sampler(self) -> str:
        return self.path("sampler.json")

    @property
    def attribute_directions(self) -> str:
        return self.path("attribute_directions.json")

    @property
    def samples(self) -> str:
        return self.path("samples")

    @property
    def metrics_json(self) -> str:
        return self.path("metrics.json")

    @property
    def metrics_md(self) -> str:
        return self.path("metrics.md")

    def create(self) -> "RunDir":
        """Creates the run folder and its `grids/`; returns self."""
        os.makedirs(self.grids, exist_ok=True)
        return self


def versions(base: str | os.PathLike) -> list[int]:
    """The version numbers present under a model base path, ascending (TF
    Serving serves the folders whose names are integers)."""
    base = os.fspath(base)
    if not os.path.isdir(base):
        return []
    found = [int(name) for name in os.listdir(base) if name.isdigit() and os.path.isdir(os.path.join(base, name))]
    return sorted(found)


def next_version(base: str | os.PathLike) -> int:
    """One more than the highest version under `base`, or 1."""
    present = versions(base)
    return present[-1] + 1 if present else 1
