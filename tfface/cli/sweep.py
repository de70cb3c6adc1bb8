"""`tfface sweep CONFIG`: train, evaluate, tabulate and compare a grid of runs."""

from __future__ import annotations

import argparse

from tfface.cli import command


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="sweep config (.toml or .json), e.g. pipelines/sweeps/r004_table2.toml")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="override experiment keys of every run, e.g. --set data.path=/data/ffhq train.epochs=1")
    parser.add_argument("--output", default=None, help="output folder (default: the sweep's `output`)")
    parser.add_argument("--only", nargs="+", default=None, metavar="RUN", help="train/evaluate only these runs")
    parser.add_argument("--force", action="store_true", help="evaluate finished runs again")
    parser.add_argument("--no-figures", action="store_true", help="skip the comparison figures")
    parser.add_argument("--list", action="store_true", help="print the runs and their overrides, train nothing")


@command("sweep", "Train a sweep of runs one after another (resumable), then write a Markdown/CSV table and comparison figures.", _add_arguments)
def run(args: argparse.Namespace) -> int:
    from tfface.experiments import check_presets, load_sweep, run_sweep

    sweep = load_sweep(args.config, args.set, output=args.output)
    if args.list:
        check_presets(sweep)
        for item in sweep.runs:
            print(f"{item.name:<32} {item.config.model.preset:<24} {' '.join(item.overrides)}")
        return 0
    result = run_sweep(sweep, only=args.only, force=args.force, figures=not args.no_figures)
    print(f"\ntrained {len(result.trained)}, evaluated {len(result.evaluated)}, skipped {len(result.skipped)} (finished)")
    with open(result.files["table_md"], encoding="utf-8") as handle:
        print("\n" + handle.read())
    for key, path in result.files.items():
        print(f"{key + ':':<15} {path}")
    return 0
