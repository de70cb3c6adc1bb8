"""`tfface presets`: list the named presets."""

from __future__ import annotations

import argparse
import inspect
import json


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-params", dest="params", action="store_false",
        help="do not build the presets: no parameter counts (latent sizes from the builders' defaults)",
    )  # fmt: skip
    parser.add_argument("--params", dest="params", action="store_true", default=True,
                        help="build each preset to count parameters (the default)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


from tfface.cli import command  # noqa: E402


def _default_latent(builder) -> int | str:
    parameter = inspect.signature(builder).parameters.get("latent_dim")
    return parameter.default if parameter is not None and parameter.default is not inspect.Parameter.empty else ""


def _counts(model) -> dict:
    counts = {"latent": getattr(model, "latent_dim", ""), "params": model.count_params()}
    for part in ("encoder", "decoder"):
        trunk = getattr(model, part, None)
        counts[part] = trunk.count_params() if trunk is not None else ""
    return counts


def _cell(row: dict, column: str) -> str:
    value = row[column]
    return f"{value:,}" if isinstance(value, int) and column in ("params", "encoder", "decoder") else str(value)


@command("presets", "List named presets: report section, input size, latent size, parameters.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    from tfface.presets import load_all

    rows = []
    for name, preset in load_all().items():
        row = {
            "name": name,
            "report": preset.report or "tfface",
            "input": "x".join(map(str, preset.image_size)),
            "range": preset.value_range,
            "latent": _default_latent(preset.builder),
            "summary": preset.summary,
        }
        if args.params:
            import keras

            row.update(_counts(preset.build()))
            keras.backend.clear_session()
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = ["name", "report", "input", "range", "latent"] + (["params"] if args.params else []) + ["summary"]
    widths = {c: max(len(c), *(len(_cell(r, c)) for r in rows)) for c in columns[:-1]}
    print("  ".join(c.ljust(widths.get(c, 0)) for c in columns))
    for r in rows:
        print("  ".join([_cell(r, c).ljust(widths[c]) for c in columns[:-1]] + [r["summary"]]))
    return 0
