"""`import tfface` asks TensorFlow for its oneDNN CPU kernels on x86-64,
before TensorFlow is imported, and leaves an explicit choice alone."""

import json
import os
import platform
import subprocess
import sys

import pytest

from tests.helpers import REPO
from tfface.onednn import ONEDNN_ENV, X86_64, prefer_onednn

# What a fresh process ends up with: the variable, TensorFlow's answer, and
# whether the runner's check warned.
PROBE = """
import json, logging, os, sys
first = sys.argv[1]
if first == "tensorflow":
    import tensorflow
import tfface
from tfface.training.runtime import check_cpu_kernels, onednn_enabled
logging.basicConfig(level=logging.WARNING)
print(json.dumps({"env": os.environ.get("TF_ENABLE_ONEDNN_OPTS"), "enabled": onednn_enabled(),
                  "warned": check_cpu_kernels()}))
"""


def probe(first: str, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if k != ONEDNN_ENV}
    environ.update(env, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="3", CUDA_VISIBLE_DEVICES="")
    done = subprocess.run([sys.executable, "-c", PROBE, first], env=environ, capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    "environ, machine, imported, expected",
    [
        ({}, "x86_64", False, "1"),
        ({}, "AMD64", False, "1"),  # Windows spells it so
        ({ONEDNN_ENV: "0"}, "x86_64", False, "0"),  # the user's choice stays
        ({}, "x86_64", True, None),  # too late: TensorFlow read it at import
        ({}, "aarch64", False, None),  # Arm's oneDNN build is another matter
    ],
)
def test_prefer_onednn_sets_the_variable_only_where_it_decides(environ, machine, imported, expected):
    environ = dict(environ)
    changed = prefer_onednn(environ, machine=machine, tensorflow_imported=imported)
    assert environ.get(ONEDNN_ENV) == expected
    assert changed == (expected == "1")


needs_x86 = pytest.mark.skipif(platform.machine().lower() not in X86_64, reason="oneDNN default is x86-64 only")


@needs_x86
def test_importing_tfface_first_turns_on_onednn_kernels():
    assert probe("tfface") == {"env": "1", "enabled": True, "warned": False}


@needs_x86
def test_an_explicit_zero_keeps_eigen_kernels_without_a_warning():
    assert probe("tfface", **{ONEDNN_ENV: "0"}) == {"env": "0", "enabled": False, "warned": False}


@needs_x86
def test_tensorflow_imported_first_is_reported_where_it_leaves_onednn_off():
    result = probe("tensorflow")
    assert result["env"] is None
    # On CPUs where TensorFlow turns oneDNN on by itself (Intel with
    # AVX512-VNNI, AVX512-BF16 or AMX) there is nothing to warn about.
    assert result["warned"] == (result["enabled"] is False)
