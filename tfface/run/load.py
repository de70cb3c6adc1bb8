"""Reopen a finished run folder: its config, its model and its data."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

import keras

import tfface.layers  # noqa: F401  (registers the serializable trunks)
import tfface.models  # noqa: F401
from tfface.config import ExperimentConfig, load_config
from tfface.data import first_image_array, load_split, make_dataset
from tfface.presets import load_all
from tfface.run.layout import ASSETS_EXTRA, RunDir, versions


@dataclass
class LoadedRun:
    """A run folder with its resolved config and trained model.

    Attributes:
        run_dir: `RunDir`. Where the config and model are read from.
        config: the run's `ExperimentConfig` (from `RUN/config.json`).
        model: the trained model (from `RUN/model.keras`).
        outputs: `RunDir`. Where samples, `sampler.json` and metrics are
            written: the run folder itself, or for a published export
            `OUT/<version>`, the folder `OUT/<version>-outputs` beside it
            (a published export is never written into).
    """

    run_dir: RunDir
    config: ExperimentConfig
    model: Any
    outputs: RunDir | None = None

    def __post_init__(self):
        if self.outputs is None:
            self.outputs = self.run_dir

    @property
    def name(self) -> str:
        return self.config.name or os.path.basename(self.run_dir.root)

    @property
    def image_size(self) -> tuple[int, int]:
        return tuple(self.model.image_shape[:2])

    @property
    def value_range(self) -> str:
        return self.model.value_range

    def source(self, split: str):
        """The split's `SourceSplit` at the model's image size."""
        return load_split(self.config.data, split, self.image_size)

    def dataset(self, split: str, batch_size: int = 64, with_attributes: bool = False, source=None):
        """The split, prepared as for evaluation (no shuffling, no augmentation)."""
        data = dataclasses.replace(self.config.data, cache=False)
        return make_dataset(
            data,
            split,
            batch_size=batch_size,
            image_size=self.image_size,
            value_range=self.value_range,
            training=False,
            with_attributes=with_attributes,
            source=source if source is not None else self.source(split),
        )

    def images(self, split: str, count: int):
        """The first `count` images of a split as a float32 array (`first_image_array`)."""
        try:
            return first_image_array(self.config.data, split, count, image_size=self.image_size,
                                     value_range=self.value_range, source=self.source(split))  # fmt: skip
        except ValueError as error:
            raise ValueError(f"{self.run_dir.root}: {error}") from None


def resolve_run_folder(path: str | os.PathLike) -> str:
    """The folder holding `config.json` and `model.keras`: `path` itself (a
    run folder), or the `assets.extra/` of an export version folder
    (`OUT/<version>`), or of the newest version under a model base path
    (`OUT`)."""
    path = os.fspath(path)
    if os.path.exists(os.path.join(path, "config.json")):
        return path
    if os.path.isdir(os.path.join(path, ASSETS_EXTRA)):
        return os.path.join(path, ASSETS_EXTRA)
    present = versions(path)
    if present and not os.path.exists(os.path.join(path, "model.keras")):
        return os.path.join(path, str(present[-1]), ASSETS_EXTRA)
    return path


def outputs_folder(run_folder: str | os.PathLike) -> str:
    """Where commands write what they make for a run: the run folder, or
    `OUT/<version>-outputs` for the `assets.extra/` of an export version."""
    run_folder = os.path.abspath(os.fspath(run_folder))
    version, extra = os.path.split(run_folder)
    if extra == ASSETS_EXTRA:
        return f"{version}-outputs"
    return run_folder


def load_run(path: str | os.PathLike) -> LoadedRun:
    """Loads `RUN/config.json` and `RUN/model.keras` of a run folder, or of
    an export written by `tfface export` (`OUT/<version>` or `OUT`, newest
    version), whose `assets.extra/` holds both (outputs of an export go
    beside it, see `LoadedRun.outputs`).

    Raises FileNotFoundError naming the missing file.
    """
    run = RunDir(resolve_run_folder(path))
    if not os.path.isdir(run.root):
        raise FileNotFoundError(f"run folder not found: {run.root}")
    for required in (run.config, run.model):
        if not os.path.exists(required):
            raise FileNotFoundError(f"{required} not found: is {run.root} a finished run folder?")
    load_all()  # preset modules may register model classes
    model = keras.saving.load_model(run.model, compile=False)
    return LoadedRun(run, load_config(run.config), model, RunDir(outputs_folder(run.root)))
