"""Sweeps: train a list or grid of runs one after another, evaluate each,
then tabulate and compare them.

A sweep config is a TOML (or JSON) file:

```toml
name = "r001"
description = "Report 001: KL weight 1e-3 .. 1e-6"
output = "runs/sweeps/r001"   # each run writes output/<run name>/
base = "../r001_vae.toml"            # optional experiment config (relative to this file)
set = ["train.epochs=20"]            # optional overrides for every run

[model]                              # optional inline sections over `base`:
preset = "r001_vae"                  # data, model, train, run

[[runs]]                             # explicit runs ...
name = "lambda_1e-3"
set = ["model.beta=1e-3"]            # and/or preset = "..."

[grid]                               # ... and/or the product of value lists
"model.latent_dim" = [32, 64, 128]

[evaluate]                           # `tfface evaluate` options (EvaluationOptions)
split = "validation"

[table]
metrics = ["mse", "psnr"]            # keys of metrics.json, or final history keys ("val_loss")
sort_by = "psnr"
descending = true

[figures]
samples = true                       # side-by-side generated faces, one row per run
interpolation = true                 # side-by-side interpolations between the same two faces
loss_curves = true                   # every run's curves on one plot
count = 8
steps = 8
method = "slerp"
temperature = 1.0
seed = 0
```

Resumable: a run whose `metrics.json` exists and was written with the same
evaluation options is skipped; a trained but unevaluated run is only
evaluated; an interrupted run resumes from its checkpoint (see
`tfface.experiments.train`). Outputs in `output/`: `table.md`, `table.csv`,
`samples.png`, `interpolation.png`, `loss_curves.png`, `sweep.json`.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import keras

from tfface.callbacks.history import scale_loss_axis
from tfface.config import (
    ConfigError,
    EvaluationOptions,
    ExperimentConfig,
    Options,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    did_you_mean,
    from_dict,
    load_config,
    read_file,
    toml_literal,
)
from tfface.experiments.train_export import train
from tfface.imaging import tile
from tfface.io import atomic_path, atomic_write_text
from tfface.metrics.evaluate import PSNR_NOTE, evaluate_run
from tfface.metrics.report import csv_text, markdown_table, read_metrics
from tfface.presets import check_model_config
from tfface.run import RunDir, load_run
from tfface.sampling import generate, interpolation_strip, sampler_for_run
from tfface.value_range import ValueRange

logger = logging.getLogger(__name__)

DEFAULT_METRICS = ("mse", "psnr", "ssim")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+-]*$")


@dataclass(frozen=True)
class TableOptions(Options):
    """The `[table]` of a sweep: which metrics, in what order.

    Args:
        metrics: tuple of str. Keys of metrics.json or final history keys
            ("val_loss"). Defaults to ("mse", "psnr", "ssim").
        sort_by: str or None. Sort the rows by this metric. Defaults to None.
        descending: bool. Sort largest first. Defaults to False.
        labels: dict. Column headers by metric name. Defaults to {}.

    Example:

    >>> TableOptions.from_dict({"metrics": "psnr", "sort_by": "psnr"}).metrics
    ('psnr',)
    """

    section = "table"

    metrics: tuple[str, ...] = DEFAULT_METRICS
    sort_by: str | None = None
    descending: bool = False
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FigureOptions(Options):
    """The `[figures]` of a sweep: side-by-side comparisons of its runs.

    Args:
        samples: bool. Generated faces, one row per run. Defaults to True.
        interpolation: bool. Interpolations between the same two faces.
            Defaults to True.
        loss_curves: bool. Every run's curves on one plot. Defaults to True.
        count: int. Generated faces per run. Defaults to 8.
        steps: int. Interpolation columns. Defaults to 8.
        method: str. "slerp" or "linear". Defaults to "slerp".
        temperature: float. Sampling temperature. Defaults to 1.0.
        seed: int. Defaults to 0.
        split: str. Split of the interpolated faces. Defaults to "validation".

    Example:

    >>> FigureOptions.from_dict({"count": 4}).count
    4
    """

    section = "figures"

    samples: bool = True
    interpolation: bool = True
    loss_curves: bool = True
    count: int = field(default=8, metadata={"min": 1})
    steps: int = field(default=8, metadata={"min": 2})
    method: str = field(default="slerp", metadata={"choices": ("slerp", "linear")})
    temperature: float = field(default=1.0, metadata={"min": 0.0})
    seed: int = 0
    split: str = "validation"


@dataclass(frozen=True)
class RunSpec(Options):
    """One `[[runs]]` table: a name and/or a preset, and overrides.

    Args:
        name: str. The run's folder name; defaults to the preset.
        preset: str or None. Shorthand for `model.preset=...`.
        set: tuple of str. `section.key=value` overrides.
        description: str. Defaults to "".
    """

    name: str = ""
    preset: str | None = None
    set: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class SweepFile(Options):
    """A sweep config file as written (see the module docstring); `load_sweep`
    resolves it into a `Sweep`.

    Args:
        name, description, output: str. `output` defaults to
            runs/sweeps/<name>.
        base: str or None. Experiment config, relative to the sweep file.
        set: tuple of str. Overrides of every run.
        runs: tuple of `RunSpec`. Explicit runs.
        grid: dict. `"section.key" = [values]`; one run per combination.
        evaluate, table, figures: `EvaluationOptions`, `TableOptions`,
            `FigureOptions`.
        data, model, train, run: dict. Inline experiment sections over `base`.
    """

    name: str = ""
    description: str = ""
    output: str = ""
    base: str | None = None
    set: tuple[str, ...] = ()
    runs: tuple[RunSpec, ...] = ()
    grid: dict | None = None
    evaluate: EvaluationOptions = field(default_factory=EvaluationOptions)
    table: TableOptions = field(default_factory=TableOptions)
    figures: FigureOptions = field(default_factory=FigureOptions)
    data: dict = field(default_factory=dict)
    model: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)
    run: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its name, its overrides and its resolved config."""

    name: str
    overrides: tuple[str, ...]
    config: ExperimentConfig
    description: str = ""


