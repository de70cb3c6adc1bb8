"""`tfface doctor`: what a fresh runtime has, in one report.

Versions (Python, TensorFlow, Keras, tfds, OpenCV, NumPy, tfface), the
devices TensorFlow sees with each GPU's compute capability, what
`train.mixed_precision="auto"` and `train.jit_compile="auto"` resolve to
here (asked of `tfface.training.precision.choose_precision` and
`tfface.training.runtime.resolve_jit_compile`, the functions training
uses), the CPU kernels (oneDNN or Eigen, `tfface.onednn`), whether the
FID Inception, the perceptual VGG16 weights and tfds CelebA are on this
machine or reachable over the network, and a short training throughput
probe of a preset on synthetic images.

Network checks open one TCP connection per host from a daemon thread and
wait at most `timeout` seconds for all of them together: offline, behind
a proxy or with a hanging DNS the answer is "not reachable", never a hang.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import cv2
import keras
import numpy as np
import tensorflow as tf

from tfface.config import TrainConfig
from tfface.data import synthetic_faces
from tfface.losses.perceptual import VGG16_NOTOP_URL
from tfface.metrics.fid import INCEPTION_MODULE_ENV, INCEPTION_WEIGHTS_FILE, TFGAN_INCEPTION_HANDLE
from tfface.onednn import ONEDNN_ENV, variable_decides
from tfface.presets import build_preset, preset_arguments
from tfface.training.optimizers import FusedAdam
from tfface.training.precision import BFLOAT16_CPU_FLAGS, choose_precision, cpu_flags, resolve_precision
from tfface.training.runtime import check_cpu_kernels, onednn_enabled, resolve_jit_compile
from tfface.value_range import ValueRange
from tfface.version import __version__

#: Hosts the downloads come from: TF-Hub (TF-GAN's Inception), Keras'
#: weights bucket (VGG16, InceptionV3) and Google Drive (tfds CelebA).
HOSTS = {
    "tfhub": urlparse(TFGAN_INCEPTION_HANDLE).hostname,
    "keras_weights": urlparse(VGG16_NOTOP_URL).hostname,
    "celeba_download": "drive.google.com",
}
VGG16_FILE = os.path.basename(VGG16_NOTOP_URL)
#: The CPU flags worth knowing for training speed.
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile", "bf16")


@dataclass
class DoctorReport:
    """What `doctor` found; `text()` for people, `to_json()` for tools.

    Attributes:
        versions: {package: version} of the imported modules.
        devices: [{"name", "type", and for GPUs "device_name",
            "compute_capability"}], from `tf.config.list_physical_devices`.
        precision: {"auto": the policy `train.mixed_precision="auto"` picks
            here, "why": the reason it gives}.
        xla: {"auto": whether `train.jit_compile="auto"` compiles the step here}.
        cpu: {"machine", "flags", "onednn" (True/False/None), "onednn_env",
            "eigen_because_tensorflow_came_first"}.
        weights: {"inception_fid", "vgg16_perceptual", "celeba_tfds"}: each
            {"local": what is on disk (or None), "network": "reachable" or
            "not reachable (...)"}.
        probe: {"preset", "batch_size", "steps", "precision", "images_per_second",
            "seconds"}, or None when skipped.
        seconds: wall time of the whole report.
    """

    versions: dict[str, str]
    devices: list[dict[str, Any]]
    precision: dict[str, str]
    xla: dict[str, bool]
    cpu: dict[str, Any]
    weights: dict[str, dict[str, Any]]
    probe: dict[str, Any] | None = None
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> str:
        """The report as a JSON document (`tfface doctor --json`)."""
        return json.dumps(dataclasses.asdict(self), indent=2)

    def text(self) -> str:
        """The report as readable lines (`tfface doctor`)."""
        lines = ["tfface doctor", "", "versions:"]
        lines += [f"  {name:<20} {version}" for name, version in self.versions.items()]
        lines.append("devices:")
        for device in self.devices:
            extra = ""
            if device["type"] == "GPU":
                capability = device.get("compute_capability")
                extra = f"  {device.get('device_name', '?')}, compute capability " + (
                    ".".join(map(str, capability)) if capability else "unknown")  # fmt: skip
            lines.append(f"  {device['name']:<28} {device['type']}{extra}")
        lines.append(f'train.mixed_precision="auto" -> {self.precision["auto"]} ({self.precision.get("why", "")})')
        lines.append(f'train.jit_compile="auto"     -> XLA {"on" if self.xla["auto"] else "off"}')
        cpu = self.cpu
        kernels = {True: "oneDNN", False: "Eigen", None: "not reported by this TensorFlow build"}[cpu["onednn"]]
        lines.append(f"CPU kernels: {kernels} ({ONEDNN_ENV}={cpu['onednn_env']}); {cpu['machine']}, "
                     f"flags: {', '.join(cpu['flags']) or 'none of ' + '/'.join(CPU_FLAGS)}")  # fmt: skip
        if cpu["eigen_because_tensorflow_came_first"]:
            lines.append("  TensorFlow was imported before tfface: import tfface first for oneDNN's faster kernels")
        lines.append("weights and data:")
        for name, state in self.weights.items():
            lines.append(f"  {name:<18} local: {state['local'] or 'none'}; network: {state['network']}")
        if self.probe is None:
            lines.append("throughput probe: skipped")
        else:
            p = self.probe
            lines.append(f"throughput probe: {p['preset']} on synthetic {p['image_size']}² faces, batch {p['batch_size']}, "
                         f"{p['precision']}: {p['images_per_second']:.0f} images/s "
                         f"({p['steps']} steps in {p['seconds']:.2f} s after one warm-up step)")  # fmt: skip
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


def versions() -> dict[str, str]:
    """The versions of the modules tfface runs on (imported here, so they
    are what this process uses)."""
    import tensorflow_datasets as tfds  # slow to import: only when asked

    return {"python": platform.python_version(), "tfface": __version__, "tensorflow": tf.__version__,
            "keras": keras.__version__, "tensorflow_datasets": tfds.__version__, "opencv": cv2.__version__,
            "numpy": np.__version__}  # fmt: skip


def devices() -> list[dict[str, Any]]:
    """Every physical device, GPUs with their name and compute capability."""
    found = []
    for device in tf.config.list_physical_devices():
        entry: dict[str, Any] = {"name": device.name, "type": device.device_type}
        if device.device_type == "GPU":
            details = tf.config.experimental.get_device_details(device)
            capability = details.get("compute_capability")
            entry.update(device_name=details.get("device_name", "?"), compute_capability=list(capability) if capability else None)
        found.append(entry)
    return found


def cpu_report() -> dict[str, Any]:
    """The CPU's architecture, its flags that matter to TensorFlow, and whether it has native bfloat16."""
    flags = cpu_flags()
    return {
        "machine": platform.machine(),
        "flags": [flag for flag in CPU_FLAGS if flag in flags],
        "native_bfloat16": bool(flags & BFLOAT16_CPU_FLAGS),
        "onednn": onednn_enabled(),
        "onednn_env": os.environ.get(ONEDNN_ENV, "unset"),
        "tfface_decides_kernels": variable_decides(),
        "eigen_because_tensorflow_came_first": check_cpu_kernels(),
    }


