import csv
import os
import textwrap

import pytest

from tfface.cli.main import main
from tfface.config import ConfigError
from tfface.experiments.sweep import load_sweep, run_sweep

TINY = """
name = "tiny"
description = "two tiny VAEs"
output = "{out}"
set = ["train.epochs=1"]

[data]
source = "synthetic"
image_size = [32, 32]
num_examples = 48
validation_fraction = 0.25

[model]
preset = "vae_tiny"

[train]
batch_size = 12

[run]
verbose = 0
export = false
sample_grid = false

[grid]
"model.latent_dim" = [4, 8]

[evaluate]
count = 8

[table]
metrics = ["mse", "psnr", "ssim", "val_loss"]
sort_by = "psnr"
descending = true

[figures]
count = 4
steps = 4
"""


def test_two_run_sweep_writes_the_table_and_a_rerun_skips_finished_runs(tmp_path, capsys):
    out = tmp_path / "out"
    config = tmp_path / "tiny.toml"
    config.write_text(TINY.format(out=out))
    assert main(["sweep", str(config)]) == 0
    printed = capsys.readouterr().out
    assert "training model.latent_dim=4" in printed and "trained 2, evaluated 2, skipped 0" in printed
    table = (out / "table.md").read_text()
    assert "| run | model.latent_dim | mse | psnr | ssim | val_loss |" in table
    assert "| latent_dim=4 | 4 |" in table and "| latent_dim=8 | 8 |" in table
    assert "Protocol: split=validation, images=8, image_size=32x32" in table
    with open(out / "table.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["model.latent_dim"] for r in rows] and {r["run"] for r in rows} == {"latent_dim=4", "latent_dim=8"}
    psnrs = [float(r["psnr"]) for r in rows]
    assert psnrs == sorted(psnrs, reverse=True) and all(p > 5 for p in psnrs)
    for name in ("samples.png", "interpolation.png", "loss_curves.png", "sweep.json"):
        assert (out / name).stat().st_size > 0, name
    model_file = out / "latent_dim=4" / "model.keras"
    stamp = model_file.stat().st_mtime_ns

    assert main(["sweep", str(config), "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert "trained 0, evaluated 0, skipped 2" in printed and "latent_dim=4: finished, skipped" in printed
    assert model_file.stat().st_mtime_ns == stamp
    # changed evaluation options re-evaluate without retraining
    result = run_sweep(_with_count(config, 6), figures=False, log=lambda m: None)
    assert result.trained == [] and sorted(result.evaluated) == ["latent_dim=4", "latent_dim=8"]
    assert model_file.stat().st_mtime_ns == stamp


def _with_count(config, count):
    text = config.read_text().replace("count = 8", f"count = {count}", 1)
    config.write_text(text)
    return load_sweep(config)


@pytest.mark.parametrize(
    "text, message",
    [
        ('name = "x"\n[[runs]]\nname = "a"\nsett = ["train.epochs=1"]\n', "runs[0]: unknown key 'sett' (did you mean 'set'?)"),
        ('name = "x"\n[grid]\n"model.beta" = 0.1\n', "grid.'model.beta': expected a non-empty list"),
        ('name = "x"\n[[runs]]\nname = "a"\nset = ["train.epoch=1"]\n', "run 'a': unknown config key 'train.epoch'"),
        ('name = "x"\nruns = []\n', "no runs"),
        ('name = "x"\n[[runs]]\nname = "a"\n[[runs]]\nname = "a"\n', "run name 'a' appears twice"),
        ('name = "x"\n[[runs]]\nname = "a/b"\n', "run name 'a/b'"),
        ('name = "x"\nouptut = "y"\n[[runs]]\nname = "a"\n', "unknown key 'ouptut' (did you mean 'output'?)"),
        ('name = "x"\n[[runs]]\nname = "a"\n[evaluate]\nsplt = "test"\n', "evaluate: unknown evaluate option 'splt'"),
        ('name = "x"\n[[runs]]\nname = "a"\n[figures]\nsample = true\n', "figures: unknown key 'sample' (did you mean 'samples'?)"),
        ('name = "x"\n[[runs]]\nname = "a"\n[train]\nepochs = "two"\n', "train.epochs: expected int, got 'two'"),
        ('name = "x"\n[[runs]]\nname = "a"\n[table]\nmetrics = ["fid"]\n', "table.metrics lists fid but [evaluate] fid is not true"),
    ],
)
def test_bad_sweep_configs_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        load_sweep(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_unknown_presets_fail_before_training(tmp_path, capsys):
    path = tmp_path / "s.toml"
    path.write_text(textwrap.dedent(f"""
        name = "x"
        output = "{tmp_path / 'out'}"
        [[runs]]
        preset = "vae_tiny"
        [[runs]]
        preset = "vae_tinny"
    """))
    assert main(["sweep", str(path)]) == 2
    err = capsys.readouterr().err
    assert "run 'vae_tinny'" in err and "Did you mean 'vae_tiny'" in err
    assert not os.path.exists(tmp_path / "out" / "vae_tiny")


def test_shipped_sweeps_load(capsys):
    from tests.helpers import REPO

    table2 = load_sweep(os.path.join(REPO, "pipelines", "sweeps", "r004_table2.toml"), ["data.path='/data/ffhq'"])
    assert [r.config.model.preset for r in table2.runs] == [
        "r004_ae_baseline", "r004_ae_latent_64", "r004_ae_latent_32", "r004_ae_latent_16", "r004_ae_latent_8",
        "r004_ae_latent_4", "r004_ae_wide_32", "r004_ae_wide_64", "r004_ae_wide_32_latent_64", "r004_ae_wide_64_latent_16",
    ]
    first = table2.runs[0].config
    assert first.data.value_range == "-1_1" and first.data.validation_count == 1000 and first.data.path == "/data/ffhq"
    assert (first.train.learning_rate, first.train.beta_1, first.train.batch_size, first.train.epochs) == (2e-4, 0.5, 32, 10)
    assert table2.metrics[:2] == ("mse_data_range", "psnr_data_range")
    r001 = load_sweep(os.path.join(REPO, "pipelines", "sweeps", "r001.toml"))
    settings = [(r.config.model.beta, r.config.model.latent_dim, r.config.model.args.get("kl_boost", 0.0)) for r in r001.runs]
    assert settings == [(1e-3, 64, 0.0), (1e-4, 64, 0.0), (1e-5, 64, 0.0), (1e-6, 64, 0.0),
                        (1e-5, 32, 0.0), (1e-5, 128, 0.0), (1e-5, 64, 1.0)]  # fmt: skip
    assert r001.runs[0].config.data.image_size == (64, 48) and r001.figures["interpolation"]
