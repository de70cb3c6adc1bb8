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
    partial = json.loads((out / "rows.partial.json").read_text())  # written row by row
    assert [row["candidate"] for row in partial] == [row["candidate"] for row in results["rows"]]
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


def test_ablation_candidates_build_their_options_over_the_recipe():
    import quality
    from tfface.presets import check_model_config

    from tfface.training.precision import resolve_precision

    candidates = quality.parse_candidates([], ablation=True)
    labels = [c.label for c in candidates]
    assert labels[0] == "vae_demo" and "face_64" in labels and "face_64 +DiffAugment" in labels
    # the pinned-precision row equal to what the recipe's "auto" resolves to here is the recipe itself: left out
    same = {"float32": "face_64 float32", "mixed_bfloat16": "face_64 bfloat16"}.get(resolve_precision("auto"))
    assert same not in labels and len(labels) == 1 + len(quality.ABLATION) - (same is not None)
    configs = {c.label: c.config([]) for c in candidates[1:]}
    for config in configs.values():
        check_model_config(config.model)
    assert configs["face_64 +DiffAugment"].model.discriminator_augment == "color,translation,cutout"
    assert configs["face_64 +SN"].model.args == {"discriminator_width": 32, "discriminator_norm": "none"}
    assert configs["face_64"].train.ema and not configs["face_64 without EMA"].train.ema
    pinned = configs.get("face_64 bfloat16") or configs["face_64 float32"]
    assert pinned.train.mixed_precision in ("mixed_bfloat16", "float32") and configs["face_64"].train.mixed_precision == "auto"
    assert configs["face_64 D every 2nd step"].model.discriminator_every == 2
    assert configs["face_64 +R1"].model.r1_weight > 0 and configs["face_64 +LeCam"].model.lecam_weight > 0
    assert configs["face_64 +feature matching"].model.feature_matching_weight > 0

    shorter = quality.parse_candidates([], ablation=True, ablation_set=["model.adversarial_start=300"])
    assert shorter[0].overrides == []  # the baseline is not an ablation row
    assert all(c.config([]).model.adversarial_start == 300 for c in shorter[1:])
    with pytest.raises(ValueError, match="--ablation-set"):
        quality.parse_candidates([], ablation_set=["model.adversarial_start=300"])


@pytest.mark.slow
def test_several_budgets_give_one_row_per_candidate_and_budget_and_the_curve(tmp_path):
    import quality

    folder = face_folder(tmp_path / "faces")
    out = tmp_path / "out"
    config = tmp_path / "gan.toml"
    config.write_text('[model]\npreset = "ae_demo"\nlatent_dim = 8\nadversarial_weight = 0.5\n'
                      'discriminator_augment = "color,translation,cutout"\nlecam_weight = 0.1\n'
                      'args = { discriminator_width = 8, discriminator_layers = 2 }\n'
                      '[train]\nema = true\nema_momentum = 0.9\n')  # fmt: skip
    plot = tmp_path / "docs" / "curve.png"
    assert quality.main([
        folder, "--candidate", str(config), "--minutes", str(2 / 60), str(4 / 60), "--image-size", "32",
        "--generated", "16", "--held-out", "0.25", "--crop-cache", str(tmp_path / "cache"), "--out", str(out),
        "--set", "train.batch_size=4", "run.sample_grid=false", "run.tensorboard=false", "--plot", str(plot),
    ]) == 0  # fmt: skip
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [(row["candidate"], row["budget_min"]) for row in rows] == [
        ("vae_demo", 2 / 60), ("gan", 2 / 60), ("vae_demo", 4 / 60), ("gan", 4 / 60)]
    for row in rows:
        assert row["stopped_by_budget"] and row["img_per_cpu_s"] > 0 and np.isfinite(row["psnr"])
        assert f"{row['budget_min']:g}min" in row["samples_grid"]
    # the options reached the trained model
    # each row was kept as it was measured
    partial = json.loads((out / "rows.partial.json").read_text())
    assert [(row["candidate"], row["budget_min"]) for row in partial] == [
        ("vae_demo", 2 / 60), ("vae_demo", 4 / 60), ("gan", 2 / 60), ("gan", 4 / 60)]
    # one run per candidate, resumed up to the next budget: steps and CPU time accumulate
    for first, second in zip(rows[:2], rows[2:]):
        assert second["steps"] > first["steps"] and second["cpu_min"] > first["cpu_min"] >= 2 / 60
    history = json.loads((out / "runs" / "gan" / "history.json").read_text())
    assert "lecam_loss" in history and "discriminator_loss" in history
    import tensorflow as tf

    image = tf.io.decode_png(tf.io.read_file(str(plot))).numpy()
    assert image.shape[0] > 200 and image.shape[1] > 3 * image.shape[0] / 2
    table = (out / "table.md").read_text()
    assert table.count("| candidate |") == 2 and "CPU-minutes per candidate" in table and str(plot) in table


def test_parts_split_the_candidates_and_merge_into_one_table(tmp_path):
    import quality

    names = ["vae_demo", "a", "b", "c"]
    assert quality.candidate_part(names, "0/2") == ["vae_demo", "b"]
    assert quality.candidate_part(names, "1/2") == ["a", "c"]
    assert quality.candidate_part(names, None) == names
    for bad in ("2/2", "x/2", "1"):
        with pytest.raises(ValueError, match="--part"):
            quality.candidate_part(names, bad)

    def row(name, minutes, psnr, swd):
        return {"candidate": name, "budget_min": minutes, "steps": 10, "images": 640, "img_per_cpu_s": 100.0 + psnr,
                "psnr": psnr, "ssim": 0.5, "swd_16": swd, "swd_avg": swd, "held_out": 9,
                "samples_grid": f"{name}.png", "reconstruction_grid": f"{name}-r.png"}

    # the part without the baseline ran first: the merged table still puts it first
    (tmp_path / "p1").mkdir(), (tmp_path / "p0").mkdir()
    (tmp_path / "p1" / "rows.partial.json").write_text(json.dumps([row("face", 1, 22.0, 30.0), row("face", 2, 23.0, 20.0)]))
    (tmp_path / "p0" / "rows.partial.json").write_text(json.dumps([row("vae_demo", 1, 19.0, 60.0),
                                                                   row("vae_demo", 2, 20.0, 50.0)]))
    out = tmp_path / "merged"
    assert quality.main(["unused", "--merge", str(tmp_path / "p1"), str(tmp_path / "p0"), "--out", str(out)]) == 0
    rows = json.loads((out / "results.json").read_text())["rows"]
    assert [(r["candidate"], r["budget_min"]) for r in rows] == [("vae_demo", 1), ("face", 1), ("vae_demo", 2), ("face", 2)]
    assert rows[1]["psnr_vs_base_db"] == pytest.approx(3.0) and rows[3]["swd_vs_base"] == pytest.approx(0.4)
    assert (out / "budget_curve.png").exists()
    with pytest.raises(FileNotFoundError, match="rows.partial.json"):
        quality.main(["unused", "--merge", str(tmp_path), "--out", str(out)])
