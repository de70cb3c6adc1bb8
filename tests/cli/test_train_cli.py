import os

from tests.helpers import REPO, load_json, run_cli


def test_train_cli_end_to_end(tmp_path):
    run_dir = tmp_path / "run"
    result = run_cli(
        "train", "--config", os.path.join(REPO, "pipelines", "demo.toml"),
        "--set", "model.preset=vae_tiny", "data.image_size=32", "data.num_examples=40",
        "train.epochs=2", "train.batch_size=10", f"run.dir={run_dir}",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "final reconstruction_loss" in result.stdout
    for name in ("config.json", "history.csv", "history.json", "loss_curves.png", "model.keras",
                 "export/1/saved_model.pb", "grids/samples_e002_end.png", "grids/reconstructions_e002.png"):
        assert (run_dir / name).exists(), name
    config = load_json(run_dir / "config.json")
    assert config["train"]["epochs"] == 2 and config["model"]["preset"] == "vae_tiny"
    assert len(load_json(run_dir / "history.json")["loss"]) == 2
    assert str(run_dir) in result.stdout


def test_train_cli_reports_a_wrong_key_and_a_wrong_type(tmp_path, capsys):
    from tfface.cli.main import main

    config = tmp_path / "c.toml"
    config.write_text('[train]\nepochz = 3\n')
    assert main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "unknown config key 'train.epochz'" in err and "train.epochs" in err
    config.write_text('[train]\nbatch_size = "big"\n')
    assert main(["train", "--config", str(config)]) == 2
    assert "train.batch_size: expected int, got 'big'" in capsys.readouterr().err
    config.write_text('[train]\nepochs = 1\n')
    assert main(["train", "--config", str(config), "--set", "model.preset=vae_dmeo", f"run.dir={tmp_path / 'r'}"]) == 2
    assert "did you mean 'vae_demo'" in capsys.readouterr().err.lower()
    assert not (tmp_path / "r").exists()  # nothing written for a config that cannot run
