"""`train_run(config)`: train a preset into a run folder (the training half of
`tfface.experiments.train`, which adds the SavedModel export)."""

from __future__ import annotations

import dataclasses
import importlib.util
import inspect
import json
import logging
import math
import os
import shutil
import sys
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import keras
import numpy as np
import tensorflow as tf

from tfface.callbacks import (
    BestWeights,
    EMAWeights,
    GridSummaries,
    HistoryCSV,
    LossCurves,
    NonFiniteGuard,
    NonFiniteLossError,
    ReconstructionGrid,
    SampleGrid,
    recalibrate_batch_norm,
    tensorboard_callback,
    trim_event_files,
)
from tfface.callbacks.ema import RECALIBRATION_IMAGES
from tfface.config import SAMPLER_FIT_COUNT, ConfigError, ExperimentConfig, TrainConfig, load_config, save_config
from tfface.data import first_image_array, first_images, make_dataset, resolve_value_range
from tfface.data.pipeline import load_split
from tfface.data.sources import EmptySplitError, face_counts_line, merge_face_counts, merge_skipped, skipped_report
from tfface.io import atomic_path, atomic_write_text
from tfface.presets import check_model_config, get_preset
from tfface.registry import OPTIMIZERS
from tfface.training.precision import PrecisionChoice, choose_precision, resolve_precision
from tfface.run import RunDir
from tfface.sampling.latents import fit_sampler
from tfface.sampling.run import default_sampler_kind
from tfface.training.checkpointing import ResumeCheckpoint, check_resumable, repair_history_csv
from tfface.training.runtime import Runtime, configure_runtime, run_switches, synchronize_batch_norm

logger = logging.getLogger(__name__)

#: Called after training with (config, run folder, model); returns {name: path} of the files it wrote.
Finisher = Callable[[ExperimentConfig, RunDir, Any], dict]


@dataclass
class RunResult:
    """What `train` produced: the model, its history and where files are."""

    run_dir: RunDir
    model: Any
    history: dict[str, list[float]]
    files: dict[str, str] = field(default_factory=dict)
    initial_epoch: int = 0

    def final(self, key: str) -> float:
        """The last epoch's value of history key `key`."""
        return self.history[key][-1]


def make_optimizer(config: TrainConfig) -> keras.optimizers.Optimizer:
    """The optimizer named by the train config (see `OPTIMIZERS`), with
    the weight average of `train.ema` when on."""
    return OPTIMIZERS.get(config.optimizer)(config)


def use_average_weights(model, images=None, batch_size: int = 64) -> None:
    """With `train.ema`: the optimizer's weight average into the model (a
    no-op otherwise), as `fit` leaves it at its end, with BatchNorm
    statistics recalibrated for it on `images` (`EMAWeights`)."""
    optimizer = getattr(model, "optimizer", None)
    inner = getattr(optimizer, "inner_optimizer", optimizer)  # a LossScaleOptimizer's
    if optimizer is not None and optimizer.built and getattr(inner, "use_ema", False):
        # the optimizer's own variables: a GAN's discriminator has its own optimizer
        optimizer.finalize_variable_values(model.trainable_variables)
        recalibrate_batch_norm(model, images, batch_size)


def ema_images(config: ExperimentConfig, data) -> np.ndarray:
    """The first `RECALIBRATION_IMAGES` training images (no augmentation):
    the BatchNorm statistics of `train.ema`'s weight average."""
    return fixed_images(config, data.train_source, data.image_size, data.value_range, count=RECALIBRATION_IMAGES)


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
    return set(inspect.signature(builder).parameters)


def _steps(num_examples: int | None, batch_size: int, limit: int | None) -> int | None:
    if num_examples is None:
        return limit
    steps = math.ceil(num_examples / batch_size)
    return min(steps, limit) if limit else steps


