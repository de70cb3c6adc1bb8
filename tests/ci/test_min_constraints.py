"""setup.cfg's floors are true: at least what the code needs, and pinned
exactly by `make test-min` (.ci/min_constraints.py)."""

import configparser
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("min_constraints", os.path.join(REPO, ".ci", "min_constraints.py"))
min_constraints = importlib.util.module_from_spec(spec)
spec.loader.exec_module(min_constraints)
SETUP_CFG = os.path.join(REPO, "setup.cfg")


def version(text):
    return tuple(int(n) for n in text.split("."))


def package_source():
    return "\n".join(p.read_text(encoding="utf-8") for p in pathlib.Path(REPO, "tfface").rglob("*.py"))


def test_the_script_pins_every_runtime_floor_exactly(tmp_path):
    """Run as `make test-min` runs it: its output, read as pip constraints,
    pins each `install_requires` entry that has a floor to that floor (the
    oldest version the requirement allows), and nothing else."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    done = subprocess.run([sys.executable, os.path.join(REPO, ".ci", "min_constraints.py")], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    pins = {(r := Requirement(line)).name.lower(): r for line in done.stdout.split()}
    config = configparser.ConfigParser()
    config.read(SETUP_CFG)
    declared = [Requirement(line.split("#")[0]) for line in config["options"]["install_requires"].splitlines() if line.split("#")[0].strip()]
    floors = {r.name.lower(): r for r in declared if any(s.operator == ">=" for s in r.specifier)}
    assert floors and set(pins) == set(floors), (sorted(pins), sorted(floors))
    for name, requirement in floors.items():
        (pin,) = pins[name].specifier
        floor = next(s.version for s in requirement.specifier if s.operator == ">=")
        assert pin.operator == "==" and Version(pin.version) == Version(floor), (name, str(pin))
        assert requirement.specifier.contains(pin.version), name  # the pin is installable under the requirement
        # a full release number: pip's `==4.8` would not match 4.8.0.76
        assert len(Version(pin.version).release) >= 3, (name, pin.version)


def test_floors_cover_the_apis_the_code_uses():
    source = package_source()
    pins = {name: version(v) for name, v in (line.split("==") for line in min_constraints.floors(SETUP_CFG))}
    if re.search(r"^\s*import tomllib", source, re.M):
        assert min_constraints.python_floor(SETUP_CFG) >= (3, 11)  # tomllib is new in 3.11
    if "raise_error=True" in source:
        assert pins["keras"] >= (3, 13, 0)  # TerminateOnNaN(raise_error=...) is new in Keras 3.13
    assert pins["tensorflow"] >= (2, 16, 1)  # the first TensorFlow on Keras 3 (2.16.0 was never released)
    # tensorboard 2.16.0 requires tf-keras-nightly: pinned, pip downloads TensorFlow nightlies for ever
    assert pins["tensorboard"] >= (2, 16, 2)
