"""tf.distribute: MirroredStrategy over two logical CPU devices matches one
device; MultiWorkerMirroredStrategy over two local processes keeps both
workers' weights equal and lets only the chief write the run folder."""

import json
import os
import socket
import subprocess

import numpy as np
import pytest

from tests.helpers import REPO, run_python, start_python
from tfface.config import ConfigError, TrainConfig
from tfface.training.runtime import make_strategy

# Two logical CPU devices must be configured before TensorFlow initialises
# its devices, hence a fresh process. With `data.shuffle_buffer=1` the data
# order does not depend on how often the dataset is iterated, so both runs
# see the same global batches; SGD without momentum makes the weight change
# the gradient itself.
MIRRORED = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import json, sys
import keras, numpy as np
from tests.helpers import tiny_config
from tfface.config import ConfigError
from tfface.presets import build_preset
from tfface.experiments import train
from tfface.training.runtime import configure_runtime, make_strategy

class FirstWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = [np.array(w) for w in self.model.get_weights()]

out, report = sys.argv[1], {}
for name in ("default", "mirrored"):
    first = FirstWeights()
    files = "true" if name == "mirrored" else "false"
    cfg = tiny_config(f"{out}/{name}", "model.preset='ae_demo'", "model.args={widths=[8, 16]}",
                      f"train.distribution='{name}'", "train.optimizer='sgd'", "train.momentum=0.0",
                      "train.learning_rate=0.01", "data.shuffle_buffer=1",
                      f"run.export={files}", f"run.sample_grid={files}", f"run.save_model={files}")
    result = train(cfg, extra_callbacks=[first])
    np.savez(f"{out}/{name}.npz", *[np.array(w) - w0 for w, w0 in zip(result.model.get_weights(), first.weights)])
    strategy = result.model.distribute_strategy
    report[name] = {"replicas": strategy.num_replicas_in_sync, "jit": bool(result.model.jit_compile),
                    "history": result.history, "files": sorted(result.files)}
for key, override in (("odd_batch", "train.batch_size=7"), ("jit_on", "train.jit_compile='on'")):
    try:
        configure_runtime(tiny_config(out, "train.distribution='mirrored'", override).train)
        report[key] = "no error"
    except ConfigError as error:
        report[key] = str(error)

# float16 with loss scaling: only the second replica's half of the batch overflows.
strategy = make_strategy("mirrored")
keras.mixed_precision.set_global_policy("mixed_float16")
with strategy.scope():
    model = build_preset("ae_demo", image_size=(32, 32), widths=(8, 16), seed=0)
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1e-4), initial_scale=2.0**8)
    model.compile(optimizer=optimizer)
x = np.random.default_rng(0).random((8, 32, 32, 3), dtype=np.float32)
x[4:] *= 3e4
before = [np.array(w) for w in model.trainable_weights]
model.fit(tf.data.Dataset.from_tensor_slices(x).batch(8), verbose=0)
report["overflow"] = {"iterations": int(optimizer.iterations.numpy()), "scale": float(optimizer.dynamic_scale.numpy()),
                      "unchanged": all(np.array_equal(np.array(w), b) for w, b in zip(model.trainable_weights, before))}
print("REPORT", json.dumps(report))
"""


def _report(stdout: str) -> dict:
    line = next(line for line in stdout.splitlines() if line.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


def test_mirrored_over_two_devices_updates_weights_like_one_device_and_skips_overflows_together(tmp_path):
    done = run_python(MIRRORED, str(tmp_path), env={"PYTHONPATH": REPO}, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = _report(done.stdout)
    assert report["default"]["replicas"] == 1 and report["mirrored"]["replicas"] == 2
    assert report["mirrored"]["jit"] is False  # "auto" on CPU
    single, mirrored = np.load(tmp_path / "default.npz"), np.load(tmp_path / "mirrored.npz")
    scale = max(np.abs(single[k]).max() for k in single.files)
    assert scale > 1e-3
    for key in single.files:
        # Conv biases before BatchNorm have a zero gradient: compare on the global scale.
        np.testing.assert_allclose(mirrored[key], single[key], rtol=1e-3, atol=1e-4 * scale, err_msg=key)
    for term in ("loss", "val_loss"):
        np.testing.assert_allclose(report["mirrored"]["history"][term], report["default"]["history"][term], rtol=1e-4)
    assert {"model", "export", "grids"} <= set(report["mirrored"]["files"])
    assert (tmp_path / "mirrored" / "export" / "1" / "saved_model.pb").exists()
    assert "train.batch_size: 7 does not split evenly over 2 replicas" in report["odd_batch"]
    assert report["jit_on"].startswith("train.jit_compile: 'on' fails with 'mirrored' over 2 devices")
    # Every replica skips a step that overflows on any of them (Keras' own
    # check reads one replica: the other's inf/NaN would reach the weights).
    assert report["overflow"] == {"iterations": 0, "scale": 128.0, "unchanged": True}


# One process per worker; TF_CONFIG names both on loopback. The non-chief
# gets its own run.dir, which must stay absent, and its own TMPDIR, which
# must be empty at the end (its scratch output folder is deleted).
WORKER = """
import json, sys
import numpy as np
from tests.helpers import tiny_config
from tfface.experiments import train

