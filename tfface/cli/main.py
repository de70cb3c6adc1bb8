"""Entry point of the `tfface` command."""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import pkgutil
import sys
import tempfile
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
    parser.add_argument("--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, cmd in COMMANDS.items():
        command_parser = sub.add_parser(name, help=cmd.help, description=cmd.help)
        cmd.add_arguments(command_parser)
        _accept_verbose(command_parser)
    return parser


def _accept_verbose(parser: argparse.ArgumentParser) -> None:
    """`--verbose` after a command (and its actions, `data inspect`) too;
    SUPPRESS keeps the value of a `tfface --verbose CMD`."""
    parser.add_argument("--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _accept_verbose(child)


VERBOSE_HELP = "show TensorFlow's own start-up and C++ log lines (hidden by default)"


def import_tensorflow(verbose: bool = False) -> None:
    """Imports TensorFlow once, before a command runs. Unless `verbose`, its
    C++ log lines are hidden: TF_CPP_MIN_LOG_LEVEL=3 (unless the user set
    it) for lines such as `E0000 ... failed call to cuInit`, and the lines
    printed while the libraries load (oneDNN, cpu_feature_guard, CUDA
    stubs), which come before absl logging starts and ignore that setting,
    are captured from file descriptor 2 and dropped; if the import fails
    they are printed after all."""
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    if verbose:
        import tensorflow  # noqa: F401
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow  # noqa: F401
        except BaseException:
            os.dup2(saved, 2)
            captured.seek(0)
            sys.stderr.write(captured.read().decode("utf-8", "replace"))
            raise
        finally:
            os.dup2(saved, 2)
            os.close(saved)


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
    parser = build_parser()
    args = parser.parse_args(argv)  # --help and argument errors end here, before TensorFlow
    import_tensorflow(args.verbose)
    from tfface.callbacks.guard import NonFiniteLossError
    from tfface.config import ConfigError
    from tfface.io import describe_os_error

    try:
        with library_messages():
            code = COMMANDS.get(args.command).run(args)
    except (ConfigError, KeyError, FileNotFoundError, ValueError) as error:
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        print(f"tfface {args.command}: error: {message}", file=sys.stderr)
        return 2
    except NonFiniteLossError as error:
        print(f"tfface {args.command}: error: {error}", file=sys.stderr)
        return 1
    except OSError as error:  # every failed write (disk full, permissions, I/O), named by path
        print(f"tfface {args.command}: error: {describe_os_error(error)}", file=sys.stderr)
        return 1
    return int(code or 0)


if __name__ == "__main__":
    sys.exit(main())
