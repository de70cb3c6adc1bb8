"""TensorFlow's oneDNN CPU kernels on every x86-64 CPU.

TensorFlow's Linux wheels carry two sets of CPU kernels: Eigen's and
oneDNN's. Unless `TF_ENABLE_ONEDNN_OPTS` says otherwise, TensorFlow turns
oneDNN on only for Intel CPUs with AVX512-VNNI, AVX512-BF16 or AMX, so an
AMD EPYC or Ryzen, or an older Xeon, trains on Eigen. On a 2-core AMD EPYC
(Zen 3, AVX2) one training step of every tfface preset ran 1.5–1.9× faster
with oneDNN (float32, batch 32; benchmarks/README.md, "Where the time
goes"): the convolutions' gradients and the fused batch norm are where
Eigen is slow.

`import tfface` therefore sets `TF_ENABLE_ONEDNN_OPTS=1` on x86-64 when
the variable is unset and TensorFlow is not yet imported (TensorFlow reads
it once, at import). An explicit setting wins: `TF_ENABLE_ONEDNN_OPTS=0`
keeps Eigen. Import tfface before TensorFlow, or set the variable
yourself, to get the fast kernels; `onednn_enabled()` tells which set
this process runs (`tfface.training.runtime.onednn_enabled`).
"""

from __future__ import annotations

import os
import platform
import sys
from typing import MutableMapping

ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"
# platform.machine() of x86-64 hosts (Linux and macOS, Windows).
X86_64 = frozenset({"x86_64", "amd64"})


def variable_decides(environ: MutableMapping[str, str] | None = None, machine: str | None = None) -> bool:
    """Whether `TF_ENABLE_ONEDNN_OPTS` is left for tfface to decide: an
    x86-64 host where the user has not set it."""
    environ = os.environ if environ is None else environ
    machine = platform.machine() if machine is None else machine
    return ONEDNN_ENV not in environ and machine.lower() in X86_64


def prefer_onednn(environ: MutableMapping[str, str] | None = None, machine: str | None = None,
                  tensorflow_imported: bool | None = None) -> bool:  # fmt: skip
    """Sets `TF_ENABLE_ONEDNN_OPTS=1` in `environ` where it decides the CPU
    kernels: an x86-64 host, the variable unset, TensorFlow not imported.

    Args:
        environ: the environment to change. Defaults to `os.environ`.
        machine: `platform.machine()`. Defaults to this host's.
        tensorflow_imported: whether TensorFlow is imported already.
            Defaults to this process' state.

    Returns:
        bool. Whether the variable was set.

    Example:

    >>> env = {}
    >>> prefer_onednn(env, machine="x86_64", tensorflow_imported=False), env
    (True, {'TF_ENABLE_ONEDNN_OPTS': '1'})
    >>> prefer_onednn({"TF_ENABLE_ONEDNN_OPTS": "0"}, "x86_64", False)
    False
    >>> prefer_onednn({}, machine="aarch64", tensorflow_imported=False)
    False
    """
    environ = os.environ if environ is None else environ
    if tensorflow_imported is None:
        tensorflow_imported = "tensorflow" in sys.modules
    if tensorflow_imported or not variable_decides(environ, machine):
        return False
    environ[ONEDNN_ENV] = "1"
    return True