run_dir, weights = sys.argv[1], sys.argv[2]
cfg = tiny_config(run_dir, "train.distribution='multi_worker'", "train.epochs=2", "run.verbose=0")
result = train(cfg)
np.savez(weights, *result.model.get_weights())
print("HISTORY", json.dumps(result.history))
"""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


@pytest.mark.slow
def test_multi_worker_on_loopback_keeps_workers_in_sync_and_only_the_chief_writes(tmp_path):
    hosts = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        scratch = tmp_path / f"tmp{index}"
        scratch.mkdir()
        tf_config = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
        env = {"PYTHONPATH": REPO, "TF_CONFIG": json.dumps(tf_config), "TMPDIR": str(scratch)}
        args = (str(tmp_path / f"run{index}"), str(tmp_path / f"weights{index}.npz"))
        processes.append(start_python(WORKER, *args, env=env))
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=300))
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
        pytest.fail("a multi-worker process did not finish within 300 s")
    for process, (_, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-3000:]

    histories = [json.loads(out.split("HISTORY ", 1)[1]) for out, _ in outputs]
    assert histories[0] == histories[1]
    assert histories[0]["loss"][1] < histories[0]["loss"][0]
    chief, other = np.load(tmp_path / "weights0.npz"), np.load(tmp_path / "weights1.npz")
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key], err_msg=key)

    chief_run = tmp_path / "run0"
    for name in ("config.json", "history.csv", "history.json", "model.keras", "export/1/saved_model.pb",
                 "grids/samples_e002_end.png", "checkpoints/checkpoint.json"):
        assert (chief_run / name).exists(), name
    assert not (tmp_path / "run1").exists()
    assert os.listdir(tmp_path / "tmp1") == []


def test_strategy_errors_name_the_key(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="'multi_worker' needs the TF_CONFIG environment variable"):
        make_strategy("multi_worker")
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(RuntimeError, match="'tpu' found no TPU"):
        make_strategy("tpu")
    with pytest.raises(ConfigError, match="train.distribution"):
        TrainConfig(distribution="horovod")


MIRRORED_ADVERSARIAL = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import json, sys
import keras
import numpy as np
from tests.helpers import tiny_config
from tfface.experiments import train

class Start(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = {part: [np.array(w) for w in getattr(self.model, part).weights]
                        for part in ("encoder", "decoder", "discriminator")}

cfg = tiny_config(sys.argv[1], "train.distribution='mirrored'", "train.epochs=2", "model.adversarial_weight=0.5",
                  "model.adversarial_start=1", "model.perceptual_weight=1.0", "model.perceptual_weights='random'",
                  "model.args={discriminator_layers=2, discriminator_width=8}", "run.sample_grid=false")
start = Start()
result = train(cfg, extra_callbacks=[start])
model = result.model
changed = {part: any(not np.array_equal(a, np.array(b)) for a, b in zip(before, getattr(model, part).weights))
           for part, before in start.weights.items()}
print("REPORT", json.dumps({"history": result.history, "replicas": model.distribute_strategy.num_replicas_in_sync,
                            "changed": changed,
                            "d_steps": int(model.discriminator_optimizer.iterations.numpy()),
                            "g_steps": int(model.optimizer.iterations.numpy()), "files": sorted(result.files)}))
"""


@pytest.mark.slow
def test_mirrored_trains_the_adversarial_and_perceptual_terms(tmp_path):
    done = run_python(MIRRORED_ADVERSARIAL, str(tmp_path / "run"), env={"PYTHONPATH": REPO}, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = _report(done.stdout)
    assert report["replicas"] == 2
    assert report["g_steps"] == 6 and report["d_steps"] == 5  # 3 steps per epoch, D from step 1
    assert report["changed"] == {"encoder": True, "decoder": True, "discriminator": True}
    assert all(np.isfinite(v) for values in report["history"].values() for v in values)
    assert report["history"]["discriminator_loss"][1] > 0 and report["history"]["adversarial_weight_effective"][1] > 0
    assert {"model", "export"} <= set(report["files"])
