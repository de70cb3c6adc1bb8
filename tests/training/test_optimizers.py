"""`train.optimizer` names an entry of the OPTIMIZERS registry."""

import dataclasses

import keras
import numpy as np
import pytest

from tfface.config import TrainConfig
from tfface.training import OPTIMIZERS, make_optimizer
from tfface.training.optimizers import FusedAdam

EXPECTED = {"adam": FusedAdam, "adamw": keras.optimizers.AdamW,
            "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}  # fmt: skip


def test_every_configurable_optimizer_is_registered():
    choices = next(f for f in dataclasses.fields(TrainConfig) if f.name == "optimizer").metadata["choices"]
    assert sorted(choices) == sorted(OPTIMIZERS.names()) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_make_optimizer_builds_the_named_optimizer_with_the_configured_rate(name):
    config = TrainConfig(optimizer=name, learning_rate=3e-3, beta_1=0.5)
    optimizer = make_optimizer(config)
    assert type(optimizer) is EXPECTED[name]
    assert float(optimizer.learning_rate) == pytest.approx(3e-3)
    if name in ("adam", "adamw"):
        assert optimizer.beta_1 == 0.5
    if name == "sgd":
        assert optimizer.momentum == 0.5


def _trained_weights(optimizer, steps: int = 6) -> list[np.ndarray]:
    """A small conv net (conv, BatchNorm, dense) after `steps` fit steps
    with `optimizer`, from the same start. (A conv bias before BatchNorm
    gets a zero gradient up to rounding, which Adam scales to full steps
    of either sign: it is left out.)"""
    keras.utils.set_random_seed(7)
    model = keras.Sequential([
        keras.Input((8, 8, 3)),
        keras.layers.Conv2D(4, 3, strides=2, padding="same", use_bias=False),
        keras.layers.BatchNormalization(),
        keras.layers.Flatten(),
        keras.layers.Dense(2),
    ])  # fmt: skip
    model.compile(optimizer=optimizer, loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 8, 8, 3)).astype("float32"), rng.normal(size=(16, 2)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=steps // 2, shuffle=False, verbose=0)
    return [w.numpy() for w in model.weights] + [v.numpy() for v in optimizer.variables]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_fused_adam_makes_kerass_adam_updates(amsgrad):
    fused = _trained_weights(FusedAdam(0.05, beta_1=0.8, beta_2=0.95, amsgrad=amsgrad))
    plain = _trained_weights(keras.optimizers.Adam(0.05, beta_1=0.8, beta_2=0.95, amsgrad=amsgrad))
    assert len(fused) == len(plain)
    start = _trained_weights(FusedAdam(0.05), steps=0)
    assert any(not np.allclose(a, b) for a, b in zip(fused, start))  # it trained
    for a, b in zip(fused, plain):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fused_adam_round_trips_through_its_config():
    optimizer = FusedAdam(2e-3, beta_1=0.5, epsilon=1e-6)
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is FusedAdam
    assert (float(restored.learning_rate), restored.beta_1, restored.epsilon) == pytest.approx((2e-3, 0.5, 1e-6))
