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
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from tfface.io import atomic_write_text
from tfface.value_range import ValueRange

__all__ = [
    "ConfigError",
    "DataConfig",
    "ModelConfig",
    "TrainConfig",
    "RunConfig",
    "ExperimentConfig",
    "load_config",
    "save_config",
    "apply_overrides",
    "overrides_from",
    "toml_literal",
    "config_from_dict",
    "config_to_dict",
]


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message names it."""


def _choices(*values: str) -> dict:
    return {"choices": values}


def _at_least(bound: float) -> dict:
    return {"min": bound}


@dataclass(frozen=True)
class DataConfig:
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

    source: str = "synthetic"
    path: str | None = None
    image_size: tuple[int, int] | None = None
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

    def __post_init__(self):
        _validate(self, "data")


@dataclass(frozen=True)
class ModelConfig:
    """Which preset to build and which of its arguments to change.

    Args:
        preset: str. A registered preset name (`tfface presets` lists them).
            Defaults to "vae_demo".
        latent_dim: int or None. Overrides the preset's latent size.
        beta: float or None. Overrides the KL weight of VAE presets.
        reconstruction_loss: str or None. "mse" or "bce".
        args: dict. Any other preset keyword arguments.
    """

    preset: str = "vae_demo"
    latent_dim: int | None = field(default=None, metadata=_at_least(1))
    beta: float | None = field(default=None, metadata=_at_least(0.0))
    reconstruction_loss: str | None = field(default=None, metadata=_choices("mse", "bce"))
    args: dict = field(default_factory=dict)

    def __post_init__(self):
        _validate(self, "model")

    def preset_kwargs(self) -> dict[str, Any]:
        """The keyword arguments passed to the preset builder."""
        kwargs = dict(self.args)
        for name in ("latent_dim", "beta", "reconstruction_loss"):
            value = getattr(self, name)
            if value is not None:
                kwargs[name] = value
        return kwargs


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings.

    Args:
        epochs: int. Defaults to 10.
        batch_size: int. Global batch size (over all replicas and workers;
            must be a multiple of their number). Defaults to 64.
        learning_rate: float. Defaults to 1e-3.
        optimizer: str. "adam", "adamw", "sgd" or "rmsprop". Defaults to "adam".
        beta_1, beta_2: float. Adam moments. Defaults to 0.9, 0.999.
        kl_warmup_epochs: float. Linear KL warm-up from 0 to the model's beta
            over this many epochs (0 = off). Defaults to 0.
        steps_per_epoch: int or None. Limit batches per epoch.
        validation_steps: int or None. Limit validation batches.
        seed: int. Global seed (weights init, sampling). Defaults to 0.
        mixed_precision: str. "float32", "mixed_float16" (GPU; with dynamic
            loss scaling) or "mixed_bfloat16" (TPU, recent CPUs/GPUs).
            Defaults to "float32".
        jit_compile: str. XLA: "auto" (on for one GPU, off on CPU and with
            several devices per host), "on" or "off". Defaults to "auto".
        distribution: str. "default" (one device), "mirrored" (all GPUs of
            a host), "multi_worker" (hosts in TF_CONFIG) or "tpu".
            Defaults to "default".
        sync_batch_norm: bool. Under a distribution strategy with several
            replicas, BatchNorm statistics are computed over the global
            batch rather than each replica's share. Defaults to True.
        deterministic: bool. Enable TensorFlow op determinism. Defaults to False.
        early_stopping: dict. Stop when a logged metric stops improving:
            `{monitor = "val_loss", patience = 3, min_delta = 0.0, mode =
            "auto"}` ("min", "max" or "auto": max for accuracy, PSNR, SSIM).
            Empty = off. Its state is a function of the run's history, so it
            survives a kill and resume; `RUN/best/best.json` records it.
            Defaults to {}.
        keep_best: bool. Restore the weights of the best epoch of
            `early_stopping.monitor` (or "val_loss") at the end of the run,
            so `model.keras` and the export hold them. Defaults to False.
    """

    epochs: int = field(default=10, metadata=_at_least(1))
    batch_size: int = field(default=64, metadata=_at_least(1))
    learning_rate: float = field(default=1e-3, metadata={"min": 0.0, "exclusive_min": True})
    optimizer: str = field(default="adam", metadata=_choices("adam", "adamw", "sgd", "rmsprop"))
    beta_1: float = field(default=0.9, metadata={"min": 0.0, "max": 1.0})
    beta_2: float = field(default=0.999, metadata={"min": 0.0, "max": 1.0})
    kl_warmup_epochs: float = field(default=0.0, metadata=_at_least(0.0))
    steps_per_epoch: int | None = field(default=None, metadata=_at_least(1))
    validation_steps: int | None = field(default=None, metadata=_at_least(1))
    seed: int = 0
    mixed_precision: str = field(
        default="float32", metadata=_choices("float32", "mixed_float16", "mixed_bfloat16")
    )
    jit_compile: str = field(default="auto", metadata=_choices("auto", "on", "off"))
    distribution: str = field(
        default="default", metadata=_choices("default", "mirrored", "multi_worker", "tpu")
    )
    sync_batch_norm: bool = True
    deterministic: bool = False
    early_stopping: dict = field(default_factory=dict)
    keep_best: bool = False

    def __post_init__(self):
        _validate(self, "train")
        object.__setattr__(self, "early_stopping", _early_stopping(self.early_stopping))

    @property
    def monitor(self) -> str:
        """The metric that early stopping and `keep_best` follow."""
        return self.early_stopping.get("monitor", "val_loss")


