import json

import numpy as np
import pytest

import tfface.registry
from tfface.config import (
    ConfigError,
    ExperimentConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
    overrides_from,
    save_config,
)


def test_overrides_set_dotted_keys_with_types():
    cfg = apply_overrides(
        ExperimentConfig(),
        ["train.epochs=2", "run.dir=out/x", "data.image_size=[64, 48]", "model.args.widths=[8, 16]", "train.learning_rate=2e-4"],
    )
    assert cfg.train.epochs == 2 and cfg.run.dir == "out/x"
    assert cfg.data.image_size == (64, 48)
    assert cfg.model.args == {"widths": [8, 16]}
    assert cfg.train.learning_rate == 2e-4
    assert apply_overrides(cfg, ["data.image_size=32"]).data.image_size == (32, 32)


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.epoch=2", "unknown config key 'train.epoch' (did you mean 'train.epochs'?)"),
        ("trian.epochs=2", "unknown config key 'trian.epochs'"),
        ("train.epochs=two", "train.epochs: expected int, got 'two'"),
        ("train.epochs=0", "train.epochs: must be >= 1"),
        ("train.mixed_precision=fp16", "train.mixed_precision: 'fp16' is not one of"),
        ("data.flip=3", "data.flip: expected bool"),
        ("train.epochs", "expected key=value"),
    ],
)
def test_bad_overrides_name_the_key(override, message):
    with pytest.raises(ConfigError) as error:
        apply_overrides(ExperimentConfig(), [override])
    assert message in str(error.value)


def test_file_round_trip_and_errors_name_file_and_key(tmp_path):
    cfg = apply_overrides(ExperimentConfig(), ["train.epochs=3", "data.image_size=[48, 32]"])
    path = tmp_path / "config.json"
    save_config(cfg, path)
    assert load_config(path) == cfg
    assert json.loads(path.read_text())["data"]["image_size"] == [48, 32]

    bad = tmp_path / "bad.toml"
    bad.write_text('[train]\nepochs = "ten"\n')
    with pytest.raises(ConfigError, match=r"train.epochs: expected int, got 'ten' in .*bad.toml"):
        load_config(bad)
    bad.write_text("[trainer]\nepochs = 1\n")
    with pytest.raises(ConfigError, match=r"unknown config key 'trainer'.*did you mean 'train'"):
        load_config(bad)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml")


def test_config_to_dict_is_plain_json_that_rebuilds_the_config():
    cfg = apply_overrides(ExperimentConfig(), ["data.image_size=[48, 32]", "model.args.widths=[8, 16]",
                                               "train.early_stopping.patience=2", "name='x'"])  # fmt: skip
    raw = config_to_dict(cfg)
    assert json.loads(json.dumps(raw)) == raw  # only dicts, lists, str, numbers, bools, None (a tuple != its list)
    assert raw["data"]["image_size"] == [48, 32] and raw["train"]["early_stopping"]["patience"] == 2
    assert config_from_dict(json.loads(json.dumps(raw))) == cfg


@pytest.mark.parametrize("key, registry_name", [("train.distribution", "STRATEGIES"),
                                                ("model.reconstruction_loss", "RECONSTRUCTION_LOSSES")])  # fmt: skip
def test_a_newly_registered_entry_can_be_selected_from_a_config(monkeypatch, key, registry_name):
    """One source of truth: the config accepts what the registry holds."""
    registry = getattr(tfface.registry, registry_name)
    with pytest.raises(ConfigError, match=rf"{key}: 'mine' is not a registered {registry.kind}; known: "):
        apply_overrides(ExperimentConfig(), [f"{key}='mine'"])
    monkeypatch.setitem(registry._entries, "mine", object())
    section, name = key.split(".")
    assert getattr(getattr(apply_overrides(ExperimentConfig(), [f"{key}='mine'"]), section), name) == "mine"


def test_a_registered_reconstruction_loss_is_what_the_loss_computes(monkeypatch):
    from tfface.losses import reconstruction_loss

    monkeypatch.setitem(tfface.registry.RECONSTRUCTION_LOSSES._entries, "l1", lambda t, o, value_range: abs(t - o))
    x, y = np.zeros((2, 4, 4, 3), "float32"), np.full((2, 4, 4, 3), 0.5, "float32")
    assert [float(v) for v in reconstruction_loss(x, y, kind="l1", reduction="sum")] == [24.0, 24.0]  # 48 pixels x 0.5


def test_overrides_from_python_values_round_trip():
    values = {"data.source": 'celeba "local"', "data.image_size": (64, 48), "model.beta": 1e-5, "run.resume": False,
              "train.steps_per_epoch": None, "model.args.widths": [8, 16]}
    overrides = overrides_from(values)
    assert not any(item.startswith("train.steps_per_epoch") for item in overrides)
    cfg = apply_overrides(ExperimentConfig(), overrides)
    assert (cfg.data.source, cfg.data.image_size, cfg.model.beta, cfg.run.resume) == ('celeba "local"', (64, 48), 1e-5, False)
    assert cfg.model.args == {"widths": [8, 16]} and cfg.train.steps_per_epoch is None