@dataclass(frozen=True)
class Sweep:
    """A validated sweep config (see the module docstring)."""

    name: str
    output: str
    runs: tuple[SweepRun, ...]
    evaluate: EvaluationOptions = field(default_factory=EvaluationOptions)
    table: TableOptions = field(default_factory=TableOptions)
    figures: FigureOptions = field(default_factory=FigureOptions)
    description: str = ""
    source: str = ""

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.table.metrics

    def run(self, name: str) -> SweepRun:
        """The run called `name` (a KeyError with the closest name if there is none)."""
        for item in self.runs:
            if item.name == name:
                return item
        raise KeyError(f"sweep {self.name!r} has no run {name!r}{did_you_mean(name, [r.name for r in self.runs])}")


def _error(where: str, message: str) -> ConfigError:
    return ConfigError(f"{where}: {message}")


def _grid_runs(grid: Mapping, where: str) -> list[tuple[str, tuple[str, ...]]]:
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise _error(where, f"grid.{key!r}: expected a non-empty list of values, got {values!r}")
    keys = list(grid)
    runs = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        name = "_".join(f"{k.split('.')[-1]}={_short(v)}" for k, v in zip(keys, combo))
        runs.append((name, tuple(f"{k}={toml_literal(v)}" for k, v in zip(keys, combo))))
    return runs


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "x".join(_short(v) for v in value)
    return str(value)


