"""Run and experiment configuration: frozen dataclasses loaded from TOML/JSON.

Architecture lives in model constructor arguments (`get_config`); everything
about a *run* (data, preset choice, optimisation, output folder) lives here.
A config file has one table per section:

```toml
[data]
source = "synthetic"
image_size = [64, 64]

[model]
preset = "vae_demo"

[train]
epochs = 5

[run]
dir = "runs/demo"
```

Every value is type-checked on construction; a wrong key or type fails with
an error naming the key, e.g. `train.epochs: expected int, got 'five'`.
Command-line overrides use dotted keys: `train.epochs=2 run.dir=out/x`.

This module is also tfface's one config mechanism: every option set
(experiment sections here, evaluation options, sweep files, tables and
figures) subclasses `Options`, is validated by `validate` on construction,
is built from nested dicts by `from_dict`, read from TOML/JSON by
`read_file`, reports unknown keys with `unknown_key` and gets its
command-line flags from `add_arguments`/`from_args`.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping, Sequence

from tfface.io import atomic_write_text
from tfface.registry import OPTIMIZERS, RECONSTRUCTION_LOSSES, STRATEGIES, Registry, did_you_mean
from tfface.value_range import ValueRange

__all__ = [
    "ConfigError",
    "Options",
    "SAMPLER_FIT_COUNT",
    "validate",
    "from_dict",
    "to_dict",
    "read_file",
    "unknown_key",
    "did_you_mean",
    "add_arguments",
    "from_args",
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "RunConfig",
    "ExperimentConfig",
    "EvaluationOptions",
    "SampleOptions",
    "load_config",
    "save_config",
    "apply_overrides",
    "overrides_from",
    "toml_literal",
    "config_from_dict",
    "config_to_dict",
]


#: Training images whose codes fit a latent sampler: the export's `sample`
#: signature (`run.fit_sampler` or the model's default, e.g. report 000's
#: "diagonal"), `tfface sample` and `tfface export` (`--fit-count`). Fewer
#: when the training split is smaller.
SAMPLER_FIT_COUNT = 10_000

#: Train keys only some optimizers read (`OptimizerChoice.options` says which).
OPTIMIZER_OPTIONS = ("beta_1", "beta_2", "momentum")

# Model keys of the optional loss terms: only presets that take them accept them.
LOSS_TERM_KEYS = ("perceptual_weight", "perceptual_weights", "adversarial_weight", "adversarial_start",
                  "discriminator_augment", "discriminator_spectral_norm", "discriminator_every", "lecam_weight",
                  "r1_weight", "r1_every", "feature_matching_weight")  # fmt: skip


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names it."""


class Options:
    """Base of every option set: a frozen dataclass whose fields are checked
    against their annotations (and `choices`/`min`/`max` field metadata) on
    construction, by the one `validate`.

    Subclasses are `@dataclass(frozen=True)` classes that set the class
    attributes below; nested option sets are fields annotated with their
    class (a TOML table), tuples of them (an array of tables) or `X | None`.

    Args:
        section: str (class attribute). Prefix of the keys in error messages
            (`train` → `train.epochs: expected int, got 'five'`).
        key_label: str (class attribute). What an unknown key is called
            (`unknown config key 'train.epoch'`). Defaults to "key".
        dotted_keys: bool (class attribute). Name an unknown key by its full
            dotted path (`'train.epoch'`) rather than after its table
            (`runs[0]: unknown key 'sett'`). Defaults to False.

    Example:

    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Plot(Options):
    ...     section = "plot"
    ...     size: tuple[int, int] = (4, 3)
    ...     title: str | None = None
    >>> Plot.from_dict({"size": 5}).size
    (5, 5)
    >>> try:
    ...     Plot.from_dict({"titel": "x"})
    ... except ConfigError as error:
    ...     print(error)
    unknown key 'titel' (did you mean 'title'?)
    """

    section: ClassVar[str] = ""
    key_label: ClassVar[str] = "key"
    dotted_keys: ClassVar[bool] = False

    def __post_init__(self):
        validate(self, self.section)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any], source: str = ""):
        """Builds the options from (nested) mappings; see `from_dict`."""
        return from_dict(cls, raw, source=source)

    def to_dict(self) -> dict[str, Any]:
        """The options as plain JSON-compatible values; see `to_dict`."""
        return to_dict(self)

    def __getitem__(self, name: str) -> Any:
        """Reads a field like a mapping key (`options["count"]`)."""
        if name not in {f.name for f in dataclasses.fields(self)}:
            raise KeyError(name)
        return getattr(self, name)


def _choices(*values: str) -> dict:
    return {"choices": values}


def _at_least(bound: float) -> dict:
    return {"min": bound}


def _registered(registry: Registry) -> dict:
    """The value must name an entry of `registry` (looked up when validated,
    so entries registered by any module, yours included, are selectable)."""
    return {"registry": registry}


class _Section(Options):
    """A section of an experiment config: unknown keys are named in full."""

    key_label = "config key"
    dotted_keys = True


