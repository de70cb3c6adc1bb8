"""`tfface` command line. Each module here registers one subcommand in
`COMMANDS`; `tfface.cli.main` discovers them, so adding a command is adding
a module."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

from tfface.registry import Registry


@dataclass(frozen=True)
class Command:
    """A subcommand: its help line, its arguments and what it runs."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int | None]


COMMANDS: Registry[Command] = Registry("command")


def command(name: str, help: str, add_arguments: Callable[[argparse.ArgumentParser], None]):
    """Decorator registering `run(args)` as the subcommand `name`."""

    def decorate(run: Callable[[argparse.Namespace], int | None]):
        COMMANDS.register(name, Command(name, help, add_arguments, run))
        return run

    return decorate