def train_run(
    config: ExperimentConfig,
    *,
    extra_callbacks: Sequence[keras.callbacks.Callback] = (),
    finishers: Sequence[Finisher] = (),
) -> RunResult:
    """Trains the configured preset on the configured data and writes the run
    folder (see `RunDir`): config, history, grids, `.keras` model, then what
    the `finishers` write (`tfface.experiments.train` adds the export).

    Stages: runtime → model → run folder → datasets → callbacks → fit →
    finish (history, model, finishers). Under a multi-worker strategy only
    the chief writes the run folder (see `Runtime`).

    Example:

    >>> import os, tempfile
    >>> from tfface.config import apply_overrides, ExperimentConfig
    >>> cfg = apply_overrides(ExperimentConfig(), [
    ...     "model.preset='vae_tiny'", "data.image_size=32", "data.num_examples=32",
    ...     "train.epochs=1", "train.batch_size=16", "run.verbose=0",
    ...     f"run.dir='{tempfile.mkdtemp()}'"])
    >>> result = train_run(cfg)
    >>> os.path.exists(result.run_dir.model)
    True
    """
    check_model_config(config.model)
    precision = choose_precision(config.train.mixed_precision)
    with run_switches(with_resolved_precision(config, precision).train):
        return _train(config, precision, extra_callbacks, finishers)


def with_resolved_precision(config: ExperimentConfig, precision: PrecisionChoice | None = None) -> ExperimentConfig:
    """`config` with `train.mixed_precision="auto"` replaced by the policy it
    resolves to here (or by `precision.policy`): the config a run trains
    with. The run folder's `config.json` keeps what was asked for, so that
    a run asking for "auto" resumes on another device under its policy."""
    resolved = precision.policy if precision is not None else resolve_precision(config.train.mixed_precision)
    if resolved == config.train.mixed_precision:
        return config
    return dataclasses.replace(config, train=dataclasses.replace(config.train, mixed_precision=resolved))


def _train(
    config: ExperimentConfig, precision: PrecisionChoice, extra_callbacks: Sequence[keras.callbacks.Callback],
    finishers: Sequence[Finisher],
) -> RunResult:
    requested, config = config, with_resolved_precision(config, precision)
    runtime = configure_runtime(config.train)
    with runtime.strategy.scope():
        model = build_model(config)
        if runtime.distributed and config.train.sync_batch_norm:
            synchronize_batch_norm(model)
    run = RunDir(config.run.dir)
    checkpoint = open_checkpoint(requested, run, runtime)
    # Other workers of a multi-worker run write into a scratch folder.
    out = RunDir(runtime.output_root(run.root)).create()
    try:
        save_config(requested, out.config)
        data = make_run_datasets(config, model, out, runtime)
        with runtime.strategy.scope():
            compile_model(model, config, data, runtime)
        start_epoch = restore_checkpoint(config, model, data, checkpoint, runtime)
        best = best_weights(config, out, checkpoint, start_epoch)
        if checkpoint.finished and (start_epoch >= config.train.epochs or (best is not None and best.state.stopped)):
            return reopen_finished_run(config, run, model, checkpoint, best, data)
        record_precision(config, out, checkpoint, precision)
        callbacks = [*run_callbacks(config, out, model, data, checkpoint, best), *extra_callbacks]
        resumable = data.start_batch is not None
        try:
            model.fit(
                data.train if resumable or not config.train.steps_per_epoch else data.train.repeat(),
                validation_data=data.validation,
                validation_steps=config.train.validation_steps,
                epochs=config.train.epochs,
                initial_epoch=start_epoch,
                steps_per_epoch=data.steps_per_epoch if resumable else config.train.steps_per_epoch,
                callbacks=callbacks,
                verbose=progress_verbosity(config.run.verbose),
                shuffle=False,  # the tf.data pipeline shuffles
            )
        except NonFiniteLossError as error:
            raise stopped_on_non_finite(error, model, run, checkpoint) from None
        keep_best_weights(config, model, checkpoint, best)
        result = finish_run(config, out, model, checkpoint.history, finishers)
        checkpoint.mark_finished()
    finally:
        runtime.discard(out.root, run.root)
    if out.root != run.root:
        result = RunResult(run, model, result.history)
    result.initial_epoch = start_epoch
    return result