@dataclass(frozen=True)
class DataConfig(_Section):
    """Where images come from and how they are prepared.

    Args:
        source: str. Registered data source: "synthetic", "celeba" (tfds),
            "celeba-local" (extracted official layout), "folder".
            Defaults to "synthetic".
        path: str or None. The image folder ("folder"), the extracted CelebA
            folder ("celeba-local"), or tfds' data directory ("celeba").
        image_size: (int, int) or None. Output (height, width); an int means
            square; None uses the preset's native size. Defaults to None.
        value_range: str. Pixel range fed to the model: "0_1", "-1_1", or
            "auto" to follow the model's output activation. Defaults to "auto".
        num_examples: int. Size of the synthetic dataset. Defaults to 2048.
        validation_fraction: float. Share held out for validation by sources
            without an official split. Defaults to 0.1.
        validation_count: int or None. If set, the first N files (sorted) are
            the validation split, as report 004 did. Defaults to None.
        split_seed: int. Seed of the fractional split. Defaults to 0.
        center_crop: bool. Crop the largest centred box of the output aspect
            ratio before resizing. Defaults to False.
        face_crop: bool. Crop to the largest Haar-cascade face. Defaults to False.
        face_scale_factor / face_min_neighbors / face_min_size / face_margin:
            OpenCV `detectMultiScale` parameters and the margin added around
            the box (fraction of its size).
        no_face: str. "skip" or "center" for images without a face.
        crop_cache_dir: str or None. Where face boxes (and decode checks) are
            cached; defaults to `.tfface_cache` in the data folder, or
            `~/.cache/tfface` when that is not writable.
        verify_decode: bool. Decode every file once with OpenCV while listing
            (cached like the face boxes) so that files passing the header
            check but failing to decode are listed as skipped too; the face
            crop always does this. Defaults to False.
        celeba_identity: bool. CelebA examples carry "identity" (int64).
            Defaults to False.
        celeba_landmarks: bool. CelebA examples carry "landmarks" (10 float32
            coordinates in the aligned 178x218 image). Defaults to False.
        flip: bool. Random horizontal flip for training. Defaults to False.
        shuffle_buffer: int. Defaults to 4096.
        cache: bool. Cache decoded, resized images in memory. Defaults to True.
        seed: int. Seed of the synthetic data and shuffling. Defaults to 0.
    """

    section = "data"

    source: str = "synthetic"
    path: str | None = None
    image_size: tuple[int, int] | None = field(default=None, metadata=_at_least(1))
    value_range: str = field(default="auto", metadata=_choices("auto", *(r.value for r in ValueRange)))
    num_examples: int = field(default=2048, metadata=_at_least(1))
    validation_fraction: float = field(default=0.1, metadata={"min": 0.0, "max": 0.9})
    validation_count: int | None = field(default=None, metadata=_at_least(0))
    split_seed: int = 0
    center_crop: bool = False
    face_crop: bool = False
    face_scale_factor: float = field(default=1.1, metadata={"min": 1.01})
    face_min_neighbors: int = field(default=5, metadata=_at_least(0))
    face_min_size: int = field(default=30, metadata=_at_least(1))
    face_margin: float = field(default=0.25, metadata=_at_least(0.0))
    no_face: str = field(default="skip", metadata=_choices("skip", "center"))
    crop_cache_dir: str | None = None
    verify_decode: bool = False
    celeba_identity: bool = False
    celeba_landmarks: bool = False
    flip: bool = False
    shuffle_buffer: int = field(default=4096, metadata=_at_least(1))
    cache: bool = True
    seed: int = 0



@dataclass(frozen=True)
class ModelConfig(_Section):
    """Which preset to build and which of its arguments to change.

    Args:
        preset: str. A registered preset name (`tfface presets` lists them).
            Defaults to "vae_demo".
        latent_dim: int or None. Overrides the preset's latent size.
        beta: float or None. Overrides the KL weight of VAE presets.
        reconstruction_loss: str or None. A registered reconstruction loss
            (`tfface.registry.RECONSTRUCTION_LOSSES`: "mse", "bce").
        perceptual_weight: float or None. Weight of the VGG16 perceptual
            term (0 = off), for presets that take it (`LatentAutoencoder`).
        perceptual_weights: str or None. Its VGG16 weights: "imagenet", a
            local `.h5` path, or "random" (tests only).
        adversarial_weight: float or None. Base weight of the PatchGAN
            adversarial term (0 = off), for presets that take it.
        adversarial_start: int or None. Optimizer step it starts at.
        discriminator_augment: str or None. DiffAugment policy of the
            discriminator's inputs, e.g. "color,translation,cutout"
            (`tfface.layers.DiffAugment`); "" = off.
        discriminator_spectral_norm: bool or None. Spectral normalisation
            of the discriminator's convs.
        discriminator_every: int or None. Update the discriminator on
            every k-th step only (a slower discriminator; its loss is still
            computed on every step).
        lecam_weight: float or None. LeCam regulariser of the
            discriminator (0 = off).
        r1_weight: float or None. γ of the lazy R1 penalty (0 = off).
        r1_every: int or None. R1 on every k-th discriminator update.
        feature_matching_weight: float or None. L1 feature matching on the
            discriminator's hidden features (0 = off).
            (See `tfface.models.critic` for all seven; presets that take
            the adversarial term take them.)
        args: dict. Any other preset keyword arguments (e.g.
            discriminator_layers, discriminator_width, discriminator_norm,
            lecam_decay).
    """

    section = "model"

    preset: str = "vae_demo"
    latent_dim: int | None = field(default=None, metadata=_at_least(1))
    beta: float | None = field(default=None, metadata=_at_least(0.0))
    reconstruction_loss: str | None = field(default=None, metadata=_registered(RECONSTRUCTION_LOSSES))
    perceptual_weight: float | None = field(default=None, metadata=_at_least(0.0))
    perceptual_weights: str | None = None
    adversarial_weight: float | None = field(default=None, metadata=_at_least(0.0))
    adversarial_start: int | None = field(default=None, metadata=_at_least(0))
    discriminator_augment: str | None = None
    discriminator_spectral_norm: bool | None = None
    discriminator_every: int | None = field(default=None, metadata=_at_least(1))
    lecam_weight: float | None = field(default=None, metadata=_at_least(0.0))
    r1_weight: float | None = field(default=None, metadata=_at_least(0.0))
    r1_every: int | None = field(default=None, metadata=_at_least(1))
    feature_matching_weight: float | None = field(default=None, metadata=_at_least(0.0))
    args: dict = field(default_factory=dict)

    def preset_kwargs(self) -> dict[str, Any]:
        """The keyword arguments passed to the preset builder."""
        kwargs = dict(self.args)
        for name in ("latent_dim", "beta", "reconstruction_loss", *LOSS_TERM_KEYS):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        return kwargs


