"""Train options that only some models can use: set where they cannot
apply, they fail naming the key (never silently ignored)."""

from types import SimpleNamespace

import pytest

from tests.helpers import tiny_config
from tfface.config import ConfigError
from tfface.training import build_model
from tfface.training.runner import compile_model

NO_XLA = SimpleNamespace(jit_compile=False)
FOUR_STEPS = SimpleNamespace(steps_per_epoch=4)


def test_kl_warmup_epochs_sets_a_vaes_warmup_in_steps(tmp_path):
    config = tiny_config(tmp_path, "train.kl_warmup_epochs=2.5")
    model = build_model(config)
    compile_model(model, config, FOUR_STEPS, NO_XLA)
    assert model.kl_warmup_steps == 10  # 2.5 epochs x 4 steps


def test_kl_warmup_epochs_on_a_model_without_kl_term_is_a_config_error(tmp_path):
    config = tiny_config(tmp_path, "model.preset='ae_demo'", "model.args.widths=[8, 16]", "train.kl_warmup_epochs=2")
    model = build_model(config)
    assert not hasattr(model, "kl_warmup_steps")
    with pytest.raises(ConfigError, match=r"train\.kl_warmup_epochs: Autoencoder \(preset 'ae_demo'\) has no KL term"):
        compile_model(model, config, FOUR_STEPS, NO_XLA)
    compile_model(model, tiny_config(tmp_path, "model.preset='ae_demo'", "model.args.widths=[8, 16]"), FOUR_STEPS, NO_XLA)
