"""`train.optimizer` names an entry of the OPTIMIZERS registry."""

import dataclasses

import keras
import pytest

from tfface.config import TrainConfig
from tfface.training import OPTIMIZERS, make_optimizer

EXPECTED = {"adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
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
