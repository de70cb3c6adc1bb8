"""NaN/Inf guard: stops at the first non-finite loss term, names where, keeps
the last good checkpoint."""

import dataclasses
import os
import re

import numpy as np
import pytest

from tests.helpers import AtBatch, load_json, tiny_config
from tfface.callbacks import NonFiniteGuard, NonFiniteLossError
from tfface.config import TrainConfig
from tfface.presets import build_preset
from tfface.experiments import train


def test_non_finite_batch_names_epoch_batch_and_term():
    x = np.random.default_rng(0).random((12, 32, 32, 3), dtype=np.float32)
    x[9, 3, 3, 0] = np.inf  # the third batch of four
    model = build_preset("vae_tiny", image_size=(32, 32))
    model.compile(optimizer="adam")
    with pytest.raises(NonFiniteLossError) as caught:
        model.fit(x, batch_size=4, epochs=2, shuffle=False, callbacks=[NonFiniteGuard()], verbose=0)
    error = caught.value
    assert (error.epoch, error.batch) == (1, 3)
    assert "reconstruction_loss" in error.terms and "loss" in error.terms
    message = str(error)
    assert "epoch 1, batch 3" in message and "reconstruction_loss=" in message
    for fix in ("learning_rate", "kl_warmup_epochs", "value range", "loss scaling", "clip"):
        assert fix in message
    # Every config key a fix names exists (no advice about an option no config has).
    named = set(re.findall(r"train\.([a-z_0-9]+)", message))
    assert named and named <= {f.name for f in dataclasses.fields(TrainConfig)}, named


def test_non_finite_validation_loss_stops_before_the_epoch_is_recorded():
    guard = NonFiniteGuard()
    guard.on_epoch_begin(4)
    guard.on_train_batch_end(0, {"loss": 1.0, "kl_loss": 0.5})
    with pytest.raises(NonFiniteLossError, match=r"epoch 5 \(validation\): val_kl_loss=nan"):
        guard.on_epoch_end(4, {"loss": 1.0, "val_kl_loss": float("nan"), "val_psnr": float("nan")})


def _poison_decoder(model):
    kernel = model.decoder.trainable_weights[0]
    kernel.assign(np.full(kernel.shape, np.nan, dtype="float32"))


def test_runner_keeps_last_good_checkpoint_and_weights(tmp_path):
    config = tiny_config(tmp_path, "train.epochs=3", "run.export=false", "run.reconstruction_grid=false")
    with pytest.raises(NonFiniteLossError) as caught:
        train(config, extra_callbacks=[AtBatch(2, 2, _poison_decoder)])
    message = str(caught.value)
    assert "epoch 2, batch 2" in message and "last good checkpoint (after epoch 1)" in message

    assert load_json(tmp_path / "checkpoints" / "checkpoint.json")["epoch"] == 1
    assert (tmp_path / "history.csv").read_text().count("\n") == 2  # header + epoch 1
    assert not (tmp_path / "grids" / "samples_e002_end.png").exists()
    assert not (tmp_path / "model.keras").exists()

    resumed = train(config)  # the same command continues from the good checkpoint
    assert resumed.initial_epoch == 1
    assert all(np.isfinite(resumed.history["loss"]))
    assert all(np.isfinite(w).all() for w in resumed.model.get_weights())
    assert os.path.exists(resumed.run_dir.model)
