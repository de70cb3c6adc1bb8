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


def test_opencv_is_pinned_below_5_and_tensorflow_is_a_lower_bound_only():
    import configparser

    cfg = configparser.ConfigParser()
    cfg.read(f"{REPO}/setup.cfg")
    requires = [line.strip() for line in cfg["options"]["install_requires"].splitlines() if line.strip()]
    assert "opencv-python-headless>=4.8.0.76,<5" in requires
    assert "tensorflow>=2.16.1" in requires
    import cv2

    assert int(cv2.__version__.split(".")[0]) == 4 and hasattr(cv2, "CascadeClassifier")
