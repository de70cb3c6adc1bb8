"""Prints pip constraints that pin every runtime dependency of setup.cfg to
its declared floor (`name>=X` → `name==X`), for `make test-min`.

Only `install_requires` is pinned: those floors are what tfface promises its
users. Test tools (the `test` extra) resolve freely; they are not promised.
A dependency without a floor is left out (pip picks any version).
"""

from __future__ import annotations

import configparser
import re
import sys
from pathlib import Path

FLOOR = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*(?:[^>]*?)>=\s*([0-9][0-9A-Za-z.]*)")


def floors(setup_cfg: str | Path) -> list[str]:
    """`name==floor` for every `install_requires` entry with a `>=` floor."""
    config = configparser.ConfigParser()
    if not config.read(setup_cfg):
        raise FileNotFoundError(f"no setup.cfg at {setup_cfg}")
    pins = []
    for line in config["options"]["install_requires"].splitlines():
        match = FLOOR.match(line.split(";")[0].split("#")[0])
        if match:
            pins.append(f"{match.group(1)}=={match.group(2)}")
    return pins


def python_floor(setup_cfg: str | Path) -> tuple[int, ...]:
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    return tuple(int(n) for n in config["options"]["python_requires"].strip().lstrip(">=").split("."))


if __name__ == "__main__":
    path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "setup.cfg")
    if sys.version_info[: len(python_floor(path))] < python_floor(path):
        sys.exit(f"python {sys.version.split()[0]} is below setup.cfg's python_requires")
    print("\n".join(floors(path)))
