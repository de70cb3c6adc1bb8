"""`train.mixed_precision = "auto"`: the fastest policy that holds quality on
the device that runs the step. Precision belongs to the device, not to the
run: a run started with "auto" on a T4 (float16) resumes on a CPU (float32
or bfloat16) or an A100 (bfloat16) under that device's policy, and each
segment's policy and the reason for it are recorded in the run folder
(`RUN/precision.json`, see `tfface.training.checkpointing`).

The rule, in one place (`choose_precision`):

- a GPU of compute capability ≥ 8.0 (A100, L4, H100): "mixed_bfloat16"
  (bfloat16 tensor cores; float32's exponent range, so no loss scaling);
- a GPU of compute capability 7.x (V100, T4): "mixed_float16" (float16
  tensor cores, with dynamic loss scaling);
- an older GPU: "float32";
- a CPU with AMX-BF16 tile units (Intel Sapphire Rapids and later, with
  oneDNN's kernels): "mixed_bfloat16";
- a CPU with other bfloat16 instructions (AVX512-BF16, Arm BF16): whichever
  of "mixed_bfloat16" and "float32" trains a short convolution probe
  faster. The flag alone is not enough: on a 2-core Xeon with AVX512-BF16
  and no AMX the face_64 recipe trained at 142 images/s in bfloat16 against
  241 in float32, on an AMD Zen 4 bfloat16 was 1.35× faster. The probe
  takes a few seconds once; its result is cached per CPU model and
  TensorFlow version (`~/.cache/tfface/precision_probe.json`);
- a CPU without bfloat16 instructions: "float32" (TensorFlow would emulate
  bfloat16, slower than float32).
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field

import tensorflow as tf

from tfface.io import atomic_write_text
from tfface.training.runtime import onednn_enabled

#: Float16 tensor cores arrived with compute capability 7.0 (V100; T4 7.5),
#: bfloat16 ones with 8.0 (A100; L4 8.9, H100 9.0).
FLOAT16_CAPABILITY = (7, 0)
BFLOAT16_CAPABILITY = (8, 0)
# /proc/cpuinfo flags of native bfloat16 arithmetic (x86: AVX512-BF16 and
# AMX; Arm: the BF16 extension) and of AMX's bfloat16 tile units.
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
AMX_BFLOAT16_FLAG = "amx_bf16"
CPUINFO = "/proc/cpuinfo"
#: bfloat16 is chosen on a probed CPU when the probe runs at least this much faster in it.
PROBE_MIN_SPEEDUP = 1.1
#: Time the probe may take, tracing included (seconds).
PROBE_SECONDS = 6.0
PROBE_CACHE = "precision_probe.json"
POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")


@dataclass(frozen=True)
class Device:
    """The device a run trains on, as "auto" precision sees it.

    Attributes:
        kind: "gpu" or "cpu".
        name: the device name, e.g. "Tesla T4", or the CPU model.
        compute_capability: (major, minor) of the GPU, or None.
        count: number of GPUs (0 on a CPU).
        cpu_flags: the CPU's feature flags (empty where unknown).

    Example:

    >>> t4 = Device("gpu", "Tesla T4", (7, 5), 1)
    >>> choose_precision("auto", t4).policy
    'mixed_float16'
    >>> print(t4)
    1 GPU(s): Tesla T4 (compute capability 7.5) -> "auto" precision: mixed_float16
    """

    kind: str
    name: str
    compute_capability: tuple[int, int] | None = None
    count: int = 0
    cpu_flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def mixed_precision(self) -> str:
        """The policy `train.mixed_precision="auto"` resolves to on this device."""
        return choose_precision("auto", self).policy

    def __str__(self) -> str:
        if self.kind == "cpu":
            return (f"no GPU: training on the CPU ({self.name}) -> \"auto\" precision: {self.mixed_precision} "
                    "(in Colab: Runtime > Change runtime type > T4 GPU)")  # fmt: skip
        cc = ".".join(map(str, self.compute_capability)) if self.compute_capability else "?"
        return f"{self.count} GPU(s): {self.name} (compute capability {cc}) -> \"auto\" precision: {self.mixed_precision}"


@dataclass(frozen=True)
class PrecisionChoice:
    """The policy a run trains under, what was asked for and why.

    Attributes:
        policy: the Keras dtype policy ("float32", "mixed_float16", "mixed_bfloat16").
        requested: `train.mixed_precision` as configured ("auto" or a policy).
        reason: why this policy (the device and the rule or measurement).
        device: the device, e.g. "Tesla T4 (compute capability 7.5)".
    """

    policy: str
    requested: str
    reason: str
    device: str

    def to_dict(self) -> dict:
        """The choice as a JSON-ready dict (what `precision.json` records per segment)."""
        return asdict(self)


def cpu_info(cpuinfo: str = CPUINFO) -> tuple[str, frozenset[str]]:
    """(model name, feature flags) of the CPU from `cpuinfo` (x86 "flags",
    Arm "Features"); the platform's processor name and no flags where the
    file does not exist (macOS, Windows)."""
    model, flags = "", set()
    if os.path.exists(cpuinfo):
        with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("flags", "Features"):
                    flags.update(value.split())
                elif key in ("model name", "Model", "CPU part") and not model:
                    model = value.strip()
    return model or platform.processor() or platform.machine() or "CPU", frozenset(flags)


def cpu_flags(cpuinfo: str = CPUINFO) -> frozenset[str]:
    """The CPU feature flags listed in `cpuinfo` (see `cpu_info`)."""
    return cpu_info(cpuinfo)[1]


def detect_device(cpuinfo: str = CPUINFO) -> Device:
    """The first visible GPU (name, compute capability), else the CPU (model
    and flags from `cpuinfo`). The one place tfface asks what it runs on:
    `choose_precision` and the notebooks' accelerator check call it."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        capability = details.get("compute_capability")
        return Device("gpu", details.get("device_name", gpus[0].name), tuple(capability) if capability else None, len(gpus))
    model, flags = cpu_info(cpuinfo)
    return Device("cpu", model, cpu_flags=flags)


