"""Running tfface from a notebook (Colab or Jupyter): the accelerator and its
precision, run folders on Google Drive, the repository's `pipelines/`
configs, and run images shown inline while and after training.

The `colab/` notebooks call only these functions and the rest of tfface.

Example:

>>> accelerator = detect_accelerator()
>>> accelerator.mixed_precision in ("mixed_float16", "mixed_bfloat16", "float32")
True
>>> precision_for("gpu", (7, 5)), precision_for("gpu", (8, 0)), precision_for("gpu", (6, 0))
('mixed_float16', 'mixed_bfloat16', 'float32')

The notebooks pass `train.mixed_precision="auto"`: the policy is chosen
where the step runs (`tfface.training.precision`), so a Drive-backed run
that reconnects on another runtime type continues under that one's policy.
"""

from __future__ import annotations

import base64
import glob
import html
import importlib.util
import os
import subprocess
import sys
from typing import Sequence

import keras
import tensorflow as tf

from tfface.config import load_config, overrides_from
from tfface.experiments import load_sweep, run_sweep, train
from tfface.explore import Limits, ServeOptions
from tfface.explore import explore as serve_explorer
from tfface.run import RunDir
from tfface.training import precision
from tfface.training.precision import Device as Accelerator
from tfface.training.precision import precision_for

__all__ = [
    "Accelerator",
    "ShowGrids",
    "clone_repository",
    "detect_accelerator",
    "explore",
    "grid_files",
    "in_colab",
    "pipelines_dir",
    "precision_for",
    "run_experiment",
    "run_root",
    "run_sweep_config",
    "show_run",
    "show_images",
    "show_markdown",
]

DRIVE_MOUNT = "/content/drive"


def detect_accelerator() -> Accelerator:
    """The device this notebook trains on (`tfface.training.precision.detect_device`):
    the first visible GPU (name, compute capability), else the CPU. Printed,
    it says what `train.mixed_precision="auto"` resolves to there."""
    return precision.detect_device()


def in_colab() -> bool:
    """Whether this Python runs inside a Google Colab kernel."""
    if "google.colab" in sys.modules:
        return True
    try:
        return importlib.util.find_spec("google.colab") is not None
    except ModuleNotFoundError:  # no `google` namespace package at all
        return False


def run_root(local: str = "runs", use_drive: bool = False, drive_folder: str = "tfface") -> str:
    """The folder that holds a notebook's run folders.

    With `use_drive` inside Colab, Google Drive is mounted (once) and the
    folder is `MyDrive/<drive_folder>`, so checkpoints survive a disconnect;
    elsewhere (or without `use_drive`) it is `local`.
    """
    root = local
    if use_drive:
        if in_colab():
            from google.colab import drive

            if not os.path.isdir(os.path.join(DRIVE_MOUNT, "MyDrive")):
                drive.mount(DRIVE_MOUNT)
            root = os.path.join(DRIVE_MOUNT, "MyDrive", drive_folder)
        else:
            print(f"not running in Colab: Google Drive is not mounted, runs stay in {os.path.abspath(local)}")
    os.makedirs(root, exist_ok=True)
    return root


# ---------------------------------------------------------------- pipelines


def _split_repository(repository: str) -> tuple[str, str | None]:
    """`git+URL[@REF][#fragment]` (pip's form) → (URL, REF or None)."""
    url = repository.split("#", 1)[0]
    if url.startswith("git+"):
        url = url[len("git+"):]
    head, _, last = url.rpartition("/")
    if "@" in last:
        last, ref = last.split("@", 1)
        return f"{head}/{last}", ref or None
    return url, None


def clone_repository(repository: str, directory: str) -> str:
    """A shallow clone of `repository` (a git URL, optionally in pip's
    `git+URL@REF` form) in `directory`; an existing clone is reused."""
    if os.path.isdir(os.path.join(directory, ".git")):
        return directory
    url, ref = _split_repository(repository)
    command = ["git", "clone", "--quiet", "--depth", "1", *(["--branch", ref] if ref else []), url, directory]
    try:
        subprocess.run(command, check=True, capture_output=True, text=True)
    except FileNotFoundError:
        raise RuntimeError(f"cannot fetch the pipeline configs from {url}: git is not installed") from None
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"git clone {url} failed: {error.stderr.strip()}") from None
    return directory


