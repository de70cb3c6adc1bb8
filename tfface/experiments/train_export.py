"""`train(config)`: train a run, then export it for serving. The library
function behind `tfface train`, the sweeps and the notebooks."""

from __future__ import annotations

import logging
import os
from typing import Any, Sequence

import keras

from tfface.config import SAMPLER_FIT_COUNT, ConfigError, ExperimentConfig
from tfface.data import first_images
from tfface.export import ServingOptions, export_savedmodel
from tfface.run import RunDir
from tfface.sampling import fit_sampler, load_sampler, make_sampler, save_sampler
from tfface.training import RunResult, generates_images, train_run
from tfface.training.runner import export_sampler

logger = logging.getLogger(__name__)


def check_sampler_config(config: ExperimentConfig) -> None:
    """Fails before training when `run.fit_sampler` / `run.sampler_args`
    name no registered sampler or none of its arguments."""
    if config.run.fit_sampler is None:
        return
    try:
        make_sampler(config.run.fit_sampler, **config.run.sampler_args)
    except (KeyError, TypeError, ValueError) as error:
        message = error.args[0] if error.args else error
        raise ConfigError(f"run.fit_sampler / run.sampler_args: {message}") from None


def fit_configured_sampler(config: ExperimentConfig, run: RunDir, model: Any) -> dict[str, str]:
    """With `run.fit_sampler`, fits that sampler on the posterior means of up
    to `SAMPLER_FIT_COUNT` training images (prepared without augmentation)
    and saves it as `RUN/sampler.json`. Returns {"sampler": path} or {}."""
    if config.run.fit_sampler is None or not generates_images(model):
        return {}
    images = first_images(config.data, "train", SAMPLER_FIT_COUNT, image_size=model.image_shape[:2],
                          value_range=model.value_range)  # fmt: skip
    sampler = fit_sampler(model, images, config.run.fit_sampler, **config.run.sampler_args)
    save_sampler(sampler, run.sampler)
    if config.run.verbose:
        logger.info(f"sampler: fitted {sampler!r} on the training codes, saved to {run.sampler}")
    return {"sampler": run.sampler}


def export_trained_model(config: ExperimentConfig, run: RunDir, model: Any) -> dict[str, str]:
    """With `run.export`, writes the SavedModel export `RUN/export/1` of a
    freshly trained model (skipped, with a note, for models that do not
    generate images); its `sample` signature serves the sampler fitted by
    `fit_configured_sampler` when `run.fit_sampler` is set, else the
    model's default sampler (`export_sampler`: the prior, or report 000's
    "diagonal" fitted on training codes). Returns {"export": path} or {}."""
    if not config.run.export:
        return {}
    if not generates_images(model):
        if config.run.verbose:
            logger.info(f"export: skipped, {type(model).__name__} has no generate/reconstruct signatures (model.keras is saved)")
        return {}
    keras_file = run.model if config.run.save_model else None
    sampler = load_sampler(run.sampler) if config.run.fit_sampler is not None else export_sampler(config, model)
    options = ServingOptions(precision=config.run.export_precision)
    return {"export": export_savedmodel(model, run.export_version(1), sampler=sampler, options=options, config=config,
                                        keras_file=keras_file)}  # fmt: skip


def train(config: ExperimentConfig, *, extra_callbacks: Sequence[keras.callbacks.Callback] = ()) -> RunResult:
    """Trains the configured preset (`tfface.training.train_run`) and writes
    the run folder (see `RunDir`): config, history, grids, `.keras` model,
    the sampler of `run.fit_sampler` (`RUN/sampler.json`) and the SavedModel
    export, whose `sample` signature serves it.

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
    check_sampler_config(config)
    finishers = (fit_configured_sampler, export_trained_model)
    return train_run(config, extra_callbacks=extra_callbacks, finishers=finishers)
