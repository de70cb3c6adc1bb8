"""The first minute without alarms: `--help` and argument errors answer
without importing TensorFlow, and TensorFlow's C++ start-up lines are hidden
unless `--verbose`."""

import json
import os
import subprocess
import sys

from tests.helpers import REPO

RUNNER = r"""
import contextlib, io, json, sys
from tfface.cli import COMMANDS
from tfface.cli.main import build_parser, main

build_parser()  # registers every command
codes = {}
calls = [[name, "--help"] for name in COMMANDS.names()]
calls += [["data", "inspect", "--help"], ["data", "inspect"], ["train"], ["sample", "run", "--count", "many"], ["nope"]]
for argv in calls:
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            main(argv)
        except SystemExit as stop:
            codes[" ".join(argv)] = stop.code
print(json.dumps({"codes": codes, "commands": sorted(COMMANDS.names()),
                  "imported": sorted(m for m in ("tensorflow", "keras", "tensorflow_datasets", "cv2") if m in sys.modules)}))
"""

NOISE = ("I0000", "E0000", "W0000", "oneDNN", "cpu_feature_guard", "cuInit", "absl::InitializeLog")


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    return {**env, "PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", ""), **extra}


def test_help_and_argument_errors_of_every_command_do_not_import_tensorflow():
    done = subprocess.run([sys.executable, "-c", RUNNER], capture_output=True, text=True, timeout=120, env=_env(), cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert {"train", "sample", "evaluate", "export", "data"} <= set(result["commands"])
    assert all(result["codes"][f"{name} --help"] == 0 for name in result["commands"])
    assert result["codes"]["data inspect --help"] == 0
    assert all(result["codes"][argv] == 2 for argv in ("data inspect", "train", "sample run --count many", "nope"))
    assert result["imported"] == []


def test_tensorflow_start_up_lines_are_hidden_unless_verbose(tmp_path):
    argv = [sys.executable, "-m", "tfface", "data", "inspect", "--source", "synthetic", "--set", "data.num_examples=8"]
    quiet = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr[-2000:]
    assert not [line for line in quiet.stderr.splitlines() if any(word in line for word in NOISE)], quiet.stderr
    loud = subprocess.run([*argv, "--verbose"], capture_output=True, text=True, timeout=300, env=_env(), cwd=tmp_path)
    assert loud.returncode == 0 and quiet.stdout == loud.stdout
    assert any(word in loud.stderr for word in NOISE), loud.stderr  # the lines exist, and --verbose shows them
