"""A run folder's sampler: load `RUN/sampler.json` or fit one on the run's
training codes."""

from __future__ import annotations

import os
from typing import Any

from tfface.config import SAMPLER_FIT_COUNT
from tfface.imaging import save_grid
from tfface.presets import load_all
from tfface.sampling.attributes import (
    AttributeDirections,
    attribute_directions,
    generate_from_attributes,
    latent_attribute_names,
    parse_attribute_spec,
)
from tfface.sampling.interpolation import interpolation_strip
from tfface.sampling.latents import fit_sampler, generate
from tfface.sampling.samplers import LatentSampler, load_sampler, save_sampler


def default_sampler_kind(model, preset: str | None = None) -> str:
    """The sampler a model generates with by default: its preset's own
    (report 000's autoencoders: "diagonal", the report's "mean and standard
    deviation" of the codes), else "prior" for VAEs (Gaussian posterior) and
    "gaussian" (ex-post full covariance) for deterministic encoders, whose
    codes follow no prior."""
    presets = load_all() if preset else None
    if presets is not None and preset in presets and presets.get(preset).sampler:
        return presets.get(preset).sampler
    encoder = getattr(model, "encoder", None)
    return "prior" if getattr(encoder, "head", None) == "gaussian" else "gaussian"


def run_sampler_kind(run) -> str:
    """`default_sampler_kind` of a loaded run (its model and preset)."""
    config = getattr(run, "config", None)
    return default_sampler_kind(run.model, config.model.preset if config is not None else None)


def sampler_for_run(
    run,
    kind: str | None = None,
    *,
    refit: bool = False,
    limit: int | None = SAMPLER_FIT_COUNT,
    save: bool = True,
    **kwargs: Any,
) -> LatentSampler:
    """The run's sampler.

    Without `kind` and `refit`, `RUN/sampler.json` if it exists (for an
    export: the outputs folder's, else the published one); otherwise a
    sampler of `kind` (default: `run_sampler_kind`) fitted on the
    posterior means of up to `limit` training images and, if `save`, written
    to `sampler.json` in `run.outputs`. A saved sampler of another kind than the one asked
    for is refitted.

    Args:
        run: a `LoadedRun` (see `tfface.run.load_run`).
        kind: str or None. A registered sampler name.
        refit: bool. Fit even if a sampler is saved. Defaults to False.
        limit: int or None. Training images encoded. Defaults to
            `SAMPLER_FIT_COUNT` (10,000).
        save: bool. Write the fitted sampler to the run. Defaults to True.
        **kwargs: the sampler's constructor arguments (e.g. components=10).
    """
    path = run.outputs.sampler
    saved_path = next((p for p in (path, run.run_dir.sampler) if os.path.exists(p)), None)
    if not refit and saved_path is not None:
        saved = load_sampler(saved_path)
        same_args = all(saved.get_config().get(k) == v for k, v in kwargs.items())
        if (kind is None or saved.kind == kind) and same_args and saved.latent_dim == run.model.latent_dim:
            return saved
    kind = kind or run_sampler_kind(run)
    data = None if kind == "prior" else run.dataset("train", batch_size=256)
    sampler = fit_sampler(run.model, data, kind, limit=limit, **kwargs)
    if save:
        save_sampler(sampler, path)
    return sampler


def sample_grid(
    run,
    count: int = 25,
    *,
    seed: int = 0,
    temperature: float = 1.0,
    sampler: LatentSampler | None = None,
    path: str | os.PathLike | None = None,
) -> str:
    """Saves `count` generated faces as a grid PNG (default
    `RUN/samples/samples_<kind>_t<temperature>_s<seed>.png`) and returns its path.

    Args:
        run: a `LoadedRun`.
        count: int. Faces. Defaults to 25.
        seed: int. Seed of the codes. Defaults to 0.
        temperature: float. Scale of the draw; < 1 keeps codes closer to the
            centre. Defaults to 1.0.
        sampler: `LatentSampler` or None. Defaults to `sampler_for_run(run)`.
        path: str or None. Output PNG.
    """
    sampler = sampler or sampler_for_run(run)
    images = generate(run.model, sampler, count, seed=seed, temperature=temperature)
    path = path or os.path.join(run.outputs.samples, f"samples_{sampler.kind}_t{temperature:g}_s{seed}.png")
    return save_grid(path, images, run.value_range)


def interpolation_grid(
    run,
    rows: int = 4,
    *,
    steps: int = 8,
    method: str = "slerp",
    split: str = "validation",
    from_samples: bool = False,
    seed: int = 0,
    temperature: float = 1.0,
    sampler: LatentSampler | None = None,
    path: str | os.PathLike | None = None,
) -> str:
    """Saves `rows` interpolations between pairs of `split` faces (originals
    at both ends), or between pairs of sampled codes with `from_samples`, to
    `path` (default `RUN/samples/interpolation_<method>[_samples].png`).
    """
    if from_samples:
        codes = (sampler or sampler_for_run(run)).sample(2 * rows, seed=seed, temperature=temperature)
        start, end = codes[:rows], codes[rows:]
    else:
        images = run.images(split, 2 * rows)
        if len(images) < 2 * rows:
            raise ValueError(f"the {split} split has {len(images)} images; interpolating {rows} pairs needs {2 * rows}")
        start, end = images[:rows], images[rows:]
    path = path or os.path.join(run.outputs.samples, f"interpolation_{method}{'_samples' if from_samples else ''}.png")
    interpolation_strip(run.model, start, end, steps=steps, method=method, path=path)
    return os.fspath(path)


def attribute_faces(run, specs, *, path: str | os.PathLike | None = None) -> str:
    """Faces decoded from attribute lists by a classifier-encoder run (report
    000, Figure 7), one per spec: a list of names, "none" (nothing on) or
    "all"; saved to `path` (default `RUN/samples/attribute_faces.png`)."""
    names = latent_attribute_names(run.source("train").attribute_names, run.model.latent_dim)
    lists = []
    for spec in specs:
        if isinstance(spec, str):
            spec = ["all"] if spec.strip().lower() == "all" else parse_attribute_spec(spec)
        lists.append(list(spec))
    path = path or os.path.join(run.outputs.samples, "attribute_faces.png")
    generate_from_attributes(run.model, lists, names, path=path)
    return os.fspath(path)


def fit_run_directions(run, *, limit: int | None = 10000, save: bool = True) -> AttributeDirections:
    """Attribute directions of a run, fitted on up to `limit` labelled
    training images (mean code with each attribute minus mean code without),
    and, if `save`, written to `attribute_directions.json` in `run.outputs`,
    where `tfface export` and `tfface explore` find them."""
    source = run.source("train")
    if not source.attribute_names:
        raise ValueError(f"attribute directions: the {run.config.data.source!r} data has no attributes")
    data = run.dataset("train", batch_size=256, with_attributes=True, source=source)
    directions = attribute_directions(run.model, data, source.attribute_names, limit=limit)
    if save:
        os.makedirs(run.outputs.root, exist_ok=True)
        directions.save(run.outputs.attribute_directions)
    return directions


def run_directions(run) -> AttributeDirections | None:
    """The attribute directions a run (or an export) carries: its
    `attribute_directions.json` (for an export: the outputs folder's, else
    the published one in `assets.extra/`), or None."""
    found = next((p for p in (run.outputs.attribute_directions, run.run_dir.attribute_directions) if os.path.exists(p)), None)
    return None if found is None else AttributeDirections.load(found)