def progress_verbosity(verbose: int, stream=None) -> int:
    """Keras' `fit` verbosity for `run.verbose`: the progress bar (1) only
    where it redraws in place (a terminal, a notebook), else one line per
    epoch (2): redirected to a file (`make demo > log`), the bar would write
    a carriage-return update per batch into it."""
    stream = sys.stdout if stream is None else stream
    interactive = getattr(stream, "isatty", lambda: False)() or "ipykernel" in sys.modules
    return 2 if verbose == 1 and not interactive else verbose


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
    start_batch: int | None = None
    skipped: list[tuple[str, str]] = field(default_factory=list)
    face_counts: dict[str, int] | None = None
    attribute_names: tuple[str, ...] | None = None


def trains_on_attributes(model) -> tuple[str, ...] | None:
    """The attribute names a model is trained to predict (attribute
    classifiers: batches are (images, attributes)), or None (images only)."""
    names = getattr(model, "attribute_names", None)
    return tuple(names) if names else None


def label_arguments(attribute_names: tuple[str, ...] | None) -> dict[str, Any]:
    """`make_dataset` arguments: (images, attributes) batches for attribute classifiers."""
    return {"with_attributes": attribute_names is not None, "attribute_names": attribute_names}


def generates_images(model) -> bool:
    """Whether a model decodes latents (grids and the SavedModel export need it)."""
    return callable(getattr(model, "decode", None))


def make_run_datasets(config: ExperimentConfig, model, run: RunDir | None = None, runtime: Runtime | None = None) -> RunData:
    """Train and validation pipelines at the model's size and value range.

    Unusable input files (and, with the face crop's "skip" policy, images
    without a face) are listed in `RUN/skipped_files.txt`; with the face crop
    the number of images with 0, 1 and 2+ faces is printed. Attribute
    classifiers get (images, attributes) batches in their attribute order;
    attributes the source does not label are NaN (left out of loss and
    accuracy). Under a distribution strategy see `training_stream` and
    `validation_stream`.
    """
    image_size = tuple(model.image_shape[:2])
    value_range = resolve_value_range(config.data, model.value_range)
    batch = config.train.batch_size
    attribute_names = trains_on_attributes(model)
    train_src = load_split(config.data, "train", image_size)
    val_src = load_validation_split(config, image_size)
    # A known size allows the resumable stream: the data order of every epoch
    # is a function of (seed, epoch), so a resumed run sees the same batches.
    start_batch = 0 if train_src.num_examples else None
    data = RunData(None, None, train_src, val_src, image_size, value_range,
                   _steps(train_src.num_examples, batch, config.train.steps_per_epoch), start_batch,
                   attribute_names=attribute_names)
    data.train = training_stream(config, data, runtime)
    data.validation = validation_stream(config, data, runtime) if val_src is not None else None
    data.skipped = merge_skipped(train_src, val_src)
    data.face_counts = merge_face_counts(train_src, val_src)
    if run is not None:
        atomic_write_text(run.skipped_files, skipped_report(data.skipped))
    if config.run.verbose:
        if data.skipped:
            where = run.skipped_files if run is not None else "SourceSplit.skipped"
            logger.info(f"data: skipped {len(data.skipped):,} unusable file(s), listed in {where}")
        if data.face_counts is not None:
            logger.info(f"data: face crop, {face_counts_line(data.face_counts)}")
    return data


def load_validation_split(config: ExperimentConfig, image_size):
    """The validation split, or None with a warning naming the setting when it
    is empty (`data.validation_fraction = 0`, a folder too small for the
    held-out share, a CelebA partition that lists no validation image): one
    rule for every source, the run trains without validation."""
    try:
        return load_split(config.data, "validation", image_size)
    except EmptySplitError as error:
        warnings.warn(f"{error.key}: the validation split is empty ({error}); training without validation",
                      EmptyValidationWarning, stacklevel=3)  # fmt: skip
        return None


class EmptyValidationWarning(UserWarning):
    """The run trains without validation: its validation split is empty."""


