"""Installing tfface into an environment that has TensorFlow keeps that TensorFlow."""

import json
import subprocess
import sys

import pytest

from tests.helpers import REPO


@pytest.mark.slow
def test_install_into_existing_tensorflow_environment_installs_only_tfface(tmp_path):
    report = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-build-isolation",
         "--quiet", "--report", str(report), "-e", REPO],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    to_install = [item["metadata"]["name"].lower() for item in json.loads(report.read_text())["install"]]
    assert to_install == ["tfface"], to_install


def _requirements() -> dict:
    import configparser

    from packaging.requirements import Requirement

    cfg = configparser.ConfigParser()
    cfg.read(f"{REPO}/setup.cfg")
    lines = [line.split("#")[0].strip() for line in cfg["options"]["install_requires"].splitlines()]
    return {(r := Requirement(line)).name.lower(): r for line in lines if line}


def test_opencv_stays_below_5_and_tensorflow_has_a_floor_but_no_ceiling():
    """What pip may pick: no OpenCV 5 (it has no CascadeClassifier), any
    TensorFlow from the first on Keras 3, however new."""
    import cv2
    import tensorflow as tf

    requires = _requirements()
    opencv, tensorflow = requires["opencv-python-headless"].specifier, requires["tensorflow"].specifier
    assert not opencv.contains("5.0.0") and not opencv.contains("5.1.0.80")
    assert opencv.contains(cv2.__version__) and hasattr(cv2, "CascadeClassifier")
    assert tensorflow.contains(tf.__version__.split("-")[0]) and tensorflow.contains("99.0.0")
    assert not tensorflow.contains("2.15.1")  # Keras 2
