"""`tfface presets`: list the named presets."""

from __future__ import annotations

import argparse
import json


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--params", action="store_true", help="build each preset to count parameters (slower)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


from tfface.cli import command  # noqa: E402


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
            "summary": preset.summary,
        }
        if args.params:
            import keras

            model = preset.build()
            row["latent"] = getattr(model, "latent_dim", "")
            row["params"] = model.count_params()
            keras.backend.clear_session()
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    columns = ["name", "report", "input", "range"] + (["latent", "params"] if args.params else []) + ["summary"]
    widths = {c: max(len(c), *(len(f"{r[c]:,}" if c == "params" else str(r[c])) for r in rows)) for c in columns[:-1]}
    print("  ".join(c.ljust(widths.get(c, 0)) for c in columns))
    for r in rows:
        cells = [(f"{r[c]:,}" if c == "params" else str(r[c])).ljust(widths[c]) for c in columns[:-1]]
        print("  ".join(cells + [r["summary"]]))
    return 0