EARLY_STOPPING_KEYS = {"monitor": str, "patience": int, "min_delta": float, "mode": str}


def _early_stopping(raw: Mapping[str, Any]) -> dict:
    """`train.early_stopping` checked: known keys, types, ranges; defaults filled."""
    if not raw:
        return {}
    out = {"monitor": "val_loss", "patience": 3, "min_delta": 0.0, "mode": "auto"}
    for key, value in raw.items():
        if key not in EARLY_STOPPING_KEYS:
            known = [f"train.early_stopping.{k}" for k in EARLY_STOPPING_KEYS]
            raise _unknown_key(f"train.early_stopping.{key}", known, "")
        out[key] = _coerce(value, EARLY_STOPPING_KEYS[key], f"train.early_stopping.{key}")
    if out["patience"] < 0:
        raise ConfigError(f"train.early_stopping.patience: must be >= 0, got {out['patience']!r}")
    if out["min_delta"] < 0:
        raise ConfigError(f"train.early_stopping.min_delta: must be >= 0, got {out['min_delta']!r}")
    if out["mode"] not in ("auto", "min", "max"):
        raise ConfigError(f"train.early_stopping.mode: {out['mode']!r} is not one of 'auto', 'min', 'max'")
    return out


@dataclass(frozen=True)
class RunConfig:
    """What a run writes and where.

    Args:
        dir: str. The run folder. Defaults to "runs/default".
        sample_grid: bool. Save the 25-image grid at the beginning and end of
            every epoch. Defaults to True.
        grid_rows: int. Rows and columns of the sample grid (5 → 25 images).
            Defaults to 5.
        sampler_fit_images: int. Training images whose codes fit the
            sampler of autoencoders' sample grids (refitted at every grid)
            and of the export's `sample` signature. Defaults to 256.
        reconstruction_grid: bool. Save originals above reconstructions each
            epoch. Defaults to True.
        save_model: bool. Save the `.keras` model. Defaults to True.
        export: bool. Write a SavedModel with serving signatures. Defaults to True.
        verbose: int. Keras progress: 0 silent, 1 progress bar, 2 one line per
            epoch. Defaults to 1.
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
    """

    dir: str = "runs/default"
    sample_grid: bool = True
    grid_rows: int = field(default=5, metadata=_at_least(1))
    sampler_fit_images: int = field(default=256, metadata=_at_least(2))
    reconstruction_grid: bool = True
    save_model: bool = True
    export: bool = True
    verbose: int = field(default=1, metadata={"choices": (0, 1, 2)})
    resume: bool = True
    checkpoint_every: int = field(default=1, metadata=_at_least(0))
    evaluate_split: str = field(default="validation", metadata=_choices("validation", "test", "train"))
    tensorboard: bool = True

    def __post_init__(self):
        _validate(self, "run")