def _checkout_pipelines() -> str | None:
    package = os.path.dirname(os.path.abspath(__file__))
    candidate = os.path.join(os.path.dirname(package), "pipelines")
    return candidate if os.path.isfile(os.path.join(candidate, "demo.toml")) else None


def pipelines_dir(repository: str | None = None, cache_dir: str | None = None) -> str:
    """The repository's `pipelines/` folder (experiment and sweep configs).

    A source checkout (editable install or `PYTHONPATH`) has it next to the
    package; a `pip install git+...` does not, so the repository is cloned
    once into `cache_dir` (default `~/.cache/tfface/repository`).
    """
    found = _checkout_pipelines()
    if found:
        return found
    if not repository:
        raise FileNotFoundError("tfface is not a source checkout: pass repository= to fetch the pipelines/ configs")
    directory = cache_dir or os.path.join(os.path.expanduser("~"), ".cache", "tfface", "repository")
    path = os.path.join(clone_repository(repository, directory), "pipelines")
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{repository} has no pipelines/ folder (looked in {path})")
    return path


# ---------------------------------------------------------------- display


def _display(obj) -> None:
    from IPython.display import display

    display(obj)


def _ipython() -> bool:
    return "IPython" in sys.modules and getattr(sys.modules["IPython"], "get_ipython", lambda: None)() is not None


