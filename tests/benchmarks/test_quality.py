"""`benchmarks/quality.py` end to end on test-made photos with a seconds budget."""

import doctest
import json
import os
import sys

import numpy as np
import pytest

from tests.helpers import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))


def face_folder(path, count: int = 30) -> str:
    """Shifted, scaled and recoloured copies of skimage's astronaut (one
    frontal face) as JPEGs, plus plain noise images without a face."""
    import skimage.data
    import skimage.io
    import skimage.transform

    photo = skimage.data.astronaut()
    rng = np.random.default_rng(0)
    os.makedirs(path, exist_ok=True)
    for index in range(count):
        top, left = rng.integers(0, 120, size=2)
        crop = photo[top : top + 384, left : left + 384].astype(np.float32)
        crop = crop * rng.uniform(0.7, 1.1, size=3)
        size = int(rng.integers(160, 240))
        image = skimage.transform.resize(crop / 255.0, (size, size), anti_aliasing=True)
        skimage.io.imsave(os.path.join(path, f"{index:03d}.jpg"), (np.clip(image, 0, 1) * 255).astype(np.uint8),
                          check_contrast=False)  # fmt: skip
    for index in range(3):
        noise = rng.integers(0, 255, size=(96, 96, 3), dtype=np.uint8)
        skimage.io.imsave(os.path.join(path, f"noise{index}.png"), noise, check_contrast=False)
    return str(path)


def test_cpu_budget_docstring():
    import quality

    result = doctest.testmod(quality, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 2 and result.failed == 0


def test_candidates_put_the_baseline_first_and_reject_bad_specs(tmp_path):
    import quality

    labels = [c.label for c in quality.parse_candidates([["vae_tiny", "model.latent_dim=4"]])]
    assert labels == ["vae_demo", "vae_tiny model.latent_dim=4"]
    assert [c.label for c in quality.parse_candidates([["vae_tiny"], ["vae_demo"]])] == ["vae_demo", "vae_tiny"]
    with pytest.raises(FileNotFoundError, match="config file not found"):
        quality.parse_candidates([[str(tmp_path / "nope.toml")]])
    with pytest.raises(ValueError, match="key=value"):
        quality.parse_candidates([["vae_tiny", "latent"]])
    with pytest.raises(ValueError, match="listed twice"):
        quality.parse_candidates([["vae_tiny"], ["vae_tiny"]])


def test_quality_benchmark_smoke(tmp_path, capsys):
    import quality

    folder = face_folder(tmp_path / "faces")
    out = tmp_path / "out"
    config = tmp_path / "ae.toml"
    config.write_text('[model]\npreset = "ae_demo"\nlatent_dim = 8\n[train]\nbatch_size = 4\n')
    budget_minutes = 3 / 60
    assert quality.main([
        folder, "--candidate", str(config), "model.latent_dim=6",
        "--budget", str(budget_minutes), "--image-size", "32", "--generated", "24", "--held-out", "0.2",
        "--crop-cache", str(tmp_path / "cache"), "--out", str(out), "--set", "train.batch_size=8",
        "--inception-weights", "none", "--inception-size", "75",
    ]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    results = json.loads((out / "results.json").read_text())
    rows = {row["candidate"]: row for row in results["rows"]}
    assert list(rows) == ["vae_demo", "ae model.latent_dim=6"]
    ae = rows["ae model.latent_dim=6"]
    for row in rows.values():
        # stopped by the CPU budget, after at least a step, and not long after it
        assert row["stopped_by_budget"] and row["steps"] >= 1 and row["images"] == row["batch"] * row["steps"]
        assert budget_minutes <= row["cpu_min"] < budget_minutes + 1.0
        # 7 files held out; the noise images among them have no face
        assert row["held_out"] == rows["vae_demo"]["held_out"] >= 3 and np.isfinite(row["psnr"]) and row["psnr"] > 5
        assert set(row) >= {"swd_32", "swd_16", "swd_avg", "img_per_cpu_s", "psnr_vs_base_db", "swd_vs_base", "fid_vs_base"}
        assert row["fid"] >= 0 and np.isfinite(row["kid"])
        assert os.path.exists(row["samples_grid"]) and os.path.exists(row["reconstruction_grid"])
    assert rows["vae_demo"]["swd_vs_base"] == 1.0 and rows["vae_demo"]["psnr_vs_base_db"] == 0.0
    assert rows["vae_demo"]["sampler"] == "prior" and ae["sampler"] == "gmm"
    assert ae["preset"] == "ae_demo" and ae["batch"] == 8  # --set applies over the config's own batch size
    assert "| candidate |" in printed and "| FID |" in printed and "randomly initialised" in printed and str(out) in printed
    assert (out / "table.md").read_text().startswith("| candidate |")
