"""`.ci/run` installs PyTorch's CPU build into the venv `make test` uses,
and Debian's headless Chromium for the explorer's browser test, then runs
`make test` with the PyTorch twin and the browser required (not skipped)."""

import os
import shutil
import stat
import subprocess

from tests.helpers import REPO


def executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_ci_installs_the_pinned_cpu_torch_into_make_tests_venv_before_make_test(tmp_path):
    repo = tmp_path / "repo"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(os.path.join(REPO, ".ci", "run"), repo / ".ci" / "run")
    log = tmp_path / "log"
    # stand-ins: `make` and the venv's python record what CI asks of them
    executable(tmp_path / "bin" / "make", f'#!/bin/sh\necho "make $* TFFACE_REQUIRE_TORCH=$TFFACE_REQUIRE_TORCH CI=$CI" >> {log}\n')
    for tool in ("apt-get", "sudo"):  # sudo only when not root: runs what it is given
        executable(tmp_path / "bin" / tool, f'#!/bin/sh\necho "{tool} $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> {log}\n'
                   + ('exec "$@"\n' if tool == "sudo" else ""))
    executable(repo / ".venv" / "bin" / "python", f'#!/bin/sh\necho "venv-python $*" >> {log}\n')
    env = {**os.environ, "PATH": f"{tmp_path / 'bin'}:{os.environ['PATH']}"}
    env.pop("TORCH_CPU", None)
    env.pop("CI", None)
    result = subprocess.run(["bash", str(repo / ".ci" / "run")], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = log.read_text().splitlines()
    install = [i for i, line in enumerate(lines) if line.startswith("venv-python -m pip install") and "torch==2.13.0" in line]
    tests = [i for i, line in enumerate(lines) if line.startswith("make test TFFACE")]
    assert install and tests and install[0] < tests[-1], lines
    assert lines[tests[-1]] == "make test TFFACE_REQUIRE_TORCH=1 CI=true"  # neither the twin nor the browser may skip
    apt = [line for line in lines if line.startswith("apt-get")]
    assert apt == ["apt-get update -qq DEBIAN_FRONTEND=noninteractive",
                   "apt-get install -y -qq --no-install-recommends chromium chromium-driver DEBIAN_FRONTEND=noninteractive"]
    make = [line for line in lines if line.startswith("make")]
    assert lines.index(apt[-1]) < lines.index(make[0])  # the browser is there before any test runs
    assert make[0].startswith("make install-test")  # creates the venv `make test` then reuses
    assert lines[-1].startswith("make test-min")  # the oldest declared versions, after the suite


def test_make_test_itself_installs_no_torch():
    with open(os.path.join(REPO, "Makefile"), encoding="utf-8") as handle:
        makefile = handle.read()
    assert "VENV   ?= .venv" in makefile  # the venv .ci/run installs torch into
    test_recipe = makefile.split("\ntest: ", 1)[1].split("\n\n", 1)[0]
    install_test = makefile.split("\ninstall-test: ", 1)[1].split("\n\n", 1)[0]
    assert "torch" not in test_recipe + install_test