@dataclass(frozen=True)
class EarlyStopping(_Section):
    """The keys of `train.early_stopping` (Keras' `EarlyStopping` semantics).

    Args:
        monitor: str. A logged metric. Defaults to "val_loss".
        patience: int. Epochs without improvement before stopping. Defaults to 3.
        min_delta: float. Smallest change counted as improvement. Defaults to 0.0.
        mode: str. "min", "max" or "auto" (max for accuracy, PSNR, SSIM).
            Defaults to "auto".

    Example:

    >>> EarlyStopping.from_dict({"patience": 5}).to_dict()
    {'monitor': 'val_loss', 'patience': 5, 'min_delta': 0.0, 'mode': 'auto'}
    """

    section = "train.early_stopping"

    monitor: str = "val_loss"
    patience: int = field(default=3, metadata=_at_least(0))
    min_delta: float = field(default=0.0, metadata=_at_least(0))
    mode: str = field(default="auto", metadata=_choices("auto", "min", "max"))


@dataclass(frozen=True)
class TrainConfig(_Section):
    """Optimisation settings.

    Args:
        epochs: int. Defaults to 10.
        batch_size: int. Global batch size (over all replicas and workers;
            must be a multiple of their number). Defaults to 64.
        learning_rate: float. Defaults to 1e-3.
        optimizer: str. A registered optimizer (`tfface.registry.OPTIMIZERS`):
            "adam", "adamw", "sgd" or "rmsprop". Defaults to "adam".
        beta_1, beta_2: float or None. The decay rates of Adam's (and
            AdamW's) moment estimates; None keeps Keras' 0.9 and 0.999.
            Setting them with another optimizer is a `ConfigError`.
            Defaults to None.
        momentum: float or None. The momentum of "sgd" and "rmsprop"; None
            keeps Keras' 0.0. Setting it with another optimizer is a
            `ConfigError`. Defaults to None.
        kl_warmup_epochs: float. Linear KL warm-up from 0 to the model's beta
            over this many epochs (0 = off); a model without a KL term (an
            autoencoder) fails with a `ConfigError`. Defaults to 0.
        steps_per_epoch: int or None. Limit batches per epoch.
        validation_steps: int or None. Limit validation batches.
        seed: int. Global seed (weights init, sampling). Defaults to 0.
        mixed_precision: str. "float32", "mixed_float16" (GPU; with dynamic
            loss scaling), "mixed_bfloat16" (TPU, recent CPUs/GPUs) or
            "auto": chosen on the device that runs the step, bfloat16 from
            GPU compute capability 8.0, float16 on 7.x, on CPUs bfloat16
            where it is faster, else float32 (see
            `tfface.training.precision`). An "auto" run resumes on another
            device under its policy; `RUN/precision.json` records each
            segment's policy and why. Defaults to "float32".
        jit_compile: str. XLA: "auto" (on for one GPU, off on CPU and with
            several devices per host), "on" or "off". Defaults to "auto".
        distribution: str. A registered strategy
            (`tfface.registry.STRATEGIES`): "default" (one device),
            "mirrored" (all GPUs of a host), "multi_worker" (hosts in
            TF_CONFIG) or "tpu". Defaults to "default".
        sync_batch_norm: bool. Under a distribution strategy with several
            replicas, BatchNorm statistics are computed over the global
            batch rather than each replica's share. Defaults to True.
        deterministic: bool. Enable TensorFlow op determinism. Defaults to False.
        steps_per_execution: int. Training steps run per call into the
            compiled graph (Keras' `compile(steps_per_execution=...)`): the
            host reads the step's logs once per call instead of once per
            step, which keeps a GPU busy when steps are short. Results are
            identical; epochs, grids, checkpoints and resume are unchanged.
            It must divide an epoch's steps: otherwise the run uses the
            largest number that does and warns. Defaults to 1.
        early_stopping: dict. Stop when a logged metric stops improving:
            `{monitor = "val_loss", patience = 3, min_delta = 0.0, mode =
            "auto"}` ("min", "max" or "auto": max for accuracy, PSNR, SSIM).
            Empty = off. Its state is a function of the run's history, so it
            survives a kill and resume; `RUN/best/best.json` records it.
            Defaults to {}.
        keep_best: bool. Restore the weights of the best epoch of
            `early_stopping.monitor` (or "val_loss") at the end of the run,
            so `model.keras` and the export hold them. Defaults to False.
        ema: bool. Keep an exponential moving average of the trainable
            weights (Keras' optimizer `use_ema`): validation, the per-epoch
            grids, the best-weights copy, `model.keras`, the fitted
            sampler, evaluation and the export use the average; the
            checkpoints hold both, so a resumed run continues it exactly
            (`tfface.callbacks.EMAWeights`); BatchNorm statistics are
            recomputed for the average on 512 training images. Defaults to
            False.
        ema_momentum: float. The average's momentum per optimizer step
            (0.999: a horizon of ~1,000 steps), reached after a warm-up
            (min(m, (1 + t) / (10 + t)) at step t). Defaults to 0.999.
    """

    section = "train"

    epochs: int = field(default=10, metadata=_at_least(1))
    batch_size: int = field(default=64, metadata=_at_least(1))
    learning_rate: float = field(default=1e-3, metadata={"min": 0.0, "exclusive_min": True})
    optimizer: str = field(default="adam", metadata=_registered(OPTIMIZERS))
    beta_1: float | None = field(default=None, metadata={"min": 0.0, "max": 1.0})
    beta_2: float | None = field(default=None, metadata={"min": 0.0, "max": 1.0})
    momentum: float | None = field(default=None, metadata={"min": 0.0, "max": 1.0})
    kl_warmup_epochs: float = field(default=0.0, metadata=_at_least(0.0))
    steps_per_epoch: int | None = field(default=None, metadata=_at_least(1))
    validation_steps: int | None = field(default=None, metadata=_at_least(1))
    seed: int = 0
    mixed_precision: str = field(
        default="float32", metadata=_choices("float32", "mixed_float16", "mixed_bfloat16", "auto")
    )
    jit_compile: str = field(default="auto", metadata=_choices("auto", "on", "off"))
    distribution: str = field(default="default", metadata=_registered(STRATEGIES))
    sync_batch_norm: bool = True
    deterministic: bool = False
    steps_per_execution: int = field(default=1, metadata=_at_least(1))
    early_stopping: dict = field(default_factory=dict)
    keep_best: bool = False
    ema: bool = False
    ema_momentum: float = field(default=0.999, metadata={"min": 0.0, "max": 1.0})

    def __post_init__(self):
        super().__post_init__()
        self._check_optimizer_options()
        if self.early_stopping:
            checked = from_dict(EarlyStopping, self.early_stopping, path="train.early_stopping")
            object.__setattr__(self, "early_stopping", to_dict(checked))

    def _check_optimizer_options(self) -> None:
        """An optimizer option set for an optimizer that has no such
        option fails, naming it and the optimizers that take it."""
        given = [name for name in OPTIMIZER_OPTIONS if getattr(self, name) is not None]
        if not given:
            return
        takes = OPTIMIZERS.get(self.optimizer).options
        for name in given:
            if name not in takes:
                users = [n for n, choice in OPTIMIZERS.items() if name in choice.options]
                raise ConfigError(
                    f"train.{name}: train.optimizer={self.optimizer!r} has no {name} "
                    f"(used by {', '.join(map(repr, users)) or 'no optimizer'}); remove it or change the optimizer"
                )

    @property
    def monitor(self) -> str:
        """The metric that early stopping and `keep_best` follow."""
        return self.early_stopping.get("monitor", "val_loss")