def precision_for(kind: str, compute_capability: tuple[int, int] | None = None,
                  native_bfloat16: bool = False) -> str:  # fmt: skip
    """The policy "auto" picks for a device, by the rule alone (no probe:
    `native_bfloat16` says the CPU's bfloat16 is known to be faster).

    Args:
        kind: "gpu" or "cpu".
        compute_capability: (major, minor) of the GPU, or None.
        native_bfloat16: bool. Whether the CPU trains faster in bfloat16.

    Example:

    >>> precision_for("gpu", (7, 5)), precision_for("gpu", (8, 0)), precision_for("gpu", (6, 1))
    ('mixed_float16', 'mixed_bfloat16', 'float32')
    >>> precision_for("cpu", native_bfloat16=True), precision_for("cpu")
    ('mixed_bfloat16', 'float32')
    """
    if kind == "gpu":
        capability = tuple(compute_capability) if compute_capability is not None else (0, 0)
        if capability >= BFLOAT16_CAPABILITY:
            return "mixed_bfloat16"
        return "mixed_float16" if capability >= FLOAT16_CAPABILITY else "float32"
    return "mixed_bfloat16" if native_bfloat16 else "float32"


def choose_precision(requested: str, device: Device | None = None) -> PrecisionChoice:
    """The policy a run asking for `requested` trains under on `device`
    (default: `detect_device()`), with the reason.

    Example:

    >>> choose_precision("auto", Device("gpu", "NVIDIA A100-SXM4-40GB", (8, 0), 1)).reason
    'GPU compute capability 8.0 >= 8.0: bfloat16 tensor cores, no loss scaling needed'
    >>> choose_precision("float32", Device("gpu", "Tesla T4", (7, 5), 1)).reason
    'pinned by train.mixed_precision'
    """
    device = device if device is not None else detect_device()
    if device.kind == "gpu":
        cc = ".".join(map(str, device.compute_capability)) if device.compute_capability else "unknown"
        where = f"{device.name} (compute capability {cc})"
    else:
        where = f"CPU {device.name}"
    if requested != "auto":
        return PrecisionChoice(requested, requested, "pinned by train.mixed_precision", where)
    policy, reason = _auto(device, cc if device.kind == "gpu" else "")
    return PrecisionChoice(policy, requested, reason, where)


def _auto(device: Device, cc: str) -> tuple[str, str]:
    if device.kind == "gpu":
        policy = precision_for("gpu", device.compute_capability)
        return policy, {
            "mixed_bfloat16": f"GPU compute capability {cc} >= 8.0: bfloat16 tensor cores, no loss scaling needed",
            "mixed_float16": f"GPU compute capability {cc} (7.x): float16 tensor cores, with dynamic loss scaling",
            "float32": f"GPU compute capability {cc} < 7.0: no tensor cores",
        }[policy]
    if not device.cpu_flags & BFLOAT16_CPU_FLAGS:
        return "float32", "CPU without bfloat16 instructions (TensorFlow would emulate bfloat16, slower than float32)"
    if AMX_BFLOAT16_FLAG in device.cpu_flags and onednn_enabled() is not False:
        return "mixed_bfloat16", "CPU with AMX-BF16 tile units (bfloat16 matrix multiplies in hardware, oneDNN kernels)"
    speedup, cached = probe_bfloat16_speedup(device.name)
    measured = f"{'cached ' if cached else ''}probe: bfloat16 trains convolutions at {speedup:.2f}x float32's speed on this CPU"
    if speedup >= PROBE_MIN_SPEEDUP:
        return "mixed_bfloat16", f"{measured} (>= {PROBE_MIN_SPEEDUP})"
    return "float32", f"{measured} (< {PROBE_MIN_SPEEDUP}): bfloat16 instructions but no faster"


