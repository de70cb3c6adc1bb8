"""Resume: a run killed with SIGKILL mid-epoch and started again with the same
command ends exactly like an uninterrupted run."""

import json
import os
import signal

import keras
import numpy as np
import pytest

from tests.helpers import REPO, load_json, run_python, tiny_config
from tfface.config import ConfigError, apply_overrides, config_to_dict
from tfface.experiments import train
from tfface.training.checkpointing import ResumeCheckpoint, repair_history_csv

# Runs `train(config)` in a fresh process (op determinism is process-wide);
# with KILL_AT="epoch,batch" (1-based) the process SIGKILLs itself when that
# batch starts, i.e. mid-epoch, after the previous epoch's checkpoint.
DRIVER = """
import json, os, signal, sys
from tests.helpers import AtBatch
from tfface.config import config_from_dict
from tfface.experiments import train

config = config_from_dict(json.load(open(sys.argv[1])))
kill = os.environ.get("KILL_AT")
suicide = lambda model: os.kill(os.getpid(), signal.SIGKILL)
extra = [AtBatch(*map(int, kill.split(",")), suicide)] if kill else []
result = train(config, extra_callbacks=extra)
print("INITIAL_EPOCH", result.initial_epoch)
"""


def _run(config_path, kill_at=None):
    env = {"PYTHONPATH": REPO, "KILL_AT": kill_at or ""}
    return run_python(DRIVER, config_path, env=env)


def _write_config(tmp_path, name, *overrides):
    config = tiny_config(
        tmp_path / name,
        *overrides,
        "train.epochs=3",
        "train.deterministic=true",
        "train.kl_warmup_epochs=2",
        "data.flip=true",
        "run.export=false",
    )
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config_to_dict(config)))
    return str(path), tmp_path / name


def _weights(run_dir):
    model = keras.saving.load_model(str(run_dir / "model.keras"))
    return [np.asarray(v) for v in model.get_weights()]


def _read_csv(path):
    header, *rows = [line.split(",") for line in path.read_text().splitlines()]
    return {key: [float(row[i]) for row in rows] for i, key in enumerate(header)}


def _assert_same_history(a, b):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-6, err_msg=key)


@pytest.mark.slow
@pytest.mark.parametrize("cache", ["true", "false"])
def test_sigkill_mid_epoch_then_rerun_equals_uninterrupted_run(tmp_path, cache):
    _assert_kill_and_rerun_equals_uninterrupted_run(tmp_path, f"data.cache={cache}")


@pytest.mark.slow
def test_resume_with_discriminator_and_perceptual_term_equals_uninterrupted_run(tmp_path):
    # The adversarial term starts at step 2 (in epoch 1): the checkpoint after
    # epoch 1 holds a discriminator and its optimizer one step in.
    _assert_kill_and_rerun_equals_uninterrupted_run(
        tmp_path, "model.adversarial_weight=0.5", "model.adversarial_start=2", "model.perceptual_weight=1.0",
        "model.perceptual_weights='random'", "model.args={discriminator_layers=2, discriminator_width=8}",
    )


@pytest.mark.slow
def test_resume_with_several_steps_per_execution_equals_uninterrupted_run(tmp_path):
    # Batches of 6: 6 steps per epoch in calls of 3 ([1-3], [4-6]); the kill
    # falls at the start of epoch 2's second call; the adversarial term
    # starts inside epoch 1's second call (optimizer step 4, its 5th).
    _assert_kill_and_rerun_equals_uninterrupted_run(
        tmp_path, "train.batch_size=6", "train.steps_per_execution=3", "model.adversarial_weight=0.5",
        "model.adversarial_start=4", "model.args={discriminator_layers=2, discriminator_width=8}", kill_at="2,4",
    )


def _assert_kill_and_rerun_equals_uninterrupted_run(tmp_path, *overrides, kill_at="2,2"):
    # 36 training images in batches of 12: 3 steps per epoch; killed at epoch 2, step 2.
    whole_cfg, whole = _write_config(tmp_path, "whole", *overrides)
    cut_cfg, cut = _write_config(tmp_path, "cut", *overrides)

    done = _run(whole_cfg)
    assert done.returncode == 0, done.stderr[-3000:]

    killed = _run(cut_cfg, kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-3000:]
    assert not (cut / "model.keras").exists()
    assert load_json(cut / "checkpoints" / "checkpoint.json")["epoch"] == 1

    resumed = _run(cut_cfg)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert "INITIAL_EPOCH 1" in resumed.stdout

    for a, b in zip(_weights(whole), _weights(cut), strict=True):
        np.testing.assert_array_equal(a, b)
    # Logged losses: equal to float32 rounding. TF's CPU kernels can differ in
    # the last bit of a logged `loss` mean even between two uninterrupted runs.
    _assert_same_history(load_json(cut / "history.json"), load_json(whole / "history.json"))
    _assert_same_history(_read_csv(cut / "history.csv"), _read_csv(whole / "history.csv"))
    np.testing.assert_array_equal(np.load(cut / "grids" / "sample_latents.npy"), np.load(whole / "grids" / "sample_latents.npy"))
    for name in ("samples_e003_end.png", "reconstructions_e003.png"):
        assert (cut / "grids" / name).read_bytes() == (whole / "grids" / name).read_bytes()