@dataclass(frozen=True)
class RunConfig(_Section):
    """What a run writes and where.

    Args:
        dir: str. The run folder. Defaults to "runs/default".
        sample_grid: bool. Save the 25-image grid at the beginning and end of
            every epoch. Defaults to True.
        grid_rows: int. Rows and columns of the sample grid (5 → 25 images).
            Defaults to 5.
        sampler_fit_images: int. Training images (the first ones, fixed)
            whose codes fit the sampler of the per-epoch sample grids when
            it is not the prior — autoencoders, and runs with
            `fit_sampler`, whose grids then show that kind of sampler
            (refitted whenever the weights changed; the prior's grid is
            saved beside it for VAEs). A preview: the sampler a run serves
            is fitted on `SAMPLER_FIT_COUNT` (10,000) codes; a GMM over
            128-d codes gets closer to it with ~1,000. Defaults to 256.
        reconstruction_grid: bool. Save originals above reconstructions each
            epoch. Defaults to True.
        save_model: bool. Save the `.keras` model. Defaults to True.
        export: bool. Write a SavedModel with serving signatures. Defaults to True.
        export_precision: str. What the export computes in: "float32"
            (whatever precision trained it; for CPU servers) or "training"
            (the run's mixed policy, e.g. float16 for GPU serving).
            Defaults to "float32".
        verbose: int. Keras progress: 0 silent, 1 progress bar, 2 one line per
            epoch. With 1, output that is not a terminal or a notebook (a
            log file) gets one line per epoch too. Defaults to 1.
        resume: bool. If the run folder holds an interrupted run, continue it
            from its last checkpoint; False deletes its checkpoints and starts
            over. Defaults to True.
        checkpoint_every: int. Save a resumable checkpoint every this many
            epochs and after the last one (0 = never). Defaults to 1.
        evaluate_split: str. The split `tfface evaluate` (and `evaluate_run`)
            measures when none is given: "validation", "test" or "train".
            Defaults to "validation".
        tensorboard: bool. Write TensorBoard logs under RUN/tensorboard/: the
            loss terms, learning rate and the sample and reconstruction grids
            per epoch; a resumed run appends. Defaults to True.
        fit_sampler: str or None. At the end of training, fit this latent
            sampler ("gmm", "two_stage", ... see `tfface.sampling.SAMPLERS`)
            on the posterior means of up to `SAMPLER_FIT_COUNT` (10,000)
            training images, save it
            as `RUN/sampler.json` and serve it from the export's `sample`
            signature. None keeps the default (the prior for VAEs).
            Defaults to None.
        sampler_args: dict. The sampler's constructor arguments, e.g.
            `{components = 20}`. Defaults to {}.
    """

    section = "run"

    dir: str = "runs/default"
    sample_grid: bool = True
    grid_rows: int = field(default=5, metadata=_at_least(1))
    sampler_fit_images: int = field(default=256, metadata=_at_least(2))
    reconstruction_grid: bool = True
    save_model: bool = True
    export: bool = True
    export_precision: str = field(default="float32", metadata=_choices("float32", "training"))
    verbose: int = field(default=1, metadata={"choices": (0, 1, 2)})
    resume: bool = True
    checkpoint_every: int = field(default=1, metadata=_at_least(0))
    evaluate_split: str = field(default="validation", metadata=_choices("validation", "test", "train"))
    tensorboard: bool = True
    fit_sampler: str | None = None
    sampler_args: dict = field(default_factory=dict)