def auto_precision(cpuinfo: str = CPUINFO) -> str:
    """The policy "auto" resolves to on this host (see `choose_precision`)."""
    return choose_precision("auto", detect_device(cpuinfo)).policy


def resolve_precision(requested: str, cpuinfo: str = CPUINFO) -> str:
    """`requested`, or for "auto" the policy this host should use.

    Example:

    >>> resolve_precision("float32")
    'float32'
    >>> resolve_precision("auto") in ("float32", "mixed_bfloat16", "mixed_float16")
    True
    """
    return auto_precision(cpuinfo) if requested == "auto" else requested


# ---------------------------------------------------------------- the CPU probe


def probe_cache_path() -> str:
    """`$XDG_CACHE_HOME/tfface/precision_probe.json` (default `~/.cache`)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tfface", PROBE_CACHE)


def _probe_key(cpu_model: str) -> str:
    return f"{cpu_model} | {os.cpu_count()} cores | TensorFlow {tf.__version__} | oneDNN {onednn_enabled()}"


def probe_bfloat16_speedup(cpu_model: str, seconds: float = PROBE_SECONDS) -> tuple[float, bool]:
    """(float32 step time / mixed_bfloat16 step time of `measure_bfloat16_speedup`,
    whether it came from the cache). Measured once per CPU model, core
    count and TensorFlow version; an unwritable cache only costs a new probe."""
    path, key = probe_cache_path(), _probe_key(cpu_model)
    entries: dict = {}
    try:
        with open(path, encoding="utf-8") as handle:
            entries = json.load(handle)
        return float(entries[key]["speedup"]), True
    except (OSError, ValueError, KeyError, TypeError):
        pass
    speedup = measure_bfloat16_speedup(seconds)
    entries = entries if isinstance(entries, dict) else {}
    entries[key] = {"speedup": round(speedup, 3), "measured": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        atomic_write_text(path, json.dumps(entries, indent=2) + "\n")
    except OSError:
        pass
    return speedup, False


def measure_bfloat16_speedup(seconds: float = PROBE_SECONDS, batch: int = 32, size: int = 64) -> float:
    """How many times faster a mixed_bfloat16 training step of a small
    convolutional encoder/decoder (face_64-like shapes: 64×64 images, 64–128
    channels, batch 32) runs than the float32 one on this CPU. Float32
    variables cast to the compute dtype, as Keras' mixed policies do. The
    two steps alternate (fair under a varying load) until `seconds` are
    spent, tracing included; each step's fastest time counts."""
    start = time.perf_counter()
    images = tf.random.stateless_uniform((batch, size, size, 3), seed=(0, 0))
    shapes = [(3, 3, 3, 64, 2), (3, 3, 64, 128, 2), (3, 3, 128, 128, 1), (3, 3, 128, 64, 1)]
    kernels = [tf.Variable(tf.random.stateless_normal(s[:4], seed=(i, 1)) * 0.05) for i, s in enumerate(shapes)]

    def step_for(dtype):
        @tf.function
        def step():
            with tf.GradientTape() as tape:
                h = tf.cast(images, dtype)
                for kernel, shape in zip(kernels, shapes):
                    h = tf.nn.relu(tf.nn.conv2d(h, tf.cast(kernel, dtype), strides=shape[4], padding="SAME"))
                loss = tf.reduce_mean(tf.square(tf.cast(h, tf.float32)))
            for kernel, grad in zip(kernels, tape.gradient(loss, kernels)):
                kernel.assign_sub(1e-4 * grad)
            return loss

        return step

    steps = {name: step_for(dtype) for name, dtype in (("float32", tf.float32), ("bfloat16", tf.bfloat16))}
    best = {name: float("inf") for name in steps}
    rounds = 0
    while rounds < 2 or (time.perf_counter() - start < seconds and rounds < 50):
        for name, step in steps.items():
            began = time.perf_counter()
            step().numpy()
            if rounds:  # the first round traces
                best[name] = min(best[name], time.perf_counter() - began)
        rounds += 1
    return best["float32"] / best["bfloat16"]
