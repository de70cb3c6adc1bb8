"""Named presets: each is a builder function over the shared trunks.

A preset module per report registers its builders with `@register_preset`;
every module in this package is imported on first use, so adding a module
adds its presets. `tfface presets` lists them. docs/reports.md sets every
report's stated numbers beside the preset or config that holds them; each
registered preset has a row there.

Example:

>>> from tfface.presets import PRESETS, build_preset
>>> "vae_demo" in PRESETS
True
>>> model = build_preset("vae_demo", latent_dim=16)
>>> model.latent_dim
16
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from dataclasses import dataclass, field
from typing import Any, Callable

from tfface.config import ConfigError, ModelConfig
from tfface.registry import Registry
from tfface.value_range import ValueRange


@dataclass(frozen=True)
class Preset:
    """A registered preset.

    Attributes:
        name: the preset's name.
        builder: callable(**kwargs) → a built `LatentAutoencoder` (or
            classifier); takes `image_size` and the preset's own arguments.
        image_size: (height, width) the preset was designed for.
        report: which report and section it mirrors, or "" for tfface's own.
        value_range: "0_1" or "-1_1": the data range the model expects.
        recipe: the report's training recipe (learning rate, batch, epochs,
            loss, optimizer betas...), used by `pipelines/` configs.
        sampler: the latent sampler its runs generate with by default (sample
            grids, `tfface sample`, the export's `sample` signature), or ""
            for the model family's default (`prior` for VAEs, `gaussian`
            for autoencoders).
        summary: one line, from the builder's docstring.
    """

    name: str
    builder: Callable[..., Any]
    image_size: tuple[int, int]
    report: str = ""
    value_range: ValueRange = ValueRange.ZERO_ONE
    recipe: dict = field(default_factory=dict)
    sampler: str = ""

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.builder) or ""
        return doc.splitlines()[0] if doc else ""

    def build(self, **kwargs: Any):
        kwargs.setdefault("image_size", self.image_size)
        return self.builder(**kwargs)


PRESETS: Registry[Preset] = Registry("preset")
#: What a builder's `**loss_terms` takes: `LatentAutoencoder`'s optional
#: perceptual and adversarial terms.
LOSS_TERM_ARGUMENTS = (
    "perceptual_weight",
    "perceptual_weights",
    "adversarial_weight",
    "adversarial_start",
    "discriminator_layers",
    "discriminator_width",
    "discriminator_norm",
    "discriminator_augment",
    "discriminator_spectral_norm",
    "discriminator_every",
    "lecam_weight",
    "lecam_decay",
    "r1_weight",
    "r1_every",
    "feature_matching_weight",
)
_loaded = False


def register_preset(
    name: str,
    *,
    image_size: tuple[int, int],
    report: str = "",
    value_range: str | ValueRange = ValueRange.ZERO_ONE,
    recipe: dict | None = None,
    sampler: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Registers a builder function as a named preset."""

    def decorate(builder: Callable[..., Any]) -> Callable[..., Any]:
        PRESETS.register(
            name,
            Preset(
                name=name,
                builder=builder,
                image_size=tuple(image_size),
                report=report,
                value_range=ValueRange.parse(value_range),
                recipe=dict(recipe or {}),
                sampler=sampler,
            ),
        )
        return builder

    return decorate


def load_all() -> Registry[Preset]:
    """Imports every preset module of this package (once)."""
    global _loaded
    if not _loaded:
        for module in pkgutil.iter_modules(__path__):
            importlib.import_module(f"{__name__}.{module.name}")
        _loaded = True
    return PRESETS


def get_preset(name: str) -> Preset:
    """The registered `Preset` called `name` (an error lists the known names)."""
    return load_all().get(name)


def divisible_size(image_size, factor: int, name: str) -> tuple[int, int]:
    """(height, width) of `image_size`, or ValueError naming the preset when
    a side is not divisible by `factor` (its total downsampling)."""
    height, width = int(image_size[0]), int(image_size[1])
    if height % factor or width % factor:
        raise ValueError(f"{name}: image_size {height}x{width} must be divisible by {factor}")
    return height, width


def preset_arguments(name: str) -> tuple[str, ...] | None:
    """The keyword arguments the named preset's builder takes, or None when
    it takes any (`**kwargs`). A builder's `**loss_terms` takes exactly the
    optional loss terms of `LatentAutoencoder` (`LOSS_TERM_ARGUMENTS`)."""
    parameters = inspect.signature(get_preset(name).builder).parameters.values()
    named = tuple(p.name for p in parameters if p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD))
    for p in parameters:
        if p.kind is inspect.Parameter.VAR_KEYWORD:
            return named + LOSS_TERM_ARGUMENTS if p.name == "loss_terms" else None
    return named


def check_model_config(model: ModelConfig) -> None:
    """Raises `ConfigError` naming the key when the `[model]` section sets
    an argument its preset does not take (a `model.<key>` field or a key of
    `model.args`), or names an unknown preset; run before any data is read.

    Example:

    >>> check_model_config(ModelConfig(preset="ae_demo", beta=1.0))
    Traceback (most recent call last):
    ...
    tfface.config.ConfigError: model.beta: preset 'ae_demo' takes no argument 'beta'; its arguments: image_size, latent_dim, widths, reconstruction_loss, input_noise_stddev, seed, ...
    """
    try:
        accepted = preset_arguments(model.preset)
    except KeyError as error:
        raise ConfigError(f"model.preset: {error.args[0]}") from None
    if accepted is None:
        return
    fields = set(ModelConfig.__dataclass_fields__)
    for key in model.preset_kwargs():
        if key not in accepted:
            name = f"model.{key}" if key in fields and key not in model.args else f"model.args.{key}"
            raise ConfigError(
                f"{name}: preset {model.preset!r} takes no argument {key!r}; its arguments: {', '.join(accepted)}"
            )


def build_preset(name: str, **kwargs: Any):
    """Builds the named preset's model; kwargs override its arguments."""
    preset = get_preset(name)
    try:
        return preset.build(**kwargs)
    except TypeError as error:
        params = ", ".join(inspect.signature(preset.builder).parameters)
        raise TypeError(f"preset {name!r}: {error}. Its arguments: {params}") from None


__all__ = [
    "PRESETS",
    "Preset",
    "build_preset",
    "LOSS_TERM_ARGUMENTS",
    "check_model_config",
    "divisible_size",
    "get_preset",
    "load_all",
    "preset_arguments",
    "register_preset",
]
