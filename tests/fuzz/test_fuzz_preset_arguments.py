"""Presets × `[model]` keys: a key the chosen preset does not take is a
one-line `ConfigError` naming the key, the preset and its arguments, raised
when the config is checked (before data loading), never a `TypeError` from
deep inside a builder."""

import inspect

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfface.config import ConfigError, ModelConfig, apply_overrides, load_config
from tfface.presets import check_model_config, load_all, preset_arguments

PRESET_NAMES = sorted(load_all().names())
FIELD_KEYS = ("latent_dim", "beta", "reconstruction_loss")
ALL_ARGUMENTS = sorted({name for preset in PRESET_NAMES for name in preset_arguments(preset) or ()})
FUZZ = settings(max_examples=80, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

VALUES = {"latent_dim": 8, "beta": 0.5, "reconstruction_loss": "mse"}


def _config(preset: str, key: str) -> ModelConfig:
    if key in FIELD_KEYS:
        return ModelConfig(preset=preset, **{key: VALUES[key]})
    return ModelConfig(preset=preset, args={key: 1})


@FUZZ
@given(
    preset=st.sampled_from(PRESET_NAMES),
    key=st.sampled_from([*FIELD_KEYS, *ALL_ARGUMENTS]) | st.text(st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1, max_size=12),
)
def test_a_key_the_preset_does_not_take_is_refused_by_name(preset, key):
    config = _config(preset, key)
    accepted = preset_arguments(preset)
    try:
        check_model_config(config)
    except ConfigError as error:
        message = str(error)
        name = f"model.{key}" if key in FIELD_KEYS else f"model.args.{key}"
        assert message.startswith(f"{name}: "), message
        assert repr(preset) in message and "\n" not in message
        assert ", ".join(accepted) in message
        assert key not in accepted
    else:
        # Accepted keys bind to the builder: no TypeError when it is called.
        inspect.signature(load_all().get(preset).builder).bind_partial(**config.preset_kwargs())


def test_the_demo_config_with_the_ae_preset_fails_in_one_line_before_data(monkeypatch, capsys):
    import tfface.training.runner as runner
    from tfface.cli.main import main

    def no_data(*args, **kwargs):
        raise AssertionError("data was loaded before the model config was checked")

    monkeypatch.setattr(runner, "make_run_datasets", no_data)
    assert main(["train", "--config", "pipelines/demo.toml", "--set", "model.preset=ae_demo"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tfface train: error: model.beta: preset 'ae_demo' takes no argument 'beta'; its arguments: ")
    assert "latent_dim" in err and len(err.splitlines()) == 1
