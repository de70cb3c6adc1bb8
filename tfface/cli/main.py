"""Entry point of the `tfface` command."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import pkgutil
import sys
from typing import Sequence

from tfface.cli import COMMANDS
from tfface.version import __version__


def _load_commands() -> None:
    import tfface.cli as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name != "main":
            importlib.import_module(f"tfface.cli.{module.name}")


def build_parser() -> argparse.ArgumentParser:
    _load_commands()
    parser = argparse.ArgumentParser(
        prog="tfface",
        description="Train, sample, evaluate and export face autoencoders and VAEs.",
    )
    parser.add_argument("--version", action="version", version=f"tfface {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, cmd in COMMANDS.items():
        cmd.add_arguments(sub.add_parser(name, help=cmd.help, description=cmd.help))
    return parser


@contextlib.contextmanager
def library_messages(level: int = logging.INFO):
    """Shows the library's log messages (the `tfface` logger: progress,
    skipped files, resumes) on stdout as plain lines while a command runs."""
    logger = logging.getLogger("tfface")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    parser = build_parser()
    args = parser.parse_args(argv)
    from tfface.callbacks.guard import NonFiniteLossError
    from tfface.config import ConfigError
    from tfface.io import WriteError

    try:
        with library_messages():
            code = COMMANDS.get(args.command).run(args)
    except (ConfigError, KeyError, FileNotFoundError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"tfface {args.command}: error: {message}", file=sys.stderr)
        return 2
    except (NonFiniteLossError, WriteError) as error:
        print(f"tfface {args.command}: error: {error}", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
