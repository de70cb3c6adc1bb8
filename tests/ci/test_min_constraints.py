"""setup.cfg's floors are true: at least what the code needs, and pinned
exactly by `make test-min` (.ci/min_constraints.py)."""

import importlib.util
import os
import pathlib
import re

from tests.helpers import REPO

spec = importlib.util.spec_from_file_location("min_constraints", os.path.join(REPO, ".ci", "min_constraints.py"))
min_constraints = importlib.util.module_from_spec(spec)
spec.loader.exec_module(min_constraints)
SETUP_CFG = os.path.join(REPO, "setup.cfg")


def version(text):
    return tuple(int(n) for n in text.split("."))


def package_source():
    return "\n".join(p.read_text(encoding="utf-8") for p in pathlib.Path(REPO, "tfface").rglob("*.py"))


def test_constraints_pin_every_runtime_floor_exactly():
    pins = dict(line.split("==") for line in min_constraints.floors(SETUP_CFG))
    assert set(pins) == {"tensorflow", "keras", "tensorflow-datasets", "opencv-python-headless", "matplotlib", "numpy", "pillow",
                         "tensorboard"}
    # every pin is a full release number (pip's `==4.8` would not match 4.8.0.76)
    assert all(re.fullmatch(r"\d+\.\d+\.\d+(\.\d+)?", v) for v in pins.values()), pins


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
