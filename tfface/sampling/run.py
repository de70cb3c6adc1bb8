"""A run folder's sampler: load `RUN/sampler.json` or fit one on the run's
training codes."""

from __future__ import annotations

import os
from typing import Any

from tfface.sampling.latents import fit_sampler
from tfface.sampling.samplers import LatentSampler, load_sampler, save_sampler


def default_sampler_kind(model) -> str:
    """"prior" for VAEs (Gaussian posterior), "gaussian" (ex-post full
    covariance) for deterministic encoders, whose codes follow no prior."""
    encoder = getattr(model, "encoder", None)
    return "prior" if getattr(encoder, "head", None) == "gaussian" else "gaussian"


def sampler_for_run(
    run,
    kind: str | None = None,
    *,
    refit: bool = False,
    limit: int | None = 10000,
    save: bool = True,
    **kwargs: Any,
) -> LatentSampler:
    """The run's sampler.

    Without `kind` and `refit`, `RUN/sampler.json` if it exists; otherwise a
    sampler of `kind` (default: `default_sampler_kind`) fitted on the
    posterior means of up to `limit` training images and, if `save`, written
    to `RUN/sampler.json`. A saved sampler of another kind than the one asked
    for is refitted.

    Args:
        run: a `LoadedRun` (see `tfface.training.load_run`).
        kind: str or None. A registered sampler name.
        refit: bool. Fit even if a sampler is saved. Defaults to False.
        limit: int or None. Training images encoded. Defaults to 10000.
        save: bool. Write the fitted sampler to the run. Defaults to True.
        **kwargs: the sampler's constructor arguments (e.g. components=10).
    """
    path = run.run_dir.sampler
    if not refit and os.path.exists(path):
        saved = load_sampler(path)
        same_args = all(saved.get_config().get(k) == v for k, v in kwargs.items())
        if (kind is None or saved.kind == kind) and same_args and saved.latent_dim == run.model.latent_dim:
            return saved
    kind = kind or default_sampler_kind(run.model)
    data = None if kind == "prior" else run.dataset("train", batch_size=256)
    sampler = fit_sampler(run.model, data, kind, limit=limit, **kwargs)
    if save:
        save_sampler(sampler, path)
    return sampler
