"""Configs with wrong types, unknown keys and out-of-range values: always a
`ConfigError` naming the key, never another exception."""

import dataclasses
import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tfface.config import (
    ConfigError,
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
)

SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig, "run": RunConfig}
FIELDS = [(name, f) for name, cls in SECTIONS.items() for f in dataclasses.fields(cls)]
FUZZ = settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _assert_names(error: ConfigError, key: str) -> None:
    assert key in str(error) or repr(key)[1:-1] in str(error), f"{str(error)!r} does not name {key!r}"


LEARNING_RATE = next(item for item in FIELDS if item[1].name == "learning_rate")


@FUZZ
@given(field=st.sampled_from(FIELDS), value=values)
@example(field=LEARNING_RATE, value=float("nan"))
@example(field=LEARNING_RATE, value=float("-inf"))
def test_any_value_for_a_known_key_is_accepted_valid_or_refused_by_name(field, value):
    section, f = field
    key = f"{section}.{f.name}"
    try:
        config = config_from_dict({section: {f.name: value}})
    except ConfigError as error:
        _assert_names(error, key)
        return
    stored = getattr(getattr(config, section), f.name)
    if isinstance(stored, float):
        assert math.isfinite(stored), f"{key} accepted {stored!r}"
    assert config_from_dict(config_to_dict(config)) == config


@FUZZ
@given(
    section=st.sampled_from(sorted(SECTIONS)),
    key=st.text(min_size=1, max_size=15).filter(lambda k: k not in {f.name for _, f in FIELDS}),
    value=scalars,
)
def test_unknown_keys_are_refused_by_name(section, key, value):
    try:
        config_from_dict({section: {key: value}})
    except ConfigError as error:
        _assert_names(error, f"{section}.{key}")
    else:
        raise AssertionError(f"unknown key {section}.{key} was accepted")


BOUNDED = [(s, f) for s, f in FIELDS if "min" in f.metadata or "max" in f.metadata]


@FUZZ
@given(field=st.sampled_from(BOUNDED), excess=st.floats(min_value=1e-3, max_value=1e12))
def test_out_of_range_numbers_are_refused_by_name(field, excess):
    section, f = field
    meta = f.metadata
    number = meta["min"] - excess if "min" in meta else meta["max"] + excess
    is_int = "int" in str(f.type) and "float" not in str(f.type)
    value = math.floor(number) if is_int else number
    if f.name == "image_size":
        value = [value, value]
    try:
        config_from_dict({section: {f.name: value}})
    except ConfigError as error:
        _assert_names(error, f"{section}.{f.name}")
    else:
        raise AssertionError(f"{section}.{f.name}={value!r} was accepted")


@FUZZ
@given(text=st.text(max_size=40))
def test_override_strings_never_escape_as_other_errors(text):
    try:
        apply_overrides(ExperimentConfig(), [text])
    except ConfigError as error:
        assert str(error)


@FUZZ
@given(data=st.binary(max_size=200), suffix=st.sampled_from([".toml", ".json"]))
def test_random_bytes_as_a_config_file_name_the_file(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("cfg") / f"experiment{suffix}"
    path.write_bytes(data)
    try:
        load_config(path)
    except ConfigError as error:
        assert str(path) in str(error) or "unknown config key" in str(error) or "expected" in str(error)
