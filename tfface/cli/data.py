"""`tfface data inspect`: check a dataset before a long run."""

from __future__ import annotations

import argparse
import json

from tfface.cli import command


def _add_inspect_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", required=True, choices=("celeba", "celeba-local", "folder", "synthetic"),
                        help="data source")  # fmt: skip
    parser.add_argument("--path", help="image folder, extracted CelebA folder, or tfds data directory")
    parser.add_argument("--face-crop", action="store_true", help="crop to the largest Haar-cascade face")
    parser.add_argument("--image-size", nargs=2, type=int, default=(64, 64), metavar=("H", "W"),
                        help="size of the processed preview images (default 64 64)")  # fmt: skip
    parser.add_argument("--out", help="folder for preview.png, a grid of processed images")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="other data settings, e.g. --set data.validation_count=1000 data.face_margin=0.3")  # fmt: skip


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_inspect_arguments(actions.add_parser(
        "inspect", help="count images per split, list skipped files, face counts, preview grid"))  # fmt: skip


def inspect(args: argparse.Namespace) -> int:
    from tfface.config import ExperimentConfig, apply_overrides
    from tfface.data.inspect import format_summary, inspect_data

    settings = [f"data.source={json.dumps(args.source)}", f"data.face_crop={'true' if args.face_crop else 'false'}"]
    if args.path:
        settings.append(f"data.path={json.dumps(args.path)}")
    for item in args.set:
        key = item.split("=", 1)[0].strip()
        if not key.startswith("data."):
            raise ValueError(f"--set {item!r}: only data.* settings apply to `data inspect`")
    config = apply_overrides(ExperimentConfig(), [*settings, *args.set]).data
    summary = inspect_data(config, args.image_size, out=args.out)
    print(json.dumps(summary, indent=2) if args.json else format_summary(summary))
    return 0


ACTIONS = {"inspect": inspect}


@command("data", "Data tools: `tfface data inspect` checks a dataset before a long run.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    return ACTIONS[args.action](args)
