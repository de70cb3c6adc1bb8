"""`tfface train --config FILE [--set key=value ...]`."""

from __future__ import annotations

import argparse

from tfface.cli import command


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="experiment config (.toml or .json)")
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="KEY=VALUE",
        help="override config keys, e.g. --set train.epochs=2 run.dir=out/x",
    )


@command("train", "Train a preset on a dataset; writes a run folder.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    from tfface.config import load_config
    from tfface.experiments import train

    config = load_config(args.config, args.set)
    result = train(config)
    print(f"\nRun folder:   {result.run_dir.root}")
    for key in ("loss", "reconstruction_loss", "kl_loss", "attribute_accuracy", "val_loss", "val_attribute_accuracy"):
        if key in result.history:
            print(f"final {key:<20} {result.final(key):.4f}")
    for label, key in (("grids", "grids"), ("loss curves", "loss_curves"), ("model", "model"), ("export", "export")):
        if key in result.files:
            print(f"{label + ':':<13} {result.files[key]}")
    return 0
