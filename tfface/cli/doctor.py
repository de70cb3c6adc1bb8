"""`tfface doctor`: versions, devices, what "auto" precision and XLA resolve
to, the CPU kernels, whether the FID/perceptual weights and CelebA can be
had, and a short throughput probe (`tfface.experiments.doctor`)."""

from __future__ import annotations

import argparse

from tfface.cli import command


def _at_least_one(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--no-probe", action="store_true", help="skip the training throughput probe")
    parser.add_argument("--preset", default="vae_demo", help="preset of the throughput probe (default: vae_demo)")
    parser.add_argument("--probe-steps", type=_at_least_one, default=5, help="timed training steps of the probe (default: 5)")
    parser.add_argument("--batch-size", type=_at_least_one, default=32, help="batch size of the probe (default: 32)")
    parser.add_argument("--timeout", type=float, default=3.0,
                        help="seconds the network checks may take together (default: 3)")  # fmt: skip


@command("doctor", "What this runtime has: versions, devices, \"auto\" precision and XLA, CPU kernels, reachable weights and data, a throughput probe.", _add_arguments)  # fmt: skip
def run(args: argparse.Namespace) -> int:
    from tfface.experiments.doctor import doctor

    report = doctor(probe=not args.no_probe, preset=args.preset, probe_steps=args.probe_steps,
                    batch_size=args.batch_size, timeout=args.timeout)  # fmt: skip
    print(report.to_json() if args.json else report.text())
    return 0
