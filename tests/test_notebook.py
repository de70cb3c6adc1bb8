"""Notebook helpers: precision per device, Drive fallback, pipelines folder, inline display."""

import os
import subprocess

import pytest

import tfface.notebook as notebook
from tests.helpers import REPO


@pytest.mark.parametrize(
    "kind, capability, policy",
    [("gpu", (7, 5), "mixed_float16"), ("gpu", (8, 0), "mixed_bfloat16"), ("gpu", (7, 0), "mixed_float16"),
     ("gpu", (9, 0), "mixed_bfloat16"), ("gpu", (6, 0), "float32"), ("gpu", (3, 7), "float32"), ("gpu", None, "float32"),
     ("cpu", None, "float32")],
)
def test_auto_precision_per_accelerator(kind, capability, policy):
    assert notebook.Accelerator(kind, "x", capability, 1).mixed_precision == policy  # a CPU without bfloat16 flags


def test_cpu_machine_reports_what_auto_resolves_to():
    from tfface.training.precision import choose_precision

    accelerator = notebook.detect_accelerator()
    assert accelerator.kind == "cpu" and accelerator.mixed_precision == choose_precision("auto").policy
    assert f'"auto" precision: {accelerator.mixed_precision}' in str(accelerator)


def test_drive_outside_colab_keeps_runs_local(tmp_path, capsys):
    assert not notebook.in_colab()
    root = notebook.run_root(str(tmp_path / "runs"), use_drive=True)
    assert root == str(tmp_path / "runs") and os.path.isdir(root)
    assert "not running in Colab" in capsys.readouterr().out


def test_drive_inside_colab_is_mounted(tmp_path, monkeypatch):
    import sys
    import types

    mounted = []
    drive = types.SimpleNamespace(mount=lambda point: mounted.append(point) or os.makedirs(tmp_path / "MyDrive"))
    colab = types.ModuleType("google.colab")
    colab.drive = drive
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    monkeypatch.setattr(notebook, "DRIVE_MOUNT", str(tmp_path))
    root = notebook.run_root("runs", use_drive=True, drive_folder="mine")
    assert mounted == [str(tmp_path)] and root == str(tmp_path / "MyDrive" / "mine") and os.path.isdir(root)
    notebook.run_root("runs", use_drive=True)
    assert len(mounted) == 1  # already mounted


def test_checkout_pipelines_are_found():
    assert notebook.pipelines_dir() == os.path.join(REPO, "pipelines")


@pytest.mark.parametrize(
    "repository, expected",
    [("git+https://github.com/tfface/tfface.git", ("https://github.com/tfface/tfface.git", None)),
     ("git+https://github.com/tfface/tfface.git@v0.2#egg=tfface", ("https://github.com/tfface/tfface.git", "v0.2")),
     ("git+ssh://git@github.com/a/b.git", ("ssh://git@github.com/a/b.git", None)),
     ("/local/repo", ("/local/repo", None))],
)
def test_repository_urls_in_pip_form(repository, expected):
    assert notebook._split_repository(repository) == expected


def test_installed_package_clones_the_pipelines(tmp_path, monkeypatch):
    origin = tmp_path / "origin"
    (origin / "pipelines").mkdir(parents=True)
    (origin / "pipelines" / "demo.toml").write_text("[train]\nepochs = 1\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(origin)]
    subprocess.run(["git", "init", "-q", "-b", "main", str(origin)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], check=True)
    monkeypatch.setattr(notebook, "_checkout_pipelines", lambda: None)
    cache = str(tmp_path / "cache")
    path = notebook.pipelines_dir(f"git+file://{origin}@main", cache_dir=cache)
    assert path == os.path.join(cache, "pipelines") and os.path.isfile(os.path.join(path, "demo.toml"))
    assert notebook.pipelines_dir("git+file:///nowhere", cache_dir=cache) == path  # reused
    with pytest.raises(RuntimeError, match="git clone file:///nowhere failed"):
        notebook.pipelines_dir("git+file:///nowhere", cache_dir=str(tmp_path / "other"))
    with pytest.raises(FileNotFoundError, match="repository="):
        notebook.pipelines_dir()


def test_grid_files_in_epoch_order(tmp_path):
    for name in ["samples_e010_begin.png", "samples_e002_end.png", "samples_e002_begin.png",
                 "reconstructions_e001.png", "sample_latents.npy"]:
        (tmp_path / name).write_bytes(b"")
    names = [os.path.basename(p) for p in notebook.grid_files(str(tmp_path))]
    assert names == ["samples_e002_begin.png", "samples_e002_end.png", "samples_e010_begin.png"]
    assert [os.path.basename(p) for p in notebook.grid_files(str(tmp_path), "reconstructions")] == ["reconstructions_e001.png"]


def test_show_images_embeds_the_pngs_in_a_notebook(tmp_path, monkeypatch):
    (tmp_path / "a.png").write_bytes(b"\x89PNG-a")
    shown = []
    monkeypatch.setattr(notebook, "_ipython", lambda: True)
    monkeypatch.setattr(notebook, "_display", shown.append)
    notebook.show_images([str(tmp_path / "a.png")], captions=["<first>"])
    (html,) = [obj.data for obj in shown]
    assert "data:image/png;base64,iVBORy1h" in html and "&lt;first&gt;" in html


def test_run_experiment_trains_shows_and_resumes(tmp_path, monkeypatch):
    shown = []
    monkeypatch.setattr(notebook, "show_images", lambda paths, *a, **k: shown.append([os.path.basename(p) for p in paths]))
    tiny = ["data.num_examples=32", "data.image_size=32", "model.preset='vae_tiny'", "train.batch_size=16",
            "train.epochs=1", "run.verbose=0", "run.export=false"]
    config = os.path.join(REPO, "pipelines", "demo.toml")
    first = notebook.run_experiment(config, str(tmp_path / "run"), tiny)
    assert first.initial_epoch == 0 and len(first.history["loss"]) == 1
    assert shown == [["samples_e001_begin.png", "samples_e001_end.png"],
                     ["samples_e001_begin.png", "samples_e001_end.png", "reconstructions_e001.png", "loss_curves.png"]]
    again = notebook.run_experiment(config, str(tmp_path / "run"), [*tiny, "train.epochs=2"])
    assert again.initial_epoch == 1 and len(again.history["loss"]) == 2
    assert shown[-1][:2] == ["samples_e001_begin.png", "samples_e002_end.png"]