def show_images(paths: Sequence[str], captions: Sequence[str] | None = None, width: int | None = None) -> None:
    """Shows PNG files side by side with captions (file names by default)
    in a notebook; outside one, prints their paths."""
    paths = [os.fspath(p) for p in paths]
    captions = list(captions) if captions is not None else [os.path.basename(p) for p in paths]
    if not _ipython():
        for path in paths:
            print(path)
        return
    from IPython.display import HTML

    size = f' width="{int(width)}"' if width else ""
    cells = []
    for path, caption in zip(paths, captions):
        with open(path, "rb") as handle:
            data = base64.b64encode(handle.read()).decode("ascii")
        cells.append(
            f'<figure style="display:inline-block;margin:4px;text-align:center">'
            f'<img src="data:image/png;base64,{data}"{size} style="image-rendering:pixelated"/>'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    _display(HTML("".join(cells)))


def show_markdown(path: str) -> None:
    """Shows a Markdown file (e.g. a sweep's `table.md`)."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    if _ipython():
        from IPython.display import Markdown

        _display(Markdown(text))
    else:
        print(text)


def grid_files(directory: str, kind: str = "samples") -> list[str]:
    """The grids a run wrote (`kind` "samples" or "reconstructions"), in
    epoch order, begin before end."""
    order = {"begin": 0, "end": 1}

    def key(path: str):
        stem = os.path.splitext(os.path.basename(path))[0].split("_")
        return int(stem[1][1:]), order.get(stem[-1], 2)

    return sorted(glob.glob(os.path.join(directory, f"{kind}_e[0-9][0-9][0-9]*.png")), key=key)


class ShowGrids(keras.callbacks.Callback):
    """Shows the 25-image sample grids `SampleGrid` wrote at the beginning and
    the end of an epoch inline, every `every` epochs and after the last one.

    Pass it after `SampleGrid` (e.g. `train(config, extra_callbacks=[ShowGrids(run.grids)])`),
    so the epoch's files exist when it runs.

    Args:
        directory: str. The run's `grids/` folder.
        every: int. Show every this many epochs. Defaults to 1.
        width: int or None. Display width of each grid in pixels.

    Example:

    >>> import tempfile
    >>> import numpy as np
    >>> from tfface.callbacks import SampleGrid
    >>> from tfface.presets import build_preset
    >>> model = build_preset("vae_tiny", image_size=(32, 32))
    >>> model.compile(optimizer="adam")
    >>> out = tempfile.mkdtemp()
    >>> shown = ShowGrids(out)
    >>> _ = model.fit(np.random.rand(8, 32, 32, 3).astype("float32"), epochs=1,
    ...               callbacks=[SampleGrid(out), shown], verbose=0)
    /.../samples_e001_begin.png
    /.../samples_e001_end.png
    >>> [os.path.basename(p) for p in shown.shown]
    ['samples_e001_begin.png', 'samples_e001_end.png']
    """

    def __init__(self, directory: str, every: int = 1, width: int | None = None):
        super().__init__()
        self.directory = os.fspath(directory)
        self.every = max(1, int(every))
        self.width = width
        self.shown: list[str] = []

    def on_epoch_end(self, epoch, logs=None):
        last = epoch + 1 == self.params.get("epochs")
        if (epoch + 1) % self.every and not last:
            return
        paths = [os.path.join(self.directory, f"samples_e{epoch + 1:03d}_{moment}.png") for moment in ("begin", "end")]
        paths = [p for p in paths if os.path.exists(p)]
        if paths:
            if _ipython():
                print(f"epoch {epoch + 1}:")
            show_images(paths, width=self.width)
            self.shown.extend(paths)


# ---------------------------------------------------------------- experiments


def show_run(run_dir: str) -> None:
    """Shows a run's first and last sample grid, its last reconstruction
    grid and its loss curves (those that exist)."""
    run = RunDir(run_dir)
    samples = grid_files(run.grids)
    paths = [*samples[:1], *samples[1:][-1:], *grid_files(run.grids, "reconstructions")[-1:]]
    if os.path.exists(run.loss_curves):
        paths.append(run.loss_curves)
    if paths:
        show_images(paths)


def run_experiment(config_path: str, run_dir: str, overrides: Sequence[str] = (), *, show_every: int = 1):
    """Trains an experiment config (e.g. a `pipelines/` file) into `run_dir`
    with `overrides` applied, showing the sample grids as they are written,
    then the run's first and last grid and its loss curves.

    Running it again resumes an interrupted run from its last checkpoint
    and only reopens a finished one (`run.resume`, see `tfface.experiments.train`).

    Returns:
        The `RunResult` of `tfface.experiments.train`.
    """
    config = load_config(config_path, [*overrides, *overrides_from({"run.dir": os.fspath(run_dir)})])
    run = RunDir(config.run.dir)
    callbacks = [ShowGrids(run.grids, every=show_every)] if config.run.sample_grid else []
    result = train(config, extra_callbacks=callbacks)
    show_run(run.root)
    return result


def run_sweep_config(
    path: str,
    output: str,
    overrides: Sequence[str] = (),
    only: Sequence[str] | None = None,
    grids: str | None = None,
):
    """Runs a sweep config (`tfface.experiments.sweep`) into `output` with
    `overrides` applied to every run (only the runs named in `only`, if
    given), then shows its table and comparison figures, and with `grids`
    ("samples" or "reconstructions") each finished run's last grid of that
    kind. Rerunning skips finished runs and resumes interrupted ones.

    Returns:
        The `SweepResult`.
    """
    sweep = load_sweep(path, overrides, output=output)
    result = run_sweep(sweep, only=list(only) if only else None, log=print)
    show_markdown(result.files["table_md"])
    figures = [result.files[name] for name in ("samples", "interpolation", "loss_curves") if name in result.files]
    show_images(figures)
    if grids:
        last = {row["run"]: grid_files(RunDir(sweep.run(row["run"]).config.run.dir).grids, grids)[-1:] for row in result.rows}
        show_images([paths[0] for paths in last.values() if paths], [name for name, paths in last.items() if paths])
    return result


# ---------------------------------------------------------------- explorer


def explore(path: str, *, share: bool = False, port: int | None = None, max_upload_mb: float = 10.0):
    """Shows the interactive explorer of a run folder or SavedModel export
    (`tfface explore`: Generate, Interpolate, Attributes, Your photo) inline
    in Colab or Jupyter; outside a notebook it prints the local address.
    The server keeps running in the background: `app.close()` stops it.
    Needs the `explore` extra (`pip install 'tfface[explore]'`).

    Args:
        path: str. A run folder, `RUN/export/<version>` or the OUT of
            `tfface export`.
        share: bool. Also open a temporary public link. Defaults to False
            (Colab shows the app through its own port proxy).
        port: int or None. Port; None takes the first free one from 7860.
        max_upload_mb: float. Largest photo upload. Defaults to 10.

    Returns:
        The running `gradio.Blocks` app.
    """
    options = ServeOptions(port=port, share=share, limits=Limits(max_upload_mb=max_upload_mb))
    return serve_explorer(os.fspath(path), options, inline=_ipython(), block=False)
