"""Helpers shared by the test suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np

from tfface.config import ExperimentConfig, apply_overrides
from tfface.value_range import ValueRange

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def tiny_config(run_dir, *overrides: str) -> ExperimentConfig:
    """A seconds-long experiment: vae_tiny on 48 synthetic 32x32 faces."""
    base = [
        "model.preset='vae_tiny'",
        "data.image_size=32",
        "data.num_examples=48",
        "data.validation_fraction=0.25",
        "train.epochs=1",
        "train.batch_size=12",
        "run.verbose=0",
        f"run.dir='{run_dir}'",
    ]
    return apply_overrides(ExperimentConfig(), [*base, *overrides])


def random_images(n: int, shape=(32, 32, 3), value_range: str = "0_1", seed: int = 0) -> np.ndarray:
    """Uniform float32 images in `value_range`."""
    return ValueRange.parse(value_range).from_unit(np.random.default_rng(seed).random((n, *shape), dtype=np.float32))


def run_python(code: str, *args: str, timeout: int = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Runs Python code in a fresh process (e.g. to load a SavedModel without tfface)."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
    )


def start_python(code: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    """Starts Python code in a fresh process without waiting (several
    processes that talk to each other, e.g. multi-worker training)."""
    full_env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=full_env,
    )


def run_cli(*args: str, timeout: int = 600, cwd: str | None = None) -> subprocess.CompletedProcess:
    """Runs `python -m tfface ARGS` in a fresh process."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "tfface", *args], capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd
    )


def load_json(path) -> dict:
    with open(path) as handle:
        return json.load(handle)


class AtBatch(keras.callbacks.Callback):
    """Fault injection: calls `action(model)` when the 1-based (epoch, batch)
    starts, e.g. to SIGKILL the process mid-epoch or poison the weights."""

    def __init__(self, epoch: int, batch: int, action):
        super().__init__()
        self.target, self.action, self.epoch = (epoch - 1, batch - 1), action, -1

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if (self.epoch, batch) == self.target:
            self.action(self.model)
