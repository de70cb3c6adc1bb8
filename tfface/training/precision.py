"""`train.mixed_precision = "auto"`: the fastest policy that holds quality on
the device the run trains on.

- a GPU with tensor cores (compute capability ≥ 7.0: V100, T4, A100, L4):
  "mixed_float16" (with dynamic loss scaling);
- a CPU with native bfloat16 instructions (x86 AVX512-BF16 or AMX-BF16,
  Arm's BF16 extension): "mixed_bfloat16" — on such a CPU the recommended
  face model trained ~1.3× more images per CPU-second and reached the same
  or better held-out PSNR/SWD after the same CPU time (benchmarks/README.md,
  "Face quality at a fixed CPU budget"); without them TensorFlow emulates
  bfloat16 and it is slower than float32;
- anything else: "float32".

A run records the policy "auto" resolved to (its `config.json` holds the
concrete name), so a resumed run keeps its precision even on another device.
"""

from __future__ import annotations

import os

import tensorflow as tf

# Tensor cores (float16 matrix units) arrived with compute capability 7.0
# (V100); the T4 is 7.5, the A100 8.0, the L4 8.9.
TENSOR_CORE_CAPABILITY = (7, 0)
# /proc/cpuinfo flags of native bfloat16 arithmetic (x86: AVX512-BF16 and
# AMX; Arm: the BF16 extension).
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16", "bf16"})
CPUINFO = "/proc/cpuinfo"


def cpu_flags(cpuinfo: str = CPUINFO) -> frozenset[str]:
    """The CPU feature flags listed in `cpuinfo` (x86 "flags", Arm
    "Features"); empty where the file does not exist (macOS, Windows)."""
    if not os.path.exists(cpuinfo):
        return frozenset()
    flags: set[str] = set()
    with open(cpuinfo, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, _, value = line.partition(":")
            if key.strip() in ("flags", "Features"):
                flags.update(value.split())
    return frozenset(flags)


def precision_for(kind: str, compute_capability: tuple[int, int] | None = None,
                  native_bfloat16: bool = False) -> str:  # fmt: skip
    """The policy "auto" picks for a device.

    Args:
        kind: "gpu" or "cpu".
        compute_capability: (major, minor) of the GPU, or None.
        native_bfloat16: bool. Whether the CPU has bfloat16 instructions.

    Example:

    >>> precision_for("gpu", (7, 5)), precision_for("gpu", (6, 0))
    ('mixed_float16', 'float32')
    >>> precision_for("cpu", native_bfloat16=True), precision_for("cpu")
    ('mixed_bfloat16', 'float32')
    """
    if kind == "gpu":
        if compute_capability is not None and tuple(compute_capability) >= TENSOR_CORE_CAPABILITY:
            return "mixed_float16"
        return "float32"
    return "mixed_bfloat16" if native_bfloat16 else "float32"


def auto_precision(cpuinfo: str = CPUINFO) -> str:
    """The policy "auto" resolves to on this host: by its first visible GPU,
    else by the CPU's flags in `cpuinfo`."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability")
        return precision_for("gpu", tuple(capability) if capability else None)
    return precision_for("cpu", native_bfloat16=bool(cpu_flags(cpuinfo) & BFLOAT16_CPU_FLAGS))


def resolve_precision(requested: str, cpuinfo: str = CPUINFO) -> str:
    """`requested`, or for "auto" the policy this host should use.

    Example:

    >>> resolve_precision("float32")
    'float32'
    >>> resolve_precision("auto") in ("float32", "mixed_bfloat16", "mixed_float16")
    True
    """
    return auto_precision(cpuinfo) if requested == "auto" else requested