def training_stream(config: ExperimentConfig, data: RunData, runtime: Runtime | None = None):
    """The training dataset from `data.start_batch` on, in global batches of
    `train.batch_size`.

    Under a distribution strategy every worker builds its own pipeline
    (`distribute_datasets_from_function`): it decodes only its shard of the
    examples (`make_dataset(shard=...)`) and batches them per replica
    (`train.batch_size / replicas`, full batches only), so one step consumes
    `train.batch_size` examples in all and a worker `train.batch_size /
    workers`. On one host (one input pipeline) the replicas' batches are
    consecutive slices of the single-device stream: a step sees the same
    examples as a single-device step.
    """
    common = {"source": data.train_source, "image_size": data.image_size, "value_range": data.value_range,
              **label_arguments(data.attribute_names)}  # fmt: skip
    if runtime is None or not runtime.distributed:
        return make_dataset(config.data, "train", batch_size=config.train.batch_size, start_batch=data.start_batch, **common)
    if data.start_batch is None:
        raise ValueError(f"train.distribution={config.train.distribution!r} needs a training source of known size")
    start_step = data.start_batch

    def per_worker(context: tf.distribute.InputContext):
        local_replicas = context.num_replicas_in_sync // context.num_input_pipelines
        return make_dataset(
            config.data,
            "train",
            batch_size=context.get_per_replica_batch_size(config.train.batch_size),
            drop_remainder=True,
            start_batch=start_step * local_replicas,
            shard=(context.num_input_pipelines, context.input_pipeline_id),
            **common,
        )

    return runtime.strategy.distribute_datasets_from_function(per_worker)


def validation_stream(config: ExperimentConfig, data: RunData, runtime: Runtime | None = None):
    """The validation dataset in batches of `train.batch_size`. Under a
    distribution strategy only full batches are kept (a replica must never
    get an empty share), split by Keras over the replicas and, across
    workers, by tf.data's element-wise auto-sharding."""
    distributed = runtime is not None and runtime.distributed
    if distributed and (data.validation_source.num_examples or 0) < config.train.batch_size:
        raise ConfigError(
            f"train.batch_size: {config.train.batch_size} is larger than the validation split "
            f"({data.validation_source.num_examples} examples); with train.distribution={config.train.distribution!r} "
            "validation keeps full batches only: lower the batch size or enlarge the validation split"
        )
    ds = make_dataset(config.data, "validation", source=data.validation_source, batch_size=config.train.batch_size,
                      image_size=data.image_size, value_range=data.value_range, drop_remainder=distributed,
                      **label_arguments(data.attribute_names))
    if distributed:
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        ds = ds.with_options(options)
    return ds


def compile_model(model, config: ExperimentConfig, data: RunData, runtime: Runtime) -> None:
    """Sets the KL warm-up length (a `ConfigError` for a model without a KL
    term), then compiles with the configured optimizer."""
    if config.train.kl_warmup_epochs and not hasattr(model, "kl_warmup_steps"):
        raise ConfigError(
            f"train.kl_warmup_epochs: {type(model).__name__} (preset {config.model.preset!r}) has no KL term to warm up; "
            "remove it or choose a VAE preset"
        )
    if config.train.kl_warmup_epochs:
        if data.steps_per_epoch is None:
            raise ValueError("train.kl_warmup_epochs needs a dataset of known size or train.steps_per_epoch")
        model.kl_warmup_steps = int(round(config.train.kl_warmup_epochs * data.steps_per_epoch))
    optimizer = make_optimizer(config.train)
    if config.train.mixed_precision == "mixed_float16":
        # Dynamic loss scaling: `train_step` multiplies the loss by the scale,
        # `apply` divides the gradients by it and skips steps that overflow.
        optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
    model.compile(optimizer=optimizer, jit_compile=runtime.jit_compile,
                  steps_per_execution=fitted_steps_per_execution(config.train.steps_per_execution, data.steps_per_epoch))


def fitted_steps_per_execution(asked: int, steps_per_epoch: int | None) -> int:
    """The largest number of steps per call, at most `asked`, that divides
    an epoch's steps: Keras runs whole calls, so on the run's continuing
    data stream a call that crossed the end of an epoch would lengthen it
    (and shift the data of every later epoch). Warns when it is less than asked.

    Example:

    >>> fitted_steps_per_execution(4, 12), fitted_steps_per_execution(4, None)
    (4, 4)
    """
    if not steps_per_epoch or steps_per_epoch % asked == 0:
        return asked
    fitted = max(d for d in range(1, asked + 1) if steps_per_epoch % d == 0)
    warnings.warn(f"train.steps_per_execution: {asked} does not divide the {steps_per_epoch} steps of an epoch; "
                  f"running {fitted} per call (set train.steps_per_epoch to a multiple of {asked} to run {asked})",
                  stacklevel=3)  # fmt: skip
    return fitted


