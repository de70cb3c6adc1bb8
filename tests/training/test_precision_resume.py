"""A run asking for "auto" resumes on another device under that device's
policy: T4 float16 → CPU bfloat16 → float16 again, with the weights and the
optimizer state carried over exactly, the loss-scale state dropped and added,
one continuous history and each segment's policy recorded; two different
pinned policies are refused."""

import csv
import json

import keras
import numpy as np
import pytest

from tests.helpers import tiny_config
from tfface.config import ConfigError
from tfface.experiments import train
from tfface.training import precision
from tfface.training.precision import Device

QUIET = ("run.export=false", "run.sample_grid=false", "run.reconstruction_grid=false", "run.save_model=false",
         "model.preset='ae_demo'", "model.args={widths=[8, 16]}", "data.num_examples=96",
         "train.batch_size=8", "train.steps_per_epoch=8", "train.learning_rate=3e-3")  # float16: ~5 steps overflow at first  # fmt: skip
T4 = Device("gpu", "Tesla T4", (7, 5), 1)
CPU = Device("cpu", "Intel Xeon (AVX512-BF16, no AMX)", cpu_flags=frozenset({"avx512f", "avx512_bf16"}))


class AtStart(keras.callbacks.Callback):
    """The model's weights and optimizer as `fit` starts (after the checkpoint is restored)."""

    def on_train_begin(self, logs=None):
        self.weights = [np.array(w) for w in self.model.weights]
        self.optimizer = self.model.optimizer
        self.optimizer_state = inner_state(self.model.optimizer)
        scaled = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
        self.loss_scale = (float(self.optimizer.dynamic_scale), int(self.optimizer.step_counter)) if scaled else None


def inner_state(optimizer) -> list[np.ndarray]:
    """The state of the optimizer that updates the weights (iterations, moments), loss scaling aside."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return [np.array(v) for v in inner.variables]


def assert_same(before, after):
    assert len(before) == len(after)
    for a, b in zip(before, after):
        np.testing.assert_array_equal(a, b)


@pytest.fixture(autouse=True)
def _float32_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


def on(monkeypatch, device: Device, bfloat16_speedup: float = 1.5):
    monkeypatch.setattr(precision, "detect_device", lambda *args, **kwargs: device)
    monkeypatch.setattr(precision, "measure_bfloat16_speedup", lambda *args, **kwargs: bfloat16_speedup)


def test_auto_run_resumes_float16_then_bfloat16_cpu_then_pinned_float16(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run = tmp_path / "run"

    on(monkeypatch, T4)
    first = train(tiny_config(run, "train.mixed_precision='auto'", *QUIET))
    assert isinstance(first.model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert first.model.encoder.get_layer("enc1_conv").compute_dtype == "float16"
    after_first = [np.array(w) for w in first.model.weights]
    optimizer_first = inner_state(first.model.optimizer)
    assert int(first.model.optimizer.iterations) > 0  # some float16 steps were applied (not all skipped)

    on(monkeypatch, CPU, bfloat16_speedup=1.5)  # the runtime reconnects on a CPU where bfloat16 is faster
    start = AtStart()
    second = train(tiny_config(run, "train.mixed_precision='auto'", "train.epochs=2", *QUIET), extra_callbacks=[start])
    assert not isinstance(start.optimizer, keras.optimizers.LossScaleOptimizer)  # loss scaling dropped
    assert second.model.encoder.get_layer("enc1_conv").compute_dtype == "bfloat16"
    assert_same(after_first, start.weights)
    assert_same(optimizer_first, start.optimizer_state)  # iterations and Adam moments carried over
    after_second = [np.array(w) for w in second.model.weights]
    optimizer_second = inner_state(second.model.optimizer)
    assert int(second.model.optimizer.iterations) == int(first.model.optimizer.iterations) + 8

    on(monkeypatch, T4)
    start = AtStart()
    third = train(tiny_config(run, "train.mixed_precision='mixed_float16'", "train.epochs=3", *QUIET),
                  extra_callbacks=[start])  # fmt: skip
    assert isinstance(start.optimizer, keras.optimizers.LossScaleOptimizer)  # loss scaling added, fresh
    assert start.loss_scale == (start.optimizer.initial_scale, 0)
    assert_same(after_second, start.weights)
    assert_same(optimizer_second, start.optimizer_state)

    # One continuous history: every epoch once, the earlier segments' rows unchanged.
    history = third.history
    assert len(history["loss"]) == 3 and history["loss"][:2] == second.history["loss"]
    assert history["loss"][0] == first.history["loss"][0]
    assert history["loss"][2] < history["loss"][0]  # it keeps learning across the switches
    with open(run / "history.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    np.testing.assert_allclose([float(r["loss"]) for r in rows], history["loss"], rtol=1e-6)

    segments = json.loads((run / "precision.json").read_text())["segments"]
    assert [(s["from_epoch"], s["policy"], s["requested"]) for s in segments] == [
        (0, "mixed_float16", "auto"), (1, "mixed_bfloat16", "auto"), (2, "mixed_float16", "mixed_float16")]
    assert "7.5" in segments[0]["reason"] and "1.50x" in segments[1]["reason"] and segments[2]["reason"].startswith("pinned")
    assert json.loads((run / "checkpoints" / "checkpoint.json").read_text())["segments"] == segments
    assert json.loads((run / "config.json").read_text())["train"]["mixed_precision"] == "mixed_float16"

    # Pinned to float16 now: pinning another policy is refused, naming the field.
    with pytest.raises(ConfigError, match=r"^train\.mixed_precision: .*'mixed_float16' -> 'float32'"):
        train(tiny_config(run, "train.mixed_precision='float32'", "train.epochs=4", *QUIET))
