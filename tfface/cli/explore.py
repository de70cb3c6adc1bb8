"""`tfface explore RUN_OR_EXPORT`: an interactive explorer in the browser
(Generate, Interpolate, Attributes, Your photo) over a run folder or a
SavedModel export alone. Needs the `explore` extra (Gradio)."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from tfface.cli import command

INSTALL = "pip install 'tfface[explore]'"


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="RUN_OR_EXPORT",
                        help="run folder, export version folder (RUN/export/1) or model base path (OUT of `tfface export`)")  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only; 0.0.0.0: the network)")
    parser.add_argument("--port", type=int, default=None, help="port (default: the first free one from 7860)")
    parser.add_argument("--share", action="store_true", help="also open a temporary public link through Gradio's share servers")
    parser.add_argument("--max-upload-mb", type=float, default=10.0, help="largest photo upload in MB (default 10)")
    parser.add_argument("--concurrency", type=int, default=2, help="requests computed at once; the rest wait in the queue (default 2)")
    parser.add_argument("--queue-size", type=int, default=64, help="requests waiting at most (default 64)")


@command("explore", "Explore a run or a SavedModel export in the browser: generate, interpolate, edit attributes, reconstruct your photo.", _add_arguments)  # fmt: skip
def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("gradio") is None:
        print(f"tfface explore: the explorer needs Gradio, an optional extra: {INSTALL}", file=sys.stderr)
        return 2
    from tfface.explore import Limits, ServedModel, ServeOptions, build_app, launch

    if args.port is not None and not 0 < args.port < 65536:
        raise ValueError(f"--port must be 1 to 65535, got {args.port}")
    if args.max_upload_mb <= 0 or args.concurrency < 1 or args.queue_size < 1:
        raise ValueError("--max-upload-mb must be > 0, --concurrency and --queue-size >= 1")
    served = ServedModel.open(args.path)
    print(served.describe())
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"serving on {args.host}: anyone who can reach this machine can use the explorer")
    options = ServeOptions(args.host, args.port, args.share, args.concurrency, args.queue_size, Limits(max_upload_mb=args.max_upload_mb))
    launch(build_app(served, options.limits), options)
    return 0