def load_sweep(path: str | os.PathLike, overrides: Sequence[str] = (), output: str | None = None) -> Sweep:
    """Reads and validates a sweep config; resolves every run's experiment config.

    Errors are `ConfigError`s naming the file and the key.

    Args:
        path: str. The sweep file (.toml or .json).
        overrides: list of str. `section.key=value` applied to every run
            (after the sweep's own), e.g. `data.path=/data/ffhq`.
        output: str or None. Overrides the sweep's `output` folder.
    """
    path = os.fspath(path)
    where = path
    try:
        spec = from_dict(SweepFile, read_file(path, "sweep config"))
    except ConfigError as error:
        raise _error(where, str(error)) from None
    name = spec.name or os.path.splitext(os.path.basename(path))[0]
    output = output or spec.output or os.path.join("runs", "sweeps", name)

    base = ExperimentConfig()
    if spec.base is not None:
        base = load_config(os.path.join(os.path.dirname(os.path.abspath(path)), spec.base))
    inline = {k: getattr(spec, k) for k in ("data", "model", "train", "run") if getattr(spec, k)}
    if inline:
        merged = config_to_dict(base)
        for section, values in inline.items():
            merged[section].update(values)
        base = config_from_dict(merged, source=path)

    specs: list[tuple[str, tuple[str, ...], str]] = []
    for index, item in enumerate(spec.runs):
        sets = list(item.set)
        if item.preset is not None:
            sets.insert(0, f"model.preset={toml_literal(item.preset)}")
        run_name = item.name or item.preset
        if not run_name:
            raise _error(where, f"runs[{index}]: needs a name (or a preset to name it after)")
        specs.append((run_name, tuple(sets), item.description))
    if spec.grid is not None:
        if not spec.grid:
            raise _error(where, "grid: expected a table of 'section.key' = [values]")
        specs += [(n, s, "") for n, s in _grid_runs(spec.grid, where)]
    if not specs:
        raise _error(where, "no runs: add [[runs]] tables or a [grid] table")

    seen: set[str] = set()
    runs = []
    for run_name, sets, description in specs:
        if not _NAME.match(run_name):
            raise _error(where, f"run name {run_name!r}: use letters, digits and _ . = + - (it names a folder)")
        if run_name in seen:
            raise _error(where, f"run name {run_name!r} appears twice")
        seen.add(run_name)
        try:
            config = apply_overrides(
                base,
                [*spec.set, *sets, *overrides, f"run.dir={toml_literal(os.path.join(output, run_name))}",
                 f"name={toml_literal(run_name)}"],
            )
        except ConfigError as error:
            raise _error(where, f"run {run_name!r}: {error}") from None
        runs.append(SweepRun(run_name, tuple(sets), config, description))

    generation = [n for n in spec.table.metrics if n in ("fid", "kid", "kid_std")]
    if generation and not spec.evaluate.fid:
        raise _error(where, f"table.metrics lists {', '.join(generation)} but [evaluate] fid is not true")
    return Sweep(
        name=name,
        output=output,
        runs=tuple(runs),
        evaluate=spec.evaluate,
        table=spec.table,
        figures=spec.figures,
        description=spec.description,
        source=path,
    )


def check_presets(sweep: Sweep) -> None:
    """Raises `ConfigError` naming the run whose preset is not registered or
    does not take one of its `[model]` keys, before anything is trained."""
    for item in sweep.runs:
        try:
            check_model_config(item.config.model)
        except ConfigError as error:
            raise ConfigError(f"sweep {sweep.name!r}, run {item.name!r}: {error}") from None


# ---------------------------------------------------------------- running


@dataclass
class SweepResult:
    """What `run_sweep` did and wrote."""

    rows: list[dict]
    trained: list[str]
    evaluated: list[str]
    skipped: list[str]
    files: dict[str, str]


def _finished(item: SweepRun, options: dict) -> bool:
    run = RunDir(item.config.run.dir)
    if not (os.path.exists(run.metrics_json) and os.path.exists(run.model) and os.path.exists(run.config)):
        return False
    stored = read_metrics(run.metrics_json)
    same_config = config_to_dict(load_config(run.config)) == config_to_dict(item.config)
    return same_config and stored.get("options") == options


def _trained(item: SweepRun) -> bool:
    run = RunDir(item.config.run.dir)
    if not (os.path.exists(run.model) and os.path.exists(run.config) and os.path.exists(run.history_json)):
        return False
    return config_to_dict(load_config(run.config)) == config_to_dict(item.config)


def run_sweep(
    sweep: Sweep,
    *,
    only: Sequence[str] | None = None,
    force: bool = False,
    figures: bool = True,
    log: Callable[[str], None] = logger.info,
) -> SweepResult:
    """Trains, evaluates, tabulates and compares the sweep's runs.

    Args:
        sweep: a `Sweep` from `load_sweep`.
        only: list of run names or None. Restrict training to these runs
            (the table still lists every finished run).
        force: bool. Evaluate again even finished runs (training itself
            resumes or is skipped by `train`). Defaults to False.
        figures: bool. Write the comparison figures. Defaults to True.
        log: callable. Progress messages. Defaults to this module's logger
            (`INFO`; the `tfface` command shows it).
    """
    check_presets(sweep)
    selected = [sweep.run(n) for n in only] if only else list(sweep.runs)
    options = sweep.evaluate
    trained, evaluated, skipped = [], [], []
    os.makedirs(sweep.output, exist_ok=True)
    for index, item in enumerate(selected, 1):
        prefix = f"[{index}/{len(selected)}] {item.name}"
        if not force and _finished(item, options.to_dict()):
            log(f"{prefix}: finished, skipped ({item.config.run.dir})")
            skipped.append(item.name)
            continue
        keras.backend.clear_session()
        if _trained(item):
            log(f"{prefix}: trained, evaluating")
        else:
            log(f"{prefix}: training {' '.join(item.overrides) or '(base config)'}")
            train(item.config)
            trained.append(item.name)
        keras.backend.clear_session()
        evaluate_run(item.config.run.dir, options)
        evaluated.append(item.name)
    result = SweepResult(collect_rows(sweep), trained, evaluated, skipped, {})
    result.files.update(write_table(sweep, result.rows))
    if figures:
        result.files.update(write_figures(sweep))
    summary = {"name": sweep.name, "source": sweep.source, "description": sweep.description,
               "runs": [{"name": r.name, "overrides": list(r.overrides), "dir": r.config.run.dir} for r in sweep.runs],
               "evaluate": options.to_dict(), "table": sweep.table.to_dict(), "figures": sweep.figures.to_dict()}
    path = os.path.join(sweep.output, "sweep.json")
    atomic_write_text(path, json.dumps(summary, indent=2) + "\n")
    result.files["sweep"] = path
    return result