@dataclass(frozen=True)
class ExperimentConfig(Options):
    """A whole run: data, model, training and output sections.

    Args:
        data, model, train, run: the sections (`DataConfig`, `ModelConfig`,
            `TrainConfig`, `RunConfig`).
        name: str. The run's name. Defaults to "".
        description: str. Defaults to "".

    Example:

    >>> ExperimentConfig.from_dict({"train": {"epochs": 2}}).train.epochs
    2
    """

    key_label = "config key"

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    run: RunConfig = field(default_factory=RunConfig)
    name: str = ""
    description: str = ""

    def replace(self, **sections: Any) -> "ExperimentConfig":
        """A copy with whole sections replaced, e.g. `config.replace(train=...)`."""
        return dataclasses.replace(self, **sections)


@dataclass(frozen=True)
class EvaluationOptions(Options):
    """What `evaluate_run` measures and how.

    Args:
        split: str or None. Data split of the reconstruction metrics and
            the real images of FID/KID; None takes the run's
            `run.evaluate_split` (report 000's classifiers: "test").
            Defaults to None.
        count: int or None. Images of the split evaluated (None: all).
        batch_size: int. Defaults to 64.
        fid: bool. Compute FID and KID. Defaults to False.
        swd: bool. Compute ProGAN's sliced Wasserstein distance (×1e3 per
            pyramid level and averaged; `tfface.metrics.swd`), which needs
            no downloaded weights. Defaults to False.
        generated: int. Generated images for FID/KID and SWD; real images
            are min(generated, split size). Defaults to 1000.
        fid_network: str. "tfgan-inception" (TF-GAN's 2015 Inception graph:
            FIDs comparable with papers), "keras-inception-v3" (Keras'
            ImageNet InceptionV3: comparable between runs only) or "auto"
            (the first where it can be had, with a warning on falling back).
            Defaults to "auto".
        inception_module: str or None. tfgan-inception: a local directory of
            the module or a TF-Hub handle; None reads
            $TFFACE_INCEPTION_MODULE, else downloads the handle. Defaults to None.
        inception_weights: str or None. keras-inception-v3: "imagenet", a
            local weights file, or "none" (random; smoke tests only).
            Defaults to "imagenet".
        inception_size: int. keras-inception-v3 input size (299 standard,
            >= 75); tfgan-inception always uses 299. Defaults to 299.
        kid_subsets: int. Defaults to 100.
        kid_subset_size: int. Defaults to 1000.
        sampler: str or None. Sampler of the generated images: None uses
            RUN/sampler.json or fits the model's default (`prior` for VAEs,
            `gaussian` for autoencoders). Defaults to None.
        temperature: float. Sampling temperature. Defaults to 1.0.
        seed: int. Seed of generation and KID subsets. Defaults to 0.

    Example:

    >>> EvaluationOptions.from_dict({"split": "test", "count": 100}).count
    100
    """

    section = "evaluate"
    key_label = "evaluate option"

    split: str | None = None
    count: int | None = field(default=None, metadata={"min": 1})
    batch_size: int = field(default=64, metadata={"min": 1})
    fid: bool = False
    swd: bool = False
    generated: int = field(default=1000, metadata={"min": 1})
    fid_network: str = field(default="auto", metadata={"choices": ("auto", "tfgan-inception", "keras-inception-v3")})
    inception_module: str | None = None
    inception_weights: str | None = "imagenet"
    inception_size: int = field(default=299, metadata={"min": 75})
    kid_subsets: int = field(default=100, metadata={"min": 1})
    kid_subset_size: int = field(default=1000, metadata={"min": 1})
    sampler: str | None = None
    temperature: float = field(default=1.0, metadata={"min": 0.0})
    seed: int = 0


