"""`.ci/run` installs PyTorch's CPU build into the venv `make test` uses,
and Debian's headless Chromium for the explorer's browser test, then runs
`make test` with the PyTorch twin and the browser required (not skipped)."""

import os
import re
import shutil
import stat
import subprocess

from tests.helpers import REPO


def executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def _run_ci(tmp_path, **env_vars):
    """Runs a copy of `.ci/run` with stand-ins for `make` and the venv's
    python that record what CI asks of them; returns the recorded lines."""
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(os.path.join(REPO, ".ci", "run"), repo / ".ci" / "run")
    log = tmp_path / "log"
    # stand-ins: `make` and the venv's python record what CI asks of them
    executable(tmp_path / "bin" / "make", f'#!/bin/sh\necho "make $* CI=$CI TFFACE_REQUIRE_TORCH=$TFFACE_REQUIRE_TORCH" >> {log}\n')
    for tool in ("apt-get", "sudo"):  # sudo only when not root: runs what it is given
        executable(tmp_path / "bin" / tool, f'#!/bin/sh\necho "{tool} $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> {log}\n'
                   + ('exec "$@"\n' if tool == "sudo" else ""))
    executable(repo / ".venv" / "bin" / "python", f'#!/bin/sh\necho "venv-python $*" >> {log}\n')
    env = {**{k: v for k, v in os.environ.items() if k not in ("TORCH_CPU", "CI")}, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}", **env_vars}
    result = subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return log.read_text().splitlines()


def _suite_runs(lines):
    """Indices of the `make test...` calls that run the suite (not test-min)."""
    return [i for i, line in enumerate(lines) if re.match(r"make test(-[a-z]+)?\b", line) and not line.startswith("make test-min")]


def test_ci_installs_a_pinned_cpu_torch_into_the_venv_before_the_suite_which_requires_it(tmp_path):
    lines = _run_ci(tmp_path)
    install = [i for i, line in enumerate(lines) if re.match(r"venv-python -m pip install .*\btorch==\d+\.\d+\.\d+\b", line)]
    suite = _suite_runs(lines)
    assert install and suite and install[0] < suite[0], lines  # into the venv, before any suite run
    # neither the twin nor the browser may skip in CI
    assert all(lines[i].endswith("CI=true TFFACE_REQUIRE_TORCH=1") for i in suite), lines
    first_make = next(line for line in lines if line.startswith("make "))
    assert first_make.startswith("make install-test"), lines  # creates the venv the suite then reuses
    test_min = [i for i, line in enumerate(lines) if line.startswith("make test-min")]
    assert test_min and test_min[0] > suite[-1], lines  # the oldest declared versions, after the suite
    # Debian's chromium and its driver are installed, non-interactively, before any make
    apt = [i for i, line in enumerate(lines) if line.startswith("apt-get install")]
    assert apt and apt[0] < lines.index(first_make), lines
    assert {"chromium", "chromium-driver"} <= set(lines[apt[0]].split()), lines
    assert lines[apt[0]].endswith("DEBIAN_FRONTEND=noninteractive"), lines
    # TORCH_CPU chooses another build; nothing else changes.
    other = _run_ci(tmp_path / "other", TORCH_CPU="torch==9.9.9+cpu")
    assert any(line.startswith("venv-python -m pip install") and "torch==9.9.9+cpu" in line for line in other), other


def _dry_run(target):
    """The commands `make TARGET` would run (all prerequisites out of date)."""
    done = subprocess.run(["make", "-n", "-B", "-C", REPO, target], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stdout.splitlines() if not line.startswith("make")]


def test_make_test_installs_no_torch_and_runs_pytest_in_the_venv_ci_installs_torch_into(tmp_path):
    commands = _dry_run("test")
    assert commands and not [c for c in commands if "torch" in c], commands
    pytest_runs = [c for c in commands if " -m pytest" in c]
    assert pytest_runs and all(c.split()[0] == ".venv/bin/python" for c in pytest_runs), pytest_runs
    assert all("--durations" in c for c in pytest_runs)
    ci_python = {line.split()[0] for line in _run_ci(tmp_path) if line.startswith("venv-python")}
    assert ci_python == {"venv-python"}  # the stand-in at REPO/.venv/bin/python: .ci/run uses that venv
