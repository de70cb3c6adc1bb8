"""Export a run folder for serving: `OUT/<version>/` in TF Serving's layout,
verified before it is published. The library function behind `tfface export`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import keras

from tfface.config import SAMPLER_FIT_COUNT
from tfface.export.savedmodel import ServingOptions, export_savedmodel, signature_docs
from tfface.export.verify import verify_export
from tfface.io import recover_directories
from tfface.run import ASSETS_EXTRA, LoadedRun, load_run, next_version, versions
from tfface.sampling.run import run_directions, sampler_for_run


@dataclass
class ExportResult:
    """What `export_run` wrote.

    Attributes:
        path: the version folder `OUT/<version>`.
        version: int.
        sampler: the `LatentSampler` behind `sample`, or None.
        signatures: {name: `SignatureDoc`}.
        verification: a `Verification`, or None when skipped.
    """

    path: str
    version: int
    sampler: Any
    signatures: dict
    verification: Any = None

    @property
    def assets_extra(self) -> str:
        return os.path.join(self.path, ASSETS_EXTRA)


def load_trained_policy(loaded: LoadedRun) -> LoadedRun:
    """`loaded` with its model reloaded under the policy the run trained in
    (`train.mixed_precision` of its config; a `model.keras` computes in the
    policy in force when it is loaded), for `precision="training"` exports.
    The global policy is restored."""
    policy = loaded.config.train.mixed_precision
    if policy not in ("mixed_float16", "mixed_bfloat16"):  # float32, or "auto" not resolved by the run
        return loaded
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy(policy)
        model = keras.saving.load_model(loaded.run_dir.model, compile=False)
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return LoadedRun(loaded.run_dir, loaded.config, model, loaded.outputs)


def export_run(
    run,
    out: str | os.PathLike,
    *,
    version: int | None = None,
    options: ServingOptions = ServingOptions(),
    sampler: str | None = "auto",
    verify: bool = True,
    force: bool = False,
    fit_limit: int | None = SAMPLER_FIT_COUNT,
) -> ExportResult:
    """Exports a finished run (or an earlier export) to `out/<version>/`.

    The SavedModel carries the signatures of `tfface.export.savedmodel`;
    `assets.extra/` holds a copy of `RUN/model.keras`, the run's config and
    the sampler behind `sample` and the run's attribute directions (if
    fitted, `tfface sample RUN directions`), so
    `tfface.run.load_run(out/<version>)` reopens it. With `verify`, the folder is checked (see `verify_export`)
    under its temporary name and published only if it passes.

    Args:
        run: a run folder, an export version folder or a `LoadedRun`.
        out: str. The model base path given to TF Serving.
        version: int or None. The version folder; None takes the next free
            one. An existing version is refused unless `force`.
        options: `ServingOptions`. Image dtype, `sample` limits and
            precision ("training" reloads the model under the run's policy).
        sampler: str or None. "auto": `RUN/sampler.json` if there is one,
            else the prior for VAEs and an ex-post Gaussian fitted on up to
            `fit_limit` training codes for autoencoders (the default of
            `tfface sample`); a sampler kind to use or fit that one; None
            for no `sample` signature.
        verify: bool. Verify before publishing. Defaults to True.
        force: bool. Replace an existing version. Defaults to False.
        fit_limit: int or None. Training images encoded to fit a sampler.
            Defaults to `SAMPLER_FIT_COUNT` (10,000).

    Returns:
        An `ExportResult`.
    """
    out = os.fspath(out)
    recover_directories(out)  # a version moved aside by a killed --force swap is put back, not reused
    if version is None:
        version = next_version(out)
    elif int(version) < 1:
        raise ValueError(f"--version must be a positive integer, got {version}")
    path = os.path.join(out, str(int(version)))
    if os.path.exists(path) and not force:
        raise ValueError(f"{path} already exists: pick another --version (next free: {next_version(out)}) or pass --force")
    loaded = run if isinstance(run, LoadedRun) else load_run(run)
    if options.precision == "training":
        loaded = load_trained_policy(loaded)
    fitted = None
    if sampler is not None:
        fitted = sampler_for_run(loaded, None if sampler == "auto" else sampler, limit=fit_limit, save=False)
    model = loaded.model
    verification = {}

    def check(tmp: str) -> None:
        verification["result"] = verify_export(model, tmp, fitted, options)

    export_savedmodel(
        model,
        path,
        sampler=fitted,
        options=options,
        config=loaded.config,
        keras_file=loaded.run_dir.model,
        check=check if verify else None,
        directions=run_directions(loaded),
    )
    if "result" in verification:
        verification["result"].path = path
    docs = signature_docs(model, options, with_sample=fitted is not None)
    return ExportResult(path, int(version), fitted, docs, verification.get("result"))