@dataclass(frozen=True)
class SampleOptions(Options):
    """What `tfface sample RUN ACTION` draws (one field per flag).

    Args:
        sampler: str or None. "prior", "diagonal", "gaussian", "gmm" or
            "two_stage"; None
            uses RUN/sampler.json, else the model's default. Defaults to None.
        components: int or None. gmm: number of components.
        covariance: str or None. gmm: "full" or "diag".
        refit: bool. Fit the sampler again even if RUN/sampler.json exists.
        fit_count: int. Training images encoded to fit the sampler.
            Defaults to `SAMPLER_FIT_COUNT` (10,000).
        count: int or None. grid: faces (25); interpolate: rows (4); edit:
            faces (8).
        seed: int. Defaults to 0.
        temperature: float. < 1 draws codes closer to the centre.
            Defaults to 1.0.
        split: str. Split of the real faces. Defaults to "validation".
        steps: int. interpolate/traverse: columns. Defaults to 8.
        method: str. interpolate: "linear" or "slerp". Defaults to "slerp".
        from_samples: bool. Interpolate between sampled codes.
        dims: tuple of int or None. traverse: latent dimensions.
        span: float. traverse: offsets in units of the codes' std.
            Defaults to 3.0.
        attrs: tuple of str or None. attributes: one face per
            comma-separated list, "none" or "all".
        edits: tuple of str or None. edit: attributes to add.
        remove: tuple of str. edit: attributes to remove. Defaults to ().
        strength: float. edit: multiple of the direction added.
            Defaults to 1.0.
        out: str or None. PNG path (default RUN/samples/<action>_....png).

    Example:

    >>> SampleOptions.from_dict({"count": 4, "dims": [0, 1]}).dims
    (0, 1)
    """

    section = "sample"
    key_label = "sample option"

    sampler: str | None = None
    components: int | None = field(default=None, metadata=_at_least(1))
    covariance: str | None = field(default=None, metadata=_choices("full", "diag"))
    refit: bool = False
    fit_count: int = field(default=SAMPLER_FIT_COUNT, metadata=_at_least(1))
    count: int | None = field(default=None, metadata=_at_least(1))
    seed: int = 0
    temperature: float = field(default=1.0, metadata=_at_least(0.0))
    split: str = "validation"
    steps: int = 8
    method: str = "slerp"
    from_samples: bool = False
    dims: tuple[int, ...] | None = None
    span: float = 3.0
    attrs: tuple[str, ...] | None = None
    edits: tuple[str, ...] | None = None
    remove: tuple[str, ...] = ()
    strength: float = 1.0
    out: str | None = None


_SECTIONS: dict[str, type] = {
    name: hint for name, hint in typing.get_type_hints(ExperimentConfig).items() if dataclasses.is_dataclass(hint)
}
_TOP_LEVEL_STRINGS = ("name", "description")


# ---------------------------------------------------------------- validation


def _type_name(annotation: Any) -> str:
    if annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is tuple:
        items = typing.get_args(annotation)
        if len(items) == 2 and items[1] is Ellipsis:
            return f"[{_type_name(items[0])}, ...]"
        return "[" + ", ".join(_type_name(a) for a in items) + "]"
    return getattr(annotation, "__name__", str(annotation))


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Checks `value` against a field annotation, converting where lossless:
    a table becomes its option class, a list a tuple, a scalar a tuple of
    equal items (`64` → `(64, 64)`, `"mse"` → `("mse",)`)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: expected {_type_name(annotation)}, got {value!r}")
    if dataclasses.is_dataclass(annotation):
        if isinstance(value, annotation):
            return value
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a table of keys, got {value!r}")
        return _build(annotation, value, key)
    if origin is tuple:
        items = typing.get_args(annotation)
        if len(items) == 2 and items[1] is Ellipsis:
            if not isinstance(value, (list, tuple)):
                value = [value]
            return tuple(_coerce(v, items[0], f"{key}[{i}]") for i, v in enumerate(value))
        if isinstance(value, int) and not isinstance(value, bool) and all(i is int for i in items):
            value = [value] * len(items)
        if not isinstance(value, (list, tuple)) or len(value) != len(items):
            raise ConfigError(f"{key}: expected {_type_name(annotation)}, got {value!r}")
        return tuple(_coerce(v, t, f"{key}[{i}]") for i, (v, t) in enumerate(zip(value, items)))
    if annotation is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ConfigError(f"{key}: expected bool, got {value!r}")
    if annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: expected int, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(f"{key}: expected a finite number, got {value!r}")
            return float(value)
        raise ConfigError(f"{key}: expected float, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key}: expected str, got {value!r}")
    if annotation is dict or origin is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key}: expected a table/dict, got {value!r}")
        args = typing.get_args(annotation)
        if not args:
            return dict(value)
        return {_coerce(k, args[0], key): _coerce(v, args[1], f"{key}.{k}") for k, v in value.items()}
    return value