def test_rerun_of_a_finished_run_trains_nothing(tmp_path):
    config = tiny_config(tmp_path, "run.export=false", "run.sample_grid=false", "run.reconstruction_grid=false")
    first = train(config)
    stamp = os.path.getmtime(first.run_dir.model)
    again = train(config)
    assert again.initial_epoch == 1
    assert again.history == first.history
    assert os.path.getmtime(first.run_dir.model) == stamp
    for a, b in zip(first.model.get_weights(), again.model.get_weights()):
        np.testing.assert_array_equal(a, b)

    longer = train(apply_overrides(config, ["train.epochs=2"]))
    assert longer.initial_epoch == 1
    assert len(longer.history["loss"]) == 2
    assert longer.history["loss"][0] == first.history["loss"][0]


def test_resume_false_starts_over_and_changed_config_is_refused(tmp_path):
    config = tiny_config(tmp_path, "run.export=false", "run.save_model=false", "run.sample_grid=false",
                         "run.reconstruction_grid=false")
    train(config)
    with pytest.raises(ConfigError, match=r"train\.batch_size.*run\.resume=false"):
        train(tiny_config(tmp_path, "train.batch_size=6", "run.export=false"))
    fresh = train(tiny_config(tmp_path, "train.batch_size=6", "run.resume=false", "run.export=false",
                              "run.save_model=false", "run.sample_grid=false", "run.reconstruction_grid=false"))
    assert fresh.initial_epoch == 0
    assert len(fresh.history["loss"]) == 1


def test_history_csv_is_cut_back_to_the_checkpoint(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(b"epoch,loss\r\n0,3.5\r\n1,2.5\r\n2,1.")
    repair_history_csv(str(path), 2, {"loss": [3.5, 2.5]})
    assert path.read_bytes() == b"epoch,loss\r\n0,3.5\r\n1,2.5\r\n"
    path.unlink()
    repair_history_csv(str(path), 1, {"loss": [3.5], "val_loss": [4.0]})
    assert path.read_bytes() == b"epoch,loss,val_loss\r\n0,3.5,4.0\r\n"


def test_unreadable_current_checkpoint_falls_back_to_previous(tmp_path):
    from tfface.presets import build_preset

    x = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
    model = build_preset("vae_tiny", image_size=(32, 32))
    model.compile(optimizer="adam")
    checkpoint = ResumeCheckpoint(str(tmp_path))
    model.fit(x, epochs=1, batch_size=4, callbacks=[checkpoint], verbose=0)
    after_one = [np.array(w) for w in model.get_weights()]
    model.fit(x, epochs=2, initial_epoch=1, batch_size=4, callbacks=[checkpoint], verbose=0)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.json", "epoch-00001.weights.h5", "epoch-00002.weights.h5"]
    (tmp_path / "epoch-00002.weights.h5").write_bytes(b"truncated")

    fresh = build_preset("vae_tiny", image_size=(32, 32))
    fresh.compile(optimizer="adam")
    assert ResumeCheckpoint(str(tmp_path)).restore(fresh) == 1
    for a, b in zip(after_one, fresh.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_run_that_recorded_adams_default_betas_resumes_under_todays_unset_betas(tmp_path):
    """Runs saved before `train.beta_1`/`beta_2` defaulted to None recorded
    Adam's 0.9/0.999: those resume; any other change of them is refused."""
    from tfface.config import ExperimentConfig, TrainConfig
    from tfface.training.checkpointing import check_resumable

    recorded = ExperimentConfig(train=TrainConfig(beta_1=0.9, beta_2=0.999))
    check_resumable(recorded, ExperimentConfig(), str(tmp_path))
    check_resumable(ExperimentConfig(), recorded, str(tmp_path))
    with pytest.raises(ConfigError, match=r"train\.beta_1: .*0\.5"):
        check_resumable(ExperimentConfig(train=TrainConfig(beta_1=0.5)), ExperimentConfig(), str(tmp_path))
