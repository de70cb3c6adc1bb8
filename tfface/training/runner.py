"""`train(config)`: the library function behind `tfface train` and pipelines."""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import dataclass, field
from typing import Any, Sequence

import keras
import numpy as np

from tfface.callbacks import LossCurves, ReconstructionGrid, SampleGrid
from tfface.config import ExperimentConfig, TrainConfig, save_config
from tfface.data import make_dataset, resolve_value_range
from tfface.data.pipeline import load_split
from tfface.export import export_savedmodel
from tfface.io import atomic_path, atomic_write_text
from tfface.presets import get_preset
from tfface.training.run_dir import RunDir
from tfface.training.runtime import Runtime, configure_runtime


@dataclass
class RunResult:
    """What `train` produced: the model, its history and where files are."""

    run_dir: RunDir
    model: Any
    history: dict[str, list[float]]
    files: dict[str, str] = field(default_factory=dict)

    def final(self, key: str) -> float:
        return self.history[key][-1]


def make_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer:
    """The optimizer named by the train config."""
    lr = config.learning_rate
    if config.optimizer == "adam":
        return keras.optimizers.Adam(lr, beta_1=config.beta_1, beta_2=config.beta_2)
    if config.optimizer == "adamw":
        return keras.optimizers.AdamW(lr, beta_1=config.beta_1, beta_2=config.beta_2)
    if config.optimizer == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    return keras.optimizers.SGD(lr, momentum=config.beta_1)


def build_model(config: ExperimentConfig):
    """The preset's model at the configured image size."""
    preset = get_preset(config.model.preset)
    image_size = tuple(config.data.image_size or preset.image_size)
    kwargs = config.model.preset_kwargs()
    kwargs.setdefault("image_size", image_size)
    if "seed" in _builder_params(preset.builder):
        kwargs.setdefault("seed", config.train.seed)
    return preset.build(**kwargs)


def _builder_params(builder) -> set[str]:
    import inspect

    return set(inspect.signature(builder).parameters)


def _steps(num_examples: int | None, batch_size: int, limit: int | None) -> int | None:
    if num_examples is None:
        return limit
    steps = math.ceil(num_examples / batch_size)
    return min(steps, limit) if limit else steps


def train(config: ExperimentConfig, *, extra_callbacks: Sequence[keras.callbacks.Callback] = ()) -> RunResult:
    """Trains the configured preset on the configured data and writes the run
    folder (see `RunDir`): config, history, grids, `.keras` model, export.

    Stages: runtime → model → run folder → datasets → callbacks → fit →
    finish (history, model, export).

    Example:

    >>> from tfface.config import apply_overrides, ExperimentConfig
    >>> cfg = apply_overrides(ExperimentConfig(), [
    ...     "model.preset='vae_tiny'", "data.image_size=32", "data.num_examples=32",
    ...     "train.epochs=1", "train.batch_size=16", "run.verbose=0",
    ...     f"run.dir='{tempfile.mkdtemp()}'"])
    >>> result = train(cfg)
    >>> os.path.exists(result.run_dir.model)
    True
    """
    runtime = configure_runtime(config.train)
    with runtime.strategy.scope():
        model = build_model(config)
    run = RunDir(config.run.dir).create()
    save_config(config, run.config)
    data = make_run_datasets(config, model)
    with runtime.strategy.scope():
        compile_model(model, config, data, runtime)
    callbacks = [*run_callbacks(config, run, model, data), *extra_callbacks]
    history = model.fit(
        data.train.repeat() if config.train.steps_per_epoch else data.train,
        validation_data=data.validation,
        validation_steps=config.train.validation_steps,
        epochs=config.train.epochs,
        steps_per_epoch=config.train.steps_per_epoch,
        callbacks=callbacks,
        verbose=config.run.verbose,
        shuffle=False,  # the tf.data pipeline shuffles
    )
    return finish_run(config, run, model, history.history)


@dataclass
class RunData:
    """The datasets of a run and what is known about them."""

    train: Any
    validation: Any
    train_source: Any
    validation_source: Any
    image_size: tuple[int, int]
    value_range: str
    steps_per_epoch: int | None


def make_run_datasets(config: ExperimentConfig, model) -> RunData:
    """Train and validation pipelines at the model's size and value range."""
    image_size = tuple(model.image_shape[:2])
    value_range = resolve_value_range(config.data, model.value_range)
    batch = config.train.batch_size
    train_src = load_split(config.data, "train", image_size)
    val_src = load_split(config.data, "validation", image_size) if _has_validation(config) else None
    common = {"batch_size": batch, "image_size": image_size, "value_range": value_range}
    train_ds = make_dataset(config.data, "train", source=train_src, **common)
    val_ds = make_dataset(config.data, "validation", source=val_src, **common) if val_src is not None else None
    steps = _steps(train_src.num_examples, batch, config.train.steps_per_epoch)
    return RunData(train_ds, val_ds, train_src, val_src, image_size, value_range, steps)


def compile_model(model, config: ExperimentConfig, data: RunData, runtime: Runtime) -> None:
    """Sets the KL warm-up length, then compiles with the configured optimizer."""
    if config.train.kl_warmup_epochs and hasattr(model, "kl_warmup_steps"):
        if data.steps_per_epoch is None:
            raise ValueError("train.kl_warmup_epochs needs a dataset of known size or train.steps_per_epoch")
        model.kl_warmup_steps = int(round(config.train.kl_warmup_epochs * data.steps_per_epoch))
    model.compile(optimizer=make_optimizer(config.train), jit_compile=runtime.jit_compile)


def run_callbacks(config: ExperimentConfig, run: RunDir, model, data: RunData) -> list[keras.callbacks.Callback]:
    """History CSV, loss curves, sample and reconstruction grids."""
    callbacks: list[keras.callbacks.Callback] = [
        keras.callbacks.CSVLogger(run.history_csv),
        LossCurves(run.loss_curves),
    ]
    if config.run.sample_grid:
        callbacks.append(SampleGrid(run.grids, rows=config.run.grid_rows, seed=config.train.seed))
    if config.run.reconstruction_grid:
        source = data.validation_source or data.train_source
        callbacks.append(ReconstructionGrid(run.grids, fixed_images(config, source, data.image_size, data.value_range)))
    return callbacks


def finish_run(config: ExperimentConfig, run: RunDir, model, history: dict) -> RunResult:
    """Writes history.json, the `.keras` model and the SavedModel export."""
    logs = {k: [float(v) for v in values] for k, values in history.items()}
    atomic_write_text(run.history_json, json.dumps(logs, indent=2) + "\n")
    files = {"config": run.config, "history": run.history_csv, "grids": run.grids, "loss_curves": run.loss_curves}
    if config.run.save_model:
        with atomic_path(run.model) as tmp:
            model.save(tmp)
        files["model"] = run.model
    if config.run.export:
        files["export"] = export_savedmodel(model, run.export_version(1))
    return RunResult(run, model, logs, files)


def fixed_images(config: ExperimentConfig, source, image_size, value_range: str, count: int = 8) -> np.ndarray:
    """The first `count` images of a split, prepared as for training (no
    augmentation, no cache): the reconstruction grid's fixed inputs."""
    data = dataclasses.replace(config.data, cache=False)
    ds = make_dataset(data, batch_size=count, image_size=image_size, value_range=value_range, training=False, source=source)
    return np.asarray(next(iter(ds.take(1))))


def _has_validation(config: ExperimentConfig) -> bool:
    return config.data.validation_fraction > 0 or bool(config.data.validation_count)