def open_checkpoint(config: ExperimentConfig, run: RunDir, runtime: Runtime) -> ResumeCheckpoint:
    """The run's checkpoint. With `run.resume` an existing one is kept (after
    checking the config still matches the one it was started with);
    otherwise it is deleted and the run starts over."""
    checkpoint = ResumeCheckpoint(run.checkpoints, every=config.run.checkpoint_every, write=runtime.is_chief)
    if not config.run.resume:
        checkpoint.clear()
        if runtime.is_chief:
            shutil.rmtree(run.best, ignore_errors=True)
    elif checkpoint.state is not None and os.path.exists(run.config):
        check_resumable(load_config(run.config), config, run.root)
    return checkpoint


def record_precision(config: ExperimentConfig, run: RunDir, checkpoint: ResumeCheckpoint, precision: PrecisionChoice) -> None:
    """Starts the run's precision segment at the restored epoch and writes
    every segment to `RUN/precision.json` (and, through the checkpoint, to
    `checkpoint.json`), saying when a resumed run changes policy."""
    previous = checkpoint.segments[-1] if checkpoint.segments else None
    segments = checkpoint.begin_segment(precision.to_dict())
    atomic_write_text(run.precision, json.dumps({"segments": segments}, indent=2) + "\n")
    if previous is not None and previous["policy"] != precision.policy and config.run.verbose:
        logger.info(f"{config.run.dir}: epochs {previous['from_epoch'] + 1}-{checkpoint.epoch} trained under "
                    f"{previous['policy']}; continuing under {precision.policy} ({precision.device}: {precision.reason})")


def restore_checkpoint(
    config: ExperimentConfig, model, data: RunData, checkpoint: ResumeCheckpoint, runtime: Runtime | None = None
) -> int:
    """Loads the last checkpoint into the compiled model, positions the
    training stream after its last epoch and returns that epoch (0 if none)."""
    start_epoch = checkpoint.restore(model)
    if not start_epoch:
        return 0
    if not callable(getattr(model.optimizer, "_learning_rate", None)):  # a constant rate may be changed on resume
        model.optimizer.learning_rate = config.train.learning_rate
    if data.start_batch is not None and start_epoch < config.train.epochs:
        data.start_batch = start_epoch * data.steps_per_epoch
        data.train = training_stream(config, data, runtime)
    if config.run.verbose and start_epoch < config.train.epochs:
        logger.info(f"Resuming {config.run.dir} after epoch {start_epoch} of {config.train.epochs} (last checkpoint).")
    return start_epoch


def best_weights(config: ExperimentConfig, run: RunDir, checkpoint: ResumeCheckpoint, start_epoch: int) -> BestWeights | None:
    """The early-stopping / keep-best callback of a run (None when neither is
    configured), its state rebuilt from the checkpoint's history."""
    train_config = config.train
    if not train_config.early_stopping and not train_config.keep_best:
        return None
    stopping = train_config.early_stopping
    saved = lambda: checkpoint.state.epoch if checkpoint.state is not None else 0  # noqa: E731
    best = BestWeights(run.best, monitor=train_config.monitor, patience=stopping.get("patience"),
                       min_delta=stopping.get("min_delta", 0.0), mode=stopping.get("mode", "auto"),
                       saved_epoch=saved)  # fmt: skip
    best.resume(checkpoint.history, start_epoch)
    return best


def keep_best_weights(config: ExperimentConfig, model, checkpoint: ResumeCheckpoint, best: BestWeights | None) -> None:
    """After `fit`: checkpoints an early-stopped epoch that `run.checkpoint_every`
    skipped (so a rerun knows the run is over), then with `train.keep_best`
    loads the best epoch's weights, which the `.keras` model and the export
    then hold. The checkpoint keeps the last epoch's weights."""
    if best is None:
        return
    saved = checkpoint.state
    if best.state.stopped and config.run.checkpoint_every and (saved is None or saved.epoch < checkpoint.epoch):
        checkpoint.save()
    if config.train.keep_best:
        epoch = best.restore_best(model)
        if config.run.verbose and epoch:
            print(f"keep_best: restored the weights of epoch {epoch} ({best.monitor} = {best.state.best:.6g})")