def _swept_values(item: SweepRun) -> dict[str, Any]:
    values = {}
    for override in item.overrides:
        key, _, text = override.partition("=")
        values[key.strip()] = text.strip().strip('"').strip("'")
    return values


def collect_rows(sweep: Sweep) -> list[dict]:
    """One row per run with a metrics.json: name, swept values, metrics, final history."""
    rows = []
    for item in sweep.runs:
        run = RunDir(item.config.run.dir)
        if not os.path.exists(run.metrics_json):
            continue
        stored = read_metrics(run.metrics_json)
        row = {"run": item.name, **_swept_values(item)}
        row.update({k: v for k, v in stored.get("history", {}).items()})
        row.update(stored.get("metrics", {}))
        rows.append(row)
    sort_by = sweep.table.sort_by
    if sort_by:
        missing = [r["run"] for r in rows if not isinstance(r.get(sort_by), (int, float))]
        if missing:
            raise ValueError(f"table.sort_by={sort_by!r}: runs {', '.join(missing)} have no such metric")
        rows.sort(key=lambda r: r[sort_by], reverse=sweep.table.descending)
    return rows


def table_columns(sweep: Sweep, rows: Sequence[Mapping]) -> list[str]:
    swept = []
    for item in sweep.runs:
        for key in _swept_values(item):
            if key not in swept and len({_swept_values(r).get(key) for r in sweep.runs}) > 1:
                swept.append(key)
    return ["run", *swept, *sweep.metrics]


def write_table(sweep: Sweep, rows: Sequence[Mapping]) -> dict[str, str]:
    """`output/table.md` (with the sweep's description and protocol) and `output/table.csv`."""
    columns = table_columns(sweep, rows)
    for name in sweep.metrics:
        missing = [r["run"] for r in rows if name not in r]
        if missing:
            raise ValueError(f"table.metrics: {name!r} is not in metrics.json or the history of {', '.join(missing)}")
    labels = dict(sweep.table.labels)
    text = [f"# {sweep.name}", ""]
    if sweep.description:
        text += [sweep.description, ""]
    text += [markdown_table(rows, columns, labels), ""]
    pending = [r.name for r in sweep.runs if r.name not in {row["run"] for row in rows}]
    if pending:
        text += [f"Not finished yet: {', '.join(pending)}.", ""]
    text += [f"Metrics on the `{sweep.evaluate.split or 'validation'}` split. {PSNR_NOTE}", ""]
    text += _protocol_lines(sweep)
    md = os.path.join(sweep.output, "table.md")
    csv_path = os.path.join(sweep.output, "table.csv")
    atomic_write_text(md, "\n".join(text))
    atomic_write_text(csv_path, csv_text(rows, columns))
    return {"table_md": md, "table_csv": csv_path}


def _protocol_lines(sweep: Sweep) -> list[str]:
    """The evaluation protocol of each finished run (image counts, sizes,
    FID weights), one line per distinct protocol."""
    seen: dict[str, list[str]] = {}
    for item in sweep.runs:
        path = RunDir(item.config.run.dir).metrics_json
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                protocol = json.load(handle).get("protocol", {})
            line = ", ".join(f"{k}={v}" for k, v in protocol.items())
            seen.setdefault(line, []).append(item.name)
    if not seen:
        return []
    if len(seen) == 1:
        return [f"Protocol: {next(iter(seen))}.", ""]
    return ["Protocol:", ""] + [f"- {', '.join(names)}: {line}" for line, names in seen.items()] + [""]


