"""`train.ema`: Keras' optimizer weight average is what a run shows, keeps
and serves, and it resumes exactly."""

import json

import h5py
import keras
import numpy as np
import pytest

from tests.helpers import tiny_config
from tfface.experiments import train
from tfface.training.checkpointing import ResumeCheckpoint

EMA = ("train.ema=true", "train.ema_momentum=0.6", "train.deterministic=true", "run.export=false",
       "run.tensorboard=false", "train.epochs=2")  # fmt: skip


def _checkpoint_arrays(run_dir) -> dict:
    """Every array of the last checkpoint (model and optimizer variables, the averages among them)."""
    state = json.loads((run_dir / "checkpoints" / "checkpoint.json").read_text())
    arrays = {}
    with h5py.File(run_dir / "checkpoints" / state["weights"], "r") as handle:
        handle.visititems(lambda name, item: arrays.update({name: np.asarray(item)}) if isinstance(item, h5py.Dataset) else None)
    return arrays


def test_model_keras_holds_the_average_and_the_checkpoint_holds_both(tmp_path):
    result = train(tiny_config(tmp_path / "run", *EMA))
    kept = [w.numpy() for w in keras.saving.load_model(str(tmp_path / "run" / "model.keras")).trainable_weights]
    model = result.model
    ResumeCheckpoint(str(tmp_path / "run" / "checkpoints")).restore(model)  # the trained weights and their average
    averages = [v.numpy() for v in model.optimizer._model_variables_moving_average]
    assert len(kept) == len(averages) > 0
    for a, b in zip(kept, averages, strict=True):
        np.testing.assert_array_equal(a, b)
    # momentum 0.6 over 6 steps: the average is not the last step's weights
    assert sum(not np.allclose(a, w.numpy()) for a, w in zip(kept, model.trainable_weights)) > len(kept) // 2
    # showing the average (validation, grids) does not change what is trained: the same weights as without it
    plain = train(tiny_config(tmp_path / "plain", *EMA, "train.ema=false")).model
    for a, b in zip(plain.trainable_weights, model.trainable_weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.slow
def test_resumed_run_continues_the_average_exactly(tmp_path):
    whole = train(tiny_config(tmp_path / "whole", *EMA))
    train(tiny_config(tmp_path / "cut", *EMA, "train.epochs=1"))
    resumed = train(tiny_config(tmp_path / "cut", *EMA))
    assert resumed.initial_epoch == 1
    a = keras.saving.load_model(str(tmp_path / "whole" / "model.keras")).get_weights()
    b = keras.saving.load_model(str(tmp_path / "cut" / "model.keras")).get_weights()
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    saved_whole, saved_cut = _checkpoint_arrays(tmp_path / "whole"), _checkpoint_arrays(tmp_path / "cut")
    assert sorted(saved_whole) == sorted(saved_cut)
    for key in saved_whole:  # trained weights, Adam moments, averages, step
        np.testing.assert_array_equal(saved_whole[key], saved_cut[key], err_msg=key)
    np.testing.assert_allclose(whole.history["val_loss"], resumed.history["val_loss"], rtol=1e-6)


def test_the_average_of_a_batchnorm_model_reconstructs_as_well_as_the_trained_weights(tmp_path):
    """Keras' average at momentum 0.999 held ~96% of the random initial
    weights after 40 steps, and kept the trained weights' BatchNorm
    statistics: the warmed-up average with recalibrated statistics must
    reconstruct about as well as the weights it averages."""
    from tfface.metrics import reconstruction_metrics
    from tfface.run import load_run

    overrides = ("train.ema=true", "train.ema_momentum=0.999", "run.export=false", "run.tensorboard=false",
                 "train.epochs=12", "data.num_examples=64", "train.batch_size=16", "train.learning_rate=3e-3")  # fmt: skip
    result = train(tiny_config(tmp_path / "run", *overrides))
    loaded = load_run(tmp_path / "run")
    average, _, _ = reconstruction_metrics(loaded.model, loaded.dataset("validation", 16))
    statistics = [v.numpy().copy() for v in loaded.model.non_trainable_variables if "moving_" in v.path]
    # the trained weights and their own running statistics, from the checkpoint
    trained_model = result.model
    ResumeCheckpoint(str(tmp_path / "run" / "checkpoints")).restore(trained_model)
    trained, _, _ = reconstruction_metrics(trained_model, loaded.dataset("validation", 16))
    assert trained["psnr"] > 14.0  # it learned
    assert average["psnr"] > trained["psnr"] - 1.0, (average, trained)
    # model.keras holds the statistics recalibrated for the average, not the trained ones
    running = [v.numpy() for v in trained_model.non_trainable_variables if "moving_" in v.path]
    assert len(statistics) == len(running) == 6
    assert not all(np.allclose(a, b) for a, b in zip(statistics, running))
