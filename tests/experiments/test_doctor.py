"""`tfface doctor` states true facts about the runtime (versions, devices,
"auto" precision and XLA, a positive throughput) and its network checks
answer "not reachable" in bounded time when the network hangs or fails."""

import json
import platform
import time

import cv2
import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tests.helpers import run_cli
from tfface.config import TrainConfig
from tfface.experiments import doctor as doctor_module
from tfface.training.precision import resolve_precision
from tfface.training.runtime import resolve_jit_compile


@pytest.mark.slow
def test_doctor_json_on_cpu_reports_the_imported_versions_devices_and_a_throughput():
    done = run_cli("doctor", "--json", "--probe-steps", "2", "--batch-size", "4", "--timeout", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["versions"] == {"python": platform.python_version(), "tfface": report["versions"]["tfface"],
                                  "tensorflow": tf.__version__, "keras": keras.__version__,
                                  "tensorflow_datasets": tfds.__version__, "opencv": cv2.__version__,
                                  "numpy": np.__version__}  # fmt: skip
    assert [(d["name"], d["type"]) for d in report["devices"]] == [
        (d.name, d.device_type) for d in tf.config.list_physical_devices()]  # fmt: skip
    assert report["precision"]["auto"] == resolve_precision("auto")
    assert report["xla"]["auto"] is resolve_jit_compile(TrainConfig(jit_compile="auto"), tf.distribute.get_strategy())
    probe = report["probe"]
    assert probe["preset"] == "vae_demo" and probe["steps"] == 2 and probe["batch_size"] == 4
    assert probe["images_per_second"] > 0 and probe["precision"] == report["precision"]["auto"]
    assert set(report["weights"]) == {"inception_fid", "vgg16_perceptual", "celeba_tfds"}
    assert all(w["network"] == "reachable" or w["network"].startswith("not reachable") for w in report["weights"].values())


def test_text_report_and_no_probe(monkeypatch):
    monkeypatch.setattr(doctor_module, "can_connect", _refused)
    report = doctor_module.doctor(probe=False, timeout=0.5)
    text = report.text()
    assert report.probe is None and "throughput probe: skipped" in text
    assert f"tensorflow           {tf.__version__}" in text and 'train.mixed_precision="auto" -> ' in text
    assert "network: not reachable (ConnectionRefusedError)" in text
    assert json.loads(report.to_json())["versions"]["keras"] == keras.__version__


def _refused(host, port=443, timeout=3.0):
    raise ConnectionRefusedError(host)


def _hangs(host, port=443, timeout=3.0):
    time.sleep(60)  # a DNS lookup or proxy that never answers


def test_network_checks_never_hang(monkeypatch):
    monkeypatch.setattr(doctor_module, "can_connect", _hangs)
    start = time.monotonic()
    weights = doctor_module.weights_report(timeout=0.5)
    assert time.monotonic() - start < 5
    assert {w["network"] for w in weights.values()} == {"not reachable (no answer in 0.5 s)"}
    monkeypatch.setattr(doctor_module, "can_connect", _refused)
    assert set(doctor_module.reachability(doctor_module.HOSTS, timeout=0.5).values()) == {
        "not reachable (ConnectionRefusedError)"}  # fmt: skip
