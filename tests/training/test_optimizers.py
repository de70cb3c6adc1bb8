"""`train.optimizer` names an entry of the OPTIMIZERS registry."""

import keras
import numpy as np
import pytest

from tfface.config import ConfigError, ExperimentConfig, TrainConfig, apply_overrides
from tfface.training import OPTIMIZERS, make_optimizer
from tfface.training.optimizers import SGD, AdamW, FusedAdam, RMSprop, WarmedUpAverage

# Keras' optimizers with the warmed-up weight average of `train.ema`
EXPECTED = {"adam": FusedAdam, "adamw": AdamW, "rmsprop": RMSprop, "sgd": SGD}


def test_every_registered_optimizer_is_selectable_and_the_default_is_registered():
    assert sorted(OPTIMIZERS.names()) == sorted(EXPECTED)
    assert TrainConfig().optimizer in OPTIMIZERS
    for name in EXPECTED:
        assert TrainConfig(optimizer=name).optimizer == name
    with pytest.raises(ConfigError, match=r"train\.optimizer: 'adamm' is not a registered optimizer \(did you mean 'adam'\?\)"):
        TrainConfig(optimizer="adamm")


def test_a_newly_registered_optimizer_can_be_selected_from_a_config(monkeypatch):
    from tfface.training.optimizers import OptimizerChoice

    monkeypatch.setitem(OPTIMIZERS._entries, "nadam", OptimizerChoice(keras.optimizers.Nadam, ("beta_1",)))
    config = apply_overrides(ExperimentConfig(), ["train.optimizer='nadam'", "train.beta_1=0.8"])
    optimizer = make_optimizer(config.train)
    assert type(optimizer) is keras.optimizers.Nadam and optimizer.beta_1 == 0.8
    with pytest.raises(ConfigError, match=r"train\.beta_2: train\.optimizer='nadam' has no beta_2"):
        TrainConfig(optimizer="nadam", beta_2=0.9)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_make_optimizer_builds_the_named_optimizer_with_the_configured_rate(name):
    optimizer = make_optimizer(TrainConfig(optimizer=name, learning_rate=3e-3))
    assert type(optimizer) is EXPECTED[name] and isinstance(optimizer, WarmedUpAverage)
    assert isinstance(optimizer, getattr(keras.optimizers, EXPECTED[name].__name__.replace("Fused", "")))
    assert float(optimizer.learning_rate) == pytest.approx(3e-3)


@pytest.mark.parametrize("name", ["adam", "adamw"])
def test_adam_takes_its_moment_decay_rates_and_keeps_kerass_defaults(name):
    assert (make_optimizer(TrainConfig(optimizer=name)).beta_1, make_optimizer(TrainConfig(optimizer=name)).beta_2) == (0.9, 0.999)
    optimizer = make_optimizer(TrainConfig(optimizer=name, beta_1=0.5, beta_2=0.9))
    assert (optimizer.beta_1, optimizer.beta_2) == (0.5, 0.9)
    with pytest.raises(ConfigError, match=r"train\.momentum: train\.optimizer='%s' has no momentum \(used by 'rmsprop', 'sgd'\)" % name):
        TrainConfig(optimizer=name, momentum=0.9)


@pytest.mark.parametrize("name", ["sgd", "rmsprop"])
def test_momentum_is_its_own_key_and_adams_betas_are_refused(name):
    assert make_optimizer(TrainConfig(optimizer=name)).momentum == 0.0  # Keras' default, not beta_1's 0.9
    assert make_optimizer(TrainConfig(optimizer=name, momentum=0.7)).momentum == pytest.approx(0.7)
    for key in ("beta_1", "beta_2"):
        with pytest.raises(ConfigError, match=rf"train\.{key}: train\.optimizer='{name}' has no {key} \(used by 'adam', 'adamw'\)"):
            apply_overrides(ExperimentConfig(), [f"train.optimizer='{name}'", f"train.{key}=0.5"])


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