def write_figures(sweep: Sweep) -> dict[str, str]:
    """Side-by-side comparisons of the finished runs: generated faces and
    interpolations (one row per run, same seed / same two faces) and all
    loss curves on one plot."""
    spec = sweep.figures
    finished = [r for r in sweep.runs if os.path.exists(os.path.join(r.config.run.dir, "metrics.json"))]
    files: dict[str, str] = {}
    if not finished:
        return files
    samples, strips, histories = {}, {}, {}
    for item in finished:
        keras.backend.clear_session()
        loaded = load_run(item.config.run.dir)
        pad = 2
        if spec.samples:
            sampler = sampler_for_run(loaded, sweep.evaluate.sampler)
            images = generate(loaded.model, sampler, spec.count, seed=spec.seed, temperature=spec.temperature)
            samples[item.name] = tile(ValueRange.parse(loaded.value_range).to_uint8(images), 1, len(images), pad=pad)
        if spec.interpolation:
            ends = loaded.images(spec.split, 2)
            if len(ends) == 2:
                strip = interpolation_strip(loaded.model, ends[:1], ends[1:], steps=spec.steps, method=spec.method)
                strips[item.name] = tile(ValueRange.parse(loaded.value_range).to_uint8(strip), 1, len(strip), pad=pad)
        if os.path.exists(loaded.run_dir.history_json):
            with open(loaded.run_dir.history_json, encoding="utf-8") as handle:
                histories[item.name] = json.load(handle)
    if samples:
        files["samples"] = _stacked_figure(samples, os.path.join(sweep.output, "samples.png"), f"{sweep.name}: generated faces")
    if strips:
        files["interpolation"] = _stacked_figure(strips, os.path.join(sweep.output, "interpolation.png"),
                                                 f"{sweep.name}: {spec.method} interpolation")
    if spec.loss_curves and histories:
        files["loss_curves"] = _loss_figure(histories, os.path.join(sweep.output, "loss_curves.png"), sweep.name)
    return files


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save_figure(fig, path: str) -> str:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def _stacked_figure(rows: Mapping[str, Any], path: str, title: str) -> str:
    """One labelled image row per run."""
    plt = _pyplot()
    widest = max(image.shape[1] for image in rows.values())
    height = sum(image.shape[0] for image in rows.values())
    scale = 10.0 / max(widest, 1)
    fig, axes = plt.subplots(len(rows), 1, figsize=(10.0 + 1.6, max(height * scale, 1.0) + 0.5), squeeze=False)
    for ax, (name, image) in zip(axes[:, 0], rows.items()):
        ax.imshow(image)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    fig.suptitle(title, fontsize=10)
    return _save_figure(fig, path)


def _loss_figure(histories: Mapping[str, Mapping[str, list]], path: str, title: str) -> str:
    plt = _pyplot()
    terms = sorted({k for h in histories.values() for k in h if "loss" in k and not k.startswith("val_")})
    fig, axes = plt.subplots(1, max(len(terms), 1), figsize=(4.5 * max(len(terms), 1), 3.4), squeeze=False)
    for ax, term in zip(axes[0], terms):
        for index, (name, history) in enumerate(histories.items()):
            colour = f"C{index % 10}"
            if term in history:
                ax.plot(range(1, len(history[term]) + 1), history[term], color=colour, marker="o", markersize=3, label=name)
            if f"val_{term}" in history:
                ax.plot(range(1, len(history[f"val_{term}"]) + 1), history[f"val_{term}"], color=colour, marker="o", markersize=3, linestyle="--")
        ax.set_title(f"{term} (dashed: validation)", fontsize=9)
        ax.set_xlabel("epoch")
        values = [v for h in histories.values() for k in (term, f"val_{term}") for v in h.get(k, [])]
        scale_loss_axis(ax, values, later=[v for h in histories.values() for k in (term, f"val_{term}") for v in h.get(k, [])[1:]])
    axes[0][0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save_figure(fig, path)


__all__ = ["FigureOptions", "RunSpec", "Sweep", "SweepFile", "SweepResult", "SweepRun", "TableOptions", "check_presets", "collect_rows", "load_sweep", "run_sweep", "write_figures", "write_table"]
