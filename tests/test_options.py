"""The one config mechanism (`tfface.config.Options`): nested option sets,
tuples, optional values, unknown-key hints, type errors naming the key, one
file reader, and command-line flags generated from the dataclass fields."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field

import pytest

from tfface.config import (
    ConfigError,
    EvaluationOptions,
    Options,
    SampleOptions,
    add_arguments,
    from_args,
    from_dict,
    read_file,
    to_dict,
)


@dataclass(frozen=True)
class Inner(Options):
    section = "inner"

    size: tuple[int, int] = (4, 4)
    names: tuple[str, ...] = ()
    label: str | None = None
    rate: float = field(default=0.5, metadata={"min": 0.0, "max": 1.0})


@dataclass(frozen=True)
class Item(Options):
    name: str = ""
    weight: int = 1


@dataclass(frozen=True)
class Outer(Options):
    title: str = ""
    inner: Inner = field(default_factory=Inner)
    items: tuple[Item, ...] = ()
    extra: Inner | None = None


def test_nested_tables_tuples_and_optionals_are_built_and_round_trip():
    raw = {
        "title": "t",
        "inner": {"size": 8, "names": "psnr", "rate": 1},
        "items": [{"name": "a"}, {"name": "b", "weight": 3}],
        "extra": {"label": "x"},
    }
    outer = from_dict(Outer, raw)
    assert outer.inner == Inner(size=(8, 8), names=("psnr",), rate=1.0)
    assert isinstance(outer.inner.rate, float)
    assert outer.items == (Item("a"), Item("b", 3))
    assert outer.extra.label == "x" and outer.extra.size == (4, 4)
    assert from_dict(Outer, {}).extra is None
    assert from_dict(Outer, to_dict(outer)) == outer
    assert outer["title"] == "t"


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"inner": {"size": "big"}}, "inner.size: expected [int, int], got 'big'"),
        ({"inner": {"names": ["a", 2]}}, "inner.names[1]: expected str, got 2"),
        ({"inner": {"rate": 2.0}}, "inner.rate: must be <= 1.0, got 2.0"),
        ({"inner": {"label": 3}}, "inner.label: expected str or None, got 3"),
        ({"inner": 5}, "inner: expected a table of keys, got 5"),
        ({"items": [{"weight": "heavy"}]}, "items[0].weight: expected int, got 'heavy'"),
        ({"titel": "x"}, "unknown key 'titel' (did you mean 'title'?)"),
        ({"inner": {"sise": 3}}, "inner: unknown key 'sise' (did you mean 'size'?)"),
        ({"items": [{"name": "a"}, {"wieght": 2}]}, "items[1]: unknown key 'wieght' (did you mean 'weight'?)"),
    ],
)
def test_wrong_types_and_unknown_keys_name_the_key_and_the_file(raw, message):
    with pytest.raises(ConfigError) as error:
        from_dict(Outer, raw, source="sweep.toml")
    assert message in str(error.value)
    assert str(error.value).endswith(" in sweep.toml")


def test_direct_construction_is_validated_too():
    with pytest.raises(ConfigError, match=r"inner\.rate: must be >= 0.0"):
        Inner(rate=-1.0)
    with pytest.raises(ConfigError, match="evaluate.batch_size: expected int, got 'x'"):
        EvaluationOptions(batch_size="x")
    with pytest.raises(ConfigError, match="evaluate.fid_network: 'inception' is not one of"):
        EvaluationOptions.from_dict({"fid_network": "inception"})


def test_read_file_names_the_path(tmp_path):
    good = tmp_path / "a.toml"
    good.write_text('title = "t"\n[inner]\nsize = [2, 3]\n')
    assert from_dict(Outer, read_file(good)).inner.size == (2, 3)
    (tmp_path / "b.json").write_text('{"title": "j"}')
    assert read_file(tmp_path / "b.json") == {"title": "j"}
    bad = tmp_path / "bad.toml"
    bad.write_text("title = \n")
    with pytest.raises(ConfigError, match=f"{bad}: not valid TOML"):
        read_file(bad)
    with pytest.raises(ConfigError, match=f"sweep config not found: {tmp_path / 'none.toml'}"):
        read_file(tmp_path / "none.toml", "sweep config")
    (tmp_path / "list.json").write_text("[1]")
    with pytest.raises(ConfigError, match="expected a table at the top level"):
        read_file(tmp_path / "list.json")


def _flags(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in parser._actions if a.option_strings and a.dest != "help"}


def _command_parser(name: str) -> argparse.ArgumentParser:
    import importlib

    from tfface.cli import COMMANDS

    importlib.import_module(f"tfface.cli.{name}")  # registers the command
    parser = argparse.ArgumentParser()
    COMMANDS.get(name).add_arguments(parser)
    return parser


@pytest.mark.parametrize("command, options", [("evaluate", EvaluationOptions), ("sample", SampleOptions)])
def test_cli_flags_are_the_option_fields(command, options):
    flags = _flags(_command_parser(command))
    fields = {f.name: f for f in dataclasses.fields(options)}
    assert set(flags) == set(fields)
    for name, action in flags.items():
        assert action.option_strings[0] == "--" + name.replace("_", "-")
        assert action.default == fields[name].default, name
        assert action.choices == fields[name].metadata.get("choices"), name


def test_evaluate_flags_build_the_evaluation_options():
    import tfface.cli.evaluate

    parser = _command_parser("evaluate")
    args = parser.parse_args(["r", "--fid", "--count", "7", "--temperature", "0.5", "--fid-network", "keras-inception-v3"])
    options = tfface.cli.evaluate.options_from_args(args)
    assert options == EvaluationOptions(fid=True, count=7, temperature=0.5, fid_network="keras-inception-v3")
    assert tfface.cli.evaluate.options_from_args(parser.parse_args(["r"])) == EvaluationOptions()


def test_sample_flags_build_the_sample_options():
    args = _command_parser("sample").parse_args(["r", "traverse", "--dims", "0", "3", "--remove", "Male", "--refit"])
    assert from_args(SampleOptions, args) == SampleOptions(dims=(0, 3), remove=("Male",), refit=True)


def test_generated_flags_follow_types_and_defaults():
    @dataclass(frozen=True)
    class Opts(Options):
        steps: int | None = None
        method: str = field(default="slerp", metadata={"choices": ("slerp", "linear")})
        cache: bool = True

    parser = argparse.ArgumentParser()
    add_arguments(parser, Opts, {"steps": "columns"})
    assert from_args(Opts, parser.parse_args([])) == Opts()
    assert from_args(Opts, parser.parse_args(["--steps", "3", "--no-cache", "--method", "linear"])) == Opts(3, "linear", False)
    with pytest.raises(SystemExit):
        parser.parse_args(["--method", "cubic"])
    with pytest.raises(TypeError, match="Outer.inner: no command-line flag"):
        add_arguments(argparse.ArgumentParser(), Outer)


@pytest.mark.parametrize("name", ["tfface.registry", "tfface.config", "tfface.experiments.sweep"])
def test_docstring_examples_of_the_option_modules_run(name):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_data_inspect_flags_name_data_config_fields():
    from tfface.config import DataConfig

    parser = _command_parser("data")
    inspect = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices["inspect"]
    settings = set(_flags(inspect)) - {"out", "json", "set"}
    assert settings and settings <= {f.name for f in dataclasses.fields(DataConfig)}