@dataclass(frozen=True)
class ExperimentConfig:
    """A whole run: data, model, training and output sections."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    run: RunConfig = field(default_factory=RunConfig)
    name: str = ""
    description: str = ""

    def replace(self, **sections: Any) -> "ExperimentConfig":
        return dataclasses.replace(self, **sections)


_SECTIONS: dict[str, type] = {
    "data": DataConfig,
    "model": ModelConfig,
    "train": TrainConfig,
    "run": RunConfig,
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
        return "[" + ", ".join(_type_name(a) for a in typing.get_args(annotation)) + "]"
    return getattr(annotation, "__name__", str(annotation))


def _coerce(value: Any, annotation: Any, key: str) -> Any:
    """Checks `value` against a field annotation, converting where lossless."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(annotation)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(value, option, key)
            except ConfigError as error:
                errors.append(error)
        raise ConfigError(f"{key}: expected {_type_name(annotation)}, got {value!r}")
    if origin is tuple:
        items = typing.get_args(annotation)
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
        if isinstance(value, Mapping):
            return dict(value)
        raise ConfigError(f"{key}: expected a table/dict, got {value!r}")
    return value


def _validate(instance: Any, section: str) -> None:
    hints = typing.get_type_hints(type(instance))
    for f in dataclasses.fields(instance):
        key = f"{section}.{f.name}"
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
        object.__setattr__(instance, f.name, value)
    if section == "data" and instance.image_size and any(n < 1 for n in instance.image_size):
        raise ConfigError(f"data.image_size: must be positive, got {instance.image_size!r}")


def _unknown_key(key: str, known: Sequence[str], where: str) -> ConfigError:
    close = difflib.get_close_matches(key, list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown config key {key!r}{where}{hint}")


# ---------------------------------------------------------------- load / save


def config_from_dict(raw: Mapping[str, Any], source: str = "") -> ExperimentConfig:
    """Builds an ExperimentConfig from nested mappings, rejecting unknown keys."""
    where = f" in {source}" if source else ""
    sections: dict[str, Any] = {}
    known_top = list(_SECTIONS) + list(_TOP_LEVEL_STRINGS)
    for name, value in raw.items():
        if name in _TOP_LEVEL_STRINGS:
            sections[name] = _coerce(value, str, name)
            continue
        if name not in _SECTIONS:
            raise _unknown_key(name, known_top, where)
        if not isinstance(value, Mapping):
            raise ConfigError(f"{name}: expected a table of keys{where}, got {value!r}")
        cls = _SECTIONS[name]
        fields = {f.name for f in dataclasses.fields(cls)}
        for key in value:
            if key not in fields:
                raise _unknown_key(f"{name}.{key}", [f"{name}.{f}" for f in fields], where)
        try:
            sections[name] = cls(**value)
        except ConfigError as error:
            raise ConfigError(f"{error}{where}") from None
    return ExperimentConfig(**sections)


def config_to_dict(config: ExperimentConfig) -> dict[str, Any]:
    """The config as plain JSON-compatible nested dicts."""

    def plain(value: Any) -> Any:
        if isinstance(value, tuple):
            return list(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    out: dict[str, Any] = {}
    for name in _TOP_LEVEL_STRINGS:
        if getattr(config, name):
            out[name] = getattr(config, name)
    for name in _SECTIONS:
        section = getattr(config, name)
        out[name] = {f.name: plain(getattr(section, f.name)) for f in dataclasses.fields(section)}
    return out


def load_config(path: str | os.PathLike, overrides: Sequence[str] = ()) -> ExperimentConfig:
    """Reads a `.toml` or `.json` experiment config and applies overrides."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise ConfigError(f"config file not found: {path}")
    try:
        with open(path, "rb") as handle:
            if path.endswith(".json"):
                raw = json.load(handle)
            else:
                raw = tomllib.load(handle)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not valid {'JSON' if path.endswith('.json') else 'TOML'}: {error}")
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{path}: expected a table of sections at the top level")
    config = config_from_dict(raw, source=path)
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
            raise _unknown_key(key, [f"{s}.{f.name}" for s, c in _SECTIONS.items() for f in dataclasses.fields(c)], "")
        fields = {f.name for f in dataclasses.fields(_SECTIONS[section])}
        if len(parts) < 2 or parts[1] not in fields:
            raise _unknown_key(key, [f"{section}.{f}" for f in fields], "")
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
