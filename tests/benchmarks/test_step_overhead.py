"""`benchmarks/step_overhead.py`: every configuration runs as labelled (the
kernels it asks for, the guard, steps per execution) and is reported."""

import os
import platform
import sys

import pytest

from tests.helpers import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))

import step_overhead  # noqa: E402

from tfface.onednn import X86_64  # noqa: E402


def test_steps_must_split_into_executions_of_four():
    with pytest.raises(SystemExit):
        step_overhead.parse_args(["--steps", "6"])


@pytest.mark.slow
def test_each_configuration_is_timed_and_reported_against_the_runners(capsys):
    assert step_overhead.main(["--presets", "vae_tiny", "--batch", "4", "--steps", "4", "--repeats", "1",
                               "--warmup", "1", "--rounds", "1", "--threads", "1"]) == 0  # fmt: skip
    rows = [line for line in capsys.readouterr().out.splitlines() if line.startswith("vae_tiny")]
    assert len(rows) == len(step_overhead.CONFIGURATIONS)
    assert rows[0].split()[-1] == "1.00"
    assert all(float(row.split()[-1]) > 0 for row in rows)
    if platform.machine().lower() in X86_64:
        kernels = [row[56:63].strip() for row in rows]
        assert kernels == ["on", "off", "on", "on"]
