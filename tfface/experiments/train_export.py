"""`train(config)`: train a run, then export it for serving. The library
function behind `tfface train`, the sweeps and the notebooks."""

from __future__ import annotations

import logging
from typing import Any, Sequence

import keras

from tfface.config import ExperimentConfig
from tfface.export import export_savedmodel
from tfface.run import RunDir
from tfface.training import RunResult, generates_images, train_run
from tfface.training.runner import export_sampler

logger = logging.getLogger(__name__)


def export_trained_model(config: ExperimentConfig, run: RunDir, model: Any) -> dict[str, str]:
    """With `run.export`, writes the SavedModel export `RUN/export/1` of a
    freshly trained model (skipped, with a note, for models that do not
    generate images); its `sample` signature draws from the model's default
    sampler (`export_sampler`: the prior, or report 000's "diagonal" fitted
    on training codes). Returns {"export": path} or {}."""
    if not config.run.export:
        return {}
    if not generates_images(model):
        if config.run.verbose:
            logger.info(f"export: skipped, {type(model).__name__} has no generate/reconstruct signatures (model.keras is saved)")
        return {}
    keras_file = run.model if config.run.save_model else None
    sampler = export_sampler(config, model)
    return {"export": export_savedmodel(model, run.export_version(1), sampler=sampler, config=config, keras_file=keras_file)}


def train(config: ExperimentConfig, *, extra_callbacks: Sequence[keras.callbacks.Callback] = ()) -> RunResult:
    """Trains the configured preset (`tfface.training.train_run`) and writes
    the run folder (see `RunDir`): config, history, grids, `.keras` model and
    the SavedModel export.

    Rerunning resumes an interrupted run from its last checkpoint and only
    reopens a finished one (`run.resume`).

    Example:

    >>> import os, tempfile
    >>> from tfface.config import apply_overrides, ExperimentConfig
    >>> cfg = apply_overrides(ExperimentConfig(), [
    ...     "model.preset='vae_tiny'", "data.image_size=32", "data.num_examples=32",
    ...     "train.epochs=1", "train.batch_size=16", "run.verbose=0",
    ...     f"run.dir='{tempfile.mkdtemp()}'"])
    >>> result = train(cfg)
    >>> os.path.isdir(result.files["export"])
    True
    """
    return train_run(config, extra_callbacks=extra_callbacks, finishers=(export_trained_model,))
