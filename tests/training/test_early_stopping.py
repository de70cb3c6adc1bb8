"""`train.early_stopping` and `train.keep_best`: the run stops when the
monitored metric stalls, records why in RUN/best/best.json, exports the best
epoch's weights, and keeps all of this across a kill and resume."""

import json

import keras
import numpy as np
import pytest

from tests.helpers import load_json, tiny_config
from tfface.callbacks.best import BestState, replay
from tfface.config import ConfigError
from tfface.experiments import train


def test_state_follows_keras_early_stopping_semantics():
    state = BestState("val_loss", "min")
    for value in (1.0, 0.8, 0.81, 0.79, 0.9, 0.95):
        state.update(value, min_delta=0.0, patience=2)
    assert (state.best, state.best_epoch, state.wait, state.stopped) == (0.79, 4, 2, True)
    history = {"val_psnr": [10.0, 12.0, 12.05, 11.0]}
    high = replay(history, "val_psnr", "max", min_delta=0.1, patience=5, epochs=4)
    assert (high.best_epoch, high.wait, high.stopped) == (2, 2, False)


def test_bad_early_stopping_settings_name_the_key(tmp_path):
    with pytest.raises(ConfigError, match="train.early_stopping.patience"):
        tiny_config(tmp_path, "train.early_stopping={patience=-1}")
    with pytest.raises(ConfigError, match="train.early_stopping.patiance"):
        tiny_config(tmp_path, "train.early_stopping={patiance=1}")


def _stalling_config(run_dir, *extra):
    # min_delta 1e9: no epoch after the first counts as an improvement, so
    # patience 2 stops the run after epoch 3 with epoch 1 the best. (The
    # export is made from the same model object as model.keras.)
    return tiny_config(run_dir, "train.epochs=8", "train.early_stopping={monitor='val_loss', patience=2, min_delta=1e9}",
                       "train.keep_best=true", "run.sample_grid=false", "run.reconstruction_grid=false", "run.export=false", *extra)


def test_early_stopping_stops_records_and_exports_the_best_weights(tmp_path):
    result = train(_stalling_config(tmp_path / "run"))
    assert len(result.history["loss"]) == 3  # best at epoch 1, then 2 epochs without improvement
    record = load_json(tmp_path / "run" / "best" / "best.json")
    assert (record["best_epoch"], record["epochs"], record["stopped"]) == (1, 3, True)
    assert record["weights"] == "best-e00001.weights.h5"
    best = keras.saving.load_model(str(tmp_path / "run" / "model.keras"))
    reference = result.model.__class__.from_config(result.model.get_config())
    reference.load_weights(str(tmp_path / "run" / "best" / "best-e00001.weights.h5"))
    for a, b in zip(best.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)
    # The last epoch's weights (in the checkpoint) differ from the kept ones.
    last = reference.__class__.from_config(reference.get_config())
    ckpt = json.loads((tmp_path / "run" / "checkpoints" / "checkpoint.json").read_text())
    last.load_weights(str(tmp_path / "run" / "checkpoints" / ckpt["weights"]))
    assert any(not np.array_equal(a, b) for a, b in zip(best.get_weights(), last.get_weights()))
    # A rerun of the early-stopped run trains nothing and keeps the best weights.
    again = train(_stalling_config(tmp_path / "run"))
    assert again.initial_epoch == 3 and len(again.history["loss"]) == 3
    for a, b in zip(again.model.get_weights(), best.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_early_stopping_state_survives_an_interrupted_run(tmp_path):
    # Run 2 epochs, "kill" (stop), then resume with the full budget: the
    # patience counter continues from the checkpoint's history.
    first = train(_stalling_config(tmp_path / "run", "train.epochs=2"))
    assert len(first.history["loss"]) == 2
    assert load_json(tmp_path / "run" / "best" / "best.json")["wait"] == 1
    resumed = train(_stalling_config(tmp_path / "run"))
    assert resumed.initial_epoch == 2
    assert len(resumed.history["loss"]) == 3  # stopped one epoch later, not 2 more
    assert load_json(tmp_path / "run" / "best" / "best.json")["stopped"] is True


@pytest.mark.slow
def test_sigkill_mid_epoch_then_rerun_keeps_the_early_stopping_state(tmp_path):
    from tests.training.test_resume import _run
    from tfface.config import config_to_dict

    path = tmp_path / "config.json"
    path.write_text(json.dumps(config_to_dict(_stalling_config(tmp_path / "run"))))
    killed = _run(str(path), kill_at="3,1")  # after epoch 2's checkpoint and best-weights state
    assert killed.returncode != 0
    assert load_json(tmp_path / "run" / "best" / "best.json")["wait"] == 1
    finished = _run(str(path))
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert "INITIAL_EPOCH 2" in finished.stdout
    record = load_json(tmp_path / "run" / "best" / "best.json")
    assert (record["best_epoch"], record["epochs"], record["stopped"]) == (1, 3, True)
    assert len(load_json(tmp_path / "run" / "history.json")["loss"]) == 3
    kept = keras.saving.load_model(str(tmp_path / "run" / "model.keras"))
    best = kept.__class__.from_config(kept.get_config())
    best.load_weights(str(tmp_path / "run" / "best" / "best-e00001.weights.h5"))
    for a, b in zip(kept.get_weights(), best.get_weights()):
        np.testing.assert_array_equal(a, b)