def reopen_finished_run(config: ExperimentConfig, run: RunDir, model, checkpoint: ResumeCheckpoint,
                        best: BestWeights | None = None, data: RunData | None = None) -> RunResult:
    """A rerun of a finished run trains nothing: it returns the run with the
    model at its final checkpoint, or at its best epoch with
    `train.keep_best` (raise `train.epochs` to train further, or set
    `run.resume=false` to start over)."""
    if config.train.ema:  # the checkpoint holds the trained weights and their average
        use_average_weights(model, ema_images(config, data) if data is not None else None, config.train.batch_size)
    if config.train.keep_best and best is not None:
        best.restore_best(model)
    if config.run.verbose:
        logger.info(
            f"{config.run.dir} already finished {checkpoint.epoch} epochs; nothing to train. "
            "Raise train.epochs to continue it, or set run.resume=false to start over."
        )
    candidates = {"config": run.config, "history": run.history_csv, "grids": run.grids,
                  "loss_curves": run.loss_curves, "model": run.model, "export": run.export_version(1)}
    files = {k: v for k, v in candidates.items() if os.path.exists(v)}
    return RunResult(run, model, checkpoint.history, files, initial_epoch=checkpoint.epoch)


def stopped_on_non_finite(error: NonFiniteLossError, model, run: RunDir, checkpoint: ResumeCheckpoint) -> NonFiniteLossError:
    """After a non-finite loss: put the last good checkpoint's weights back
    into the model and say where things stand."""
    if checkpoint.state is not None:
        epoch = checkpoint.restore(model)
        where = (
            f"The last good checkpoint (after epoch {epoch}) is kept in {run.checkpoints} and the model holds "
            "its weights; after a fix, run the same command again to continue from it."
        )
    else:
        where = "No checkpoint had been saved yet; running again starts from scratch."
    return NonFiniteLossError(f"{error}\n{where}", error.epoch, error.batch, error.terms)


def run_callbacks(
    config: ExperimentConfig, run: RunDir, model, data: RunData, checkpoint: ResumeCheckpoint | None = None,
    best: BestWeights | None = None,
) -> list[keras.callbacks.Callback]:
    """NaN guard (first, so nothing records a broken epoch), history CSV,
    loss curves, TensorBoard, sample and reconstruction grids, early
    stopping / best weights, then the checkpoint (last, so a checkpoint's
    epoch always has its history row, grids and best-weights state). With
    `train.ema` the grids and best weights see the weight average
    (`EMAWeights` before them, its `swap_back` before the checkpoint). A
    resumed run's TensorBoard logs keep the epochs before the checkpoint's
    and continue at its step (`initial_epoch`): no step twice."""
    start_epoch = checkpoint.epoch if checkpoint is not None else 0
    if start_epoch:
        repair_history_csv(run.history_csv, start_epoch, checkpoint.history)
    callbacks: list[keras.callbacks.Callback] = [
        NonFiniteGuard(),
        HistoryCSV(run.history_csv, append=bool(start_epoch)),
        LossCurves(run.loss_curves, history=checkpoint.history if start_epoch else None),
    ]
    summaries = None
    if config.run.tensorboard and not tensorboard_installed():
        warnings.warn("run.tensorboard: the tensorboard package is not installed (`pip install tensorboard`); "
                      "this run writes no TensorBoard logs", stacklevel=3)  # fmt: skip
    elif config.run.tensorboard:
        trim_event_files(run.tensorboard, start_epoch)
        callbacks.append(tensorboard_callback(run.tensorboard))
        summaries = GridSummaries(os.path.join(run.tensorboard, "grids"))
    ema = EMAWeights(ema_images(config, data), config.train.batch_size) if config.train.ema else None
    if ema is not None:
        callbacks.append(ema)
    if config.run.sample_grid and generates_images(model):
        callbacks += sample_grids(config, run, model, data, summaries)
    if config.run.reconstruction_grid and generates_images(model):
        source = data.validation_source or data.train_source
        images = fixed_images(config, source, data.image_size, data.value_range)
        callbacks.append(ReconstructionGrid(run.grids, images, summaries=summaries))
    if best is not None:
        callbacks.append(best)
    if ema is not None:
        callbacks.append(ema.swap_back)
    if checkpoint is not None:
        callbacks.append(checkpoint)
    return callbacks