def validate(instance: Any, section: str = "") -> None:
    """Checks (and converts in place) every field of a frozen dataclass
    against its annotation and its `choices`/`min`/`max` metadata; errors
    name the key as `section.field`."""
    hints = typing.get_type_hints(type(instance))
    for f in dataclasses.fields(instance):
        key = f"{section}.{f.name}" if section else f.name
        value = _coerce(getattr(instance, f.name), hints[f.name], key)
        meta = f.metadata
        if value is not None:
            if "choices" in meta and value not in meta["choices"]:
                raise ConfigError(
                    f"{key}: {value!r} is not one of {', '.join(map(repr, meta['choices']))}"
                )
            numbers = value if isinstance(value, tuple) else (value,)
            for number in numbers:
                if not isinstance(number, (int, float)) or isinstance(number, bool):
                    continue
                if "min" in meta and (
                    number < meta["min"] or (meta.get("exclusive_min") and number == meta["min"])
                ):
                    bound = ">" if meta.get("exclusive_min") else ">="
                    raise ConfigError(f"{key}: must be {bound} {meta['min']}, got {value!r}")
                if "max" in meta and number > meta["max"]:
                    raise ConfigError(f"{key}: must be <= {meta['max']}, got {value!r}")
            registry = meta.get("registry")
            if registry is not None and value != f.default and value not in registry:
                known = registry.names()
                raise ConfigError(
                    f"{key}: {value!r} is not a registered {registry.kind}{did_you_mean(value, known)}; "
                    f"known: {', '.join(map(repr, known))}"
                )
        object.__setattr__(instance, f.name, value)


def unknown_key(cls: type, key: str, path: str = "") -> ConfigError:
    """The error for a key `cls` has no field for, in the table at `path`."""
    known = [f.name for f in dataclasses.fields(cls) if f.init]
    label = getattr(cls, "key_label", "key")
    if getattr(cls, "dotted_keys", False) and path:
        return ConfigError(
            f"unknown {label} {f'{path}.{key}'!r}{did_you_mean(f'{path}.{key}', [f'{path}.{k}' for k in known])}"
        )
    prefix = f"{path}: " if path else ""
    return ConfigError(f"{prefix}unknown {label} {key!r}{did_you_mean(key, known)}")


def _build(cls: type, raw: Mapping[str, Any], path: str) -> Any:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path or cls.__name__}: expected a table of keys, got {raw!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    values = {}
    for key, value in raw.items():
        if key not in names:
            raise unknown_key(cls, key, path)
        values[key] = _coerce(value, hints[key], f"{path}.{key}" if path else key)
    return cls(**values)


def from_dict(cls: type, raw: Mapping[str, Any], *, source: str = "", path: str = "") -> Any:
    """Builds the option dataclass `cls` from (nested) mappings, as read from
    TOML/JSON: unknown keys fail with a "did you mean" hint, values are
    type-checked; every error names the key and ends with `in <source>`.

    Args:
        cls: an `Options` dataclass.
        raw: mapping. Its keys are `cls`'s fields; tables of nested options
            are mappings.
        source: str. The file the values came from (named in errors).
        path: str. Where the table sits in its file (`evaluate`).
    """
    try:
        return _build(cls, raw, path)
    except ConfigError as error:
        raise ConfigError(f"{error} in {source}" if source else str(error)) from None


def to_dict(options: Any) -> dict[str, Any]:
    """An option dataclass as plain JSON-compatible nested dicts and lists."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(options)


def read_file(path: str | os.PathLike, what: str = "config file") -> dict[str, Any]:
    """Reads a `.toml` or `.json` file whose top level is a table.

    Raises:
        ConfigError: naming the path when it is missing, not valid TOML/JSON,
            or not a table at the top level.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"{what} not found: {path}")
    try:
        with open(path, "rb") as handle:
            raw = json.load(handle) if path.endswith(".json") else tomllib.load(handle)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'TOML'}: {error}") from None
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a table at the top level")
    return dict(raw)


# ---------------------------------------------------------------- command line


def _flag_type(annotation: Any) -> Any:
    """The scalar type of a flag: `int | None` → int."""
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1 else annotation