def can_connect(host: str, port: int = 443, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to `host:port` opens within `timeout` s."""
    with socket.create_connection((host, port), timeout=timeout):
        return True


def reachability(hosts: dict[str, str], timeout: float = 3.0) -> dict[str, str]:
    """{name: "reachable" or "not reachable (why)"}, all hosts tried at
    once from daemon threads; returns after at most about `timeout` s
    whatever the network (or DNS) does."""
    results: dict[str, str] = {}

    def probe(name: str, host: str) -> None:
        try:
            can_connect(host, timeout=timeout)
            results[name] = "reachable"
        except Exception as error:  # noqa: BLE001  (DNS, refused, timeout, proxy: all mean "not reachable")
            results[name] = f"not reachable ({type(error).__name__})"

    threads = [threading.Thread(target=probe, args=item, daemon=True) for item in hosts.items()]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout + 0.5
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return {name: results.get(name, f"not reachable (no answer in {timeout:g} s)") for name in hosts}


def _keras_file(name: str) -> str | None:
    path = os.path.join(os.environ.get("KERAS_HOME", os.path.expanduser("~/.keras")), "models", name)
    return path if os.path.isfile(path) else None


def _tfhub_cached() -> str | None:
    module = os.environ.get(INCEPTION_MODULE_ENV)
    if module and os.path.isdir(os.path.expanduser(module)):
        return os.path.expanduser(module)
    cache = os.environ.get("TFHUB_CACHE_DIR", os.path.join(tempfile.gettempdir(), "tfhub_modules"))
    path = os.path.join(cache, hashlib.sha1(TFGAN_INCEPTION_HANDLE.encode("utf8")).hexdigest())
    return path if os.path.isdir(path) else None


def _celeba_local() -> str | None:
    root = os.path.expanduser(os.environ.get("TFDS_DATA_DIR", "~/tensorflow_datasets"))
    prepared = os.path.join(root, "celeb_a")
    if os.path.isdir(prepared) and os.listdir(prepared):
        return f"prepared in {prepared}"
    manual = os.path.join(root, "downloads", "manual")
    files = ["img_align_celeba.zip", "list_eval_partition.txt", "list_attr_celeba.txt",
             "list_landmarks_align_celeba.txt", "identity_CelebA.txt"]  # fmt: skip
    present = [name for name in files if os.path.isfile(os.path.join(manual, name))]
    return f"{len(present)}/5 manual files in {manual}" if present else None


def weights_report(timeout: float = 3.0) -> dict[str, dict[str, Any]]:
    """Whether the FID Inception, the perceptual VGG16 weights and tfds CelebA are on disk, and whether their hosts answer within `timeout` seconds."""
    network = reachability(HOSTS, timeout)
    inception = _tfhub_cached() or _keras_file(INCEPTION_WEIGHTS_FILE)
    return {
        "inception_fid": {"local": inception, "network": network["tfhub"]},
        "vgg16_perceptual": {"local": _keras_file(VGG16_FILE), "network": network["keras_weights"]},
        "celeba_tfds": {"local": _celeba_local(), "network": network["celeba_download"]},
    }


def throughput(preset: str = "vae_demo", steps: int = 5, batch_size: int = 32, precision: str | None = None) -> dict[str, Any]:
    """Training images per second of `preset` on synthetic faces: one
    warm-up step (tracing), then `steps` timed steps, under `precision`
    ("auto" resolution by default; the global policy is restored)."""
    precision = precision or resolve_precision("auto")
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy(precision)
        model = build_preset(preset, **({"seed": 0} if "seed" in (preset_arguments(preset) or ()) else {}))
        optimizer = FusedAdam(1e-3)
        if precision == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model.compile(optimizer=optimizer)
        size = tuple(model.image_shape[:2])
        faces = synthetic_faces(batch_size * (steps + 1), size, seed=0).map(lambda image, attributes: image)
        images = ValueRange.parse(model.value_range).from_unit(np.stack(list(faces.as_numpy_iterator())))
        model.fit(images[:batch_size], batch_size=batch_size, epochs=1, verbose=0)
        start = time.perf_counter()
        model.fit(images[batch_size:], batch_size=batch_size, epochs=1, verbose=0)
        seconds = time.perf_counter() - start
    finally:
        keras.mixed_precision.set_global_policy(previous)
    return {"preset": preset, "image_size": size[0], "batch_size": batch_size, "steps": steps, "precision": precision,
            "seconds": seconds, "images_per_second": steps * batch_size / seconds}  # fmt: skip


def doctor(probe: bool = True, *, preset: str = "vae_demo", probe_steps: int = 5, batch_size: int = 32,
           timeout: float = 3.0) -> DoctorReport:  # fmt: skip
    """What this runtime has: see the module docstring. `print(doctor())`
    in a notebook; `tfface doctor` on the command line.

    Args:
        probe: bool. Run the throughput probe. Defaults to True.
        preset: str. The preset probed. Defaults to "vae_demo".
        probe_steps: int. Timed training steps. Defaults to 5.
        batch_size: int. Defaults to 32.
        timeout: float. Seconds the network checks may take together.
            Defaults to 3.

    Example:

    >>> report = doctor(probe=False, timeout=0.5)
    >>> report.versions["tensorflow"] == tf.__version__
    True
    >>> report.precision["auto"] in ("float32", "mixed_bfloat16", "mixed_float16")
    True
    """
    start = time.perf_counter()
    report = DoctorReport(
        versions=versions(),
        devices=devices(),
        precision={"auto": (choice := choose_precision("auto")).policy, "why": choice.reason},
        xla={"auto": resolve_jit_compile(TrainConfig(jit_compile="auto"), tf.distribute.get_strategy())},
        cpu=cpu_report(),
        weights=weights_report(timeout),
    )
    if probe:
        report.probe = throughput(preset, probe_steps, batch_size, report.precision["auto"])
    if sys.platform == "darwin":
        report.notes.append("macOS: CPU flags are not read (no /proc/cpuinfo); \"auto\" precision is float32 there")
    report.seconds = time.perf_counter() - start
    return report