def sample_grids(config: ExperimentConfig, run: RunDir, model, data: RunData, summaries=None) -> list[SampleGrid]:
    """The per-epoch sample grids: `samples_*.png` from the kind of sampler
    the run serves (`run.fit_sampler`, else the model's default), refitted
    on the codes of `run.sampler_fit_images` fixed training images; with a
    fitted sampler on a VAE, also `prior_samples_*.png` from N(0, I)."""
    kind = config.run.fit_sampler or default_sampler_kind(model, config.model.preset)
    arguments = config.run.sampler_args if config.run.fit_sampler else {}
    fit_images = None if kind == "prior" else sampler_images(config, data.train_source, data.image_size, data.value_range)
    grids = [SampleGrid(run.grids, rows=config.run.grid_rows, seed=config.train.seed, sampler=kind,
                        fit_images=fit_images, summaries=summaries, sampler_args=arguments)]  # fmt: skip
    if kind != "prior" and getattr(model.encoder, "head", None) == "gaussian":
        grids.append(SampleGrid(run.grids, rows=config.run.grid_rows, seed=config.train.seed, sampler="prior",
                                summaries=summaries, name="prior_samples"))  # fmt: skip
    return grids


def tensorboard_installed() -> bool:
    """tf.summary needs the tensorboard package, which TensorFlow 2.20+ no longer installs."""
    return importlib.util.find_spec("tensorboard") is not None


def sampler_images(config: ExperimentConfig, source, image_size, value_range: str) -> np.ndarray:
    """The first `run.sampler_fit_images` images of a training source (no
    augmentation): the codes the sample grids' sampler is fitted on during
    training."""
    return fixed_images(config, source, image_size, value_range, count=config.run.sampler_fit_images)


def export_sampler(config: ExperimentConfig, model):
    """The sampler behind a trained run's export `sample` signature: the
    model's default (`default_sampler_kind`; report 000: "diagonal"), fitted
    on the first `SAMPLER_FIT_COUNT` training images (as `tfface sample`)
    when it is not the prior, else "auto" (the prior)."""
    kind = default_sampler_kind(model, config.model.preset)
    if kind == "prior":
        return "auto"
    images = first_images(config.data, "train", SAMPLER_FIT_COUNT, image_size=model.image_shape[:2],
                          value_range=resolve_value_range(config.data, model.value_range))  # fmt: skip
    return fit_sampler(model, images, kind)


def finish_run(config: ExperimentConfig, run: RunDir, model, history: dict, finishers: Sequence[Finisher] = ()) -> RunResult:
    """Writes history.json and the `.keras` model, then calls each finisher
    (e.g. the SavedModel export of `tfface.experiments.train`, whose `sample`
    signature draws from `export_sampler`)."""
    logs = {k: [float(v) for v in values] for k, values in history.items()}
    atomic_write_text(run.history_json, json.dumps(logs, indent=2) + "\n")
    files = {"config": run.config, "history": run.history_csv, "grids": run.grids, "loss_curves": run.loss_curves}
    if config.run.save_model:
        with atomic_path(run.model) as tmp:
            model.save(tmp)
        files["model"] = run.model
    for finisher in finishers:
        files.update(finisher(config, run, model))
    return RunResult(run, model, logs, files)


def fixed_images(config: ExperimentConfig, source, image_size, value_range: str, count: int = 8) -> np.ndarray:
    """The first `count` images of a split (`first_image_array`): the
    reconstruction grid's fixed inputs."""
    return first_image_array(config.data, "train", count, image_size=image_size, value_range=value_range,
                             source=source)  # fmt: skip