def add_arguments(
    parser: argparse.ArgumentParser,
    cls: type,
    help: Mapping[str, str] | None = None,
    skip: Sequence[str] = (),
) -> None:
    """Adds one `--flag-name` per field of the option dataclass `cls`, with
    its default, type and choices; a bool defaulting to False is a switch,
    one defaulting to True gets `--no-flag` too; a `tuple[X, ...]` takes
    one or more values.

    Example:

    >>> import argparse
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Opts(Options):
    ...     batch_size: int = 64
    ...     fid: bool = False
    >>> parser = argparse.ArgumentParser()
    >>> add_arguments(parser, Opts)
    >>> from_args(Opts, parser.parse_args(["--batch-size", "8", "--fid"]))
    Opts(batch_size=8, fid=True)
    """
    help = help or {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        flag = "--" + f.name.replace("_", "-")
        kind = _flag_type(hints[f.name])
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
        kwargs: dict[str, Any] = {"default": default, "help": help.get(f.name)}
        items = typing.get_args(kind) if typing.get_origin(kind) is tuple else ()
        if len(items) == 2 and items[1] is Ellipsis:
            kind, kwargs["nargs"] = items[0], "+"
        if kind is bool and "nargs" not in kwargs:
            kwargs["action"] = argparse.BooleanOptionalAction if default else "store_true"
        elif kind in (int, float, str):
            kwargs["type"] = kind
            if "choices" in f.metadata:
                kwargs["choices"] = f.metadata["choices"]
        else:
            raise TypeError(f"{cls.__name__}.{f.name}: no command-line flag for {_type_name(hints[f.name])}")
        parser.add_argument(flag, **kwargs)


def from_args(cls: type, args: argparse.Namespace, **values: Any) -> Any:
    """Builds `cls` from the flags `add_arguments` added (plus `values`)."""
    names = [f.name for f in dataclasses.fields(cls) if f.init and hasattr(args, f.name)]
    return cls(**{name: getattr(args, name) for name in names}, **values)


# ---------------------------------------------------------------- load / save


def config_from_dict(raw: Mapping[str, Any], source: str = "") -> ExperimentConfig:
    """Builds an ExperimentConfig from nested mappings, rejecting unknown keys."""
    return from_dict(ExperimentConfig, raw, source=source)


def config_to_dict(config: ExperimentConfig) -> dict[str, Any]:
    """The config as plain JSON-compatible nested dicts (name and
    description first, and only when set)."""
    raw = to_dict(config)
    out = {name: raw.pop(name) for name in _TOP_LEVEL_STRINGS if raw[name]}
    for name in _TOP_LEVEL_STRINGS:
        raw.pop(name, None)
    return {**out, **raw}


def load_config(path: str | os.PathLike, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Reads a `.toml` or `.json` experiment config and applies overrides."""
    path = os.fspath(path)
    config = config_from_dict(read_file(path, "config file"), source=path)
    return apply_overrides(config, overrides)


def save_config(config: ExperimentConfig, path: str | os.PathLike) -> None:
    """Writes the resolved config as JSON (readable by `load_config`)."""
    atomic_write_text(path, json.dumps(config_to_dict(config), indent=2, sort_keys=False) + "\n")


def _parse_value(text: str) -> Any:
    """Parses an override value with TOML literal rules; bare words are strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def toml_literal(value: Any) -> str:
    """A value written as the TOML literal that `apply_overrides` parses back."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_literal(v) for v in value) + "]"
    return repr(value)


def overrides_from(values: Mapping[str, Any]) -> list[str]:
    """Override strings for `apply_overrides` from dotted keys and Python
    values; a None value keeps the config's own value (TOML has no null).

    Example:

    >>> overrides_from({"data.source": "synthetic", "data.image_size": [64, 48],
    ...                 "train.steps_per_epoch": None, "run.resume": False})
    ['data.source="synthetic"', 'data.image_size=[64, 48]', 'run.resume=false']
    """
    return [f"{key}={toml_literal(value)}" for key, value in values.items() if value is not None]


def apply_overrides(config: ExperimentConfig, overrides: Sequence[str]) -> ExperimentConfig:
    """Applies `section.key=value` strings (values parsed as TOML literals).

    Example:

    >>> cfg = apply_overrides(ExperimentConfig(), ["train.epochs=2", "run.dir=out/x"])
    >>> cfg.train.epochs, cfg.run.dir
    (2, 'out/x')
    """
    raw = config_to_dict(config)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value, e.g. train.epochs=2")
        key, text = item.split("=", 1)
        key = key.strip()
        parts = key.split(".")
        value = _parse_value(text.strip())
        if len(parts) == 1 and parts[0] in _TOP_LEVEL_STRINGS:
            raw[parts[0]] = value
            continue
        section = parts[0]
        if section not in _SECTIONS:
            known = [f"{s}.{f.name}" for s, c in _SECTIONS.items() for f in dataclasses.fields(c)]
            raise ConfigError(f"unknown config key {key!r}{did_you_mean(key, known)}")
        fields = {f.name for f in dataclasses.fields(_SECTIONS[section])}
        if len(parts) < 2 or parts[1] not in fields:
            raise unknown_key(_SECTIONS[section], ".".join(parts[1:]), section)
        if len(parts) == 2:
            raw[section][parts[1]] = value
        else:
            target = raw[section][parts[1]]
            if not isinstance(target, dict):
                raise ConfigError(f"{'.'.join(parts[:2])} is not a table; cannot set {key}")
            for part in parts[2:-1]:
                target = target.setdefault(part, {})
            target[parts[-1]] = value
    return config_from_dict(raw)
