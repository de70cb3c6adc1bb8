"""Suite-wide set-up: quiet TensorFlow, the `slow` marker, shared trained runs,
the order tests start in.

What goes under `slow`: every test that takes 10 s or more on an idle 2-core
machine (its seconds in `tests/durations.json`, marked here, so a test file
needs no edit; `--slow-seconds` moves the line, `make test-min` keeps its
subset whole with 0), and tests marked `@pytest.mark.slow` in their file (end-to-end
runs in fresh processes: kill-and-resume, multi-worker, notebooks in a kernel,
`pip install`). `make test` (the README's command, CI's first) runs the rest
in at most 12 minutes on an idle 2-core machine; `make test-slow` runs the
slow set alone, `make test-all` both, and CI runs `make test` then
`make test-slow`: every test runs in CI, none is weakened.

Before a new test lands in the slow set, share what it pays for: a test that
only reads a trained run takes `trained_tiny_run` / `trained_exported_run`
(trained once per suite, whatever the number of xdist workers), or their
copies `tiny_run` / `exported_run` when it writes.

Order: the tests in `tests/durations.json` start first, longest first, so
`-n 2` ends on short tests instead of one core idling behind a long one.
Refresh the file on an idle 2-core machine after adding or renaming a long
test: `python -m pytest -n 2 --store-durations tests/durations.json`
(`make test-all PYTEST_ARGS="--store-durations tests/durations.json"`).
"""

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

import tfface  # noqa: E402,F401  (before TensorFlow: the CPU kernels users get, see tfface.onednn)

DURATIONS = os.path.join(os.path.dirname(__file__), "durations.json")
LONG = 2.0  # seconds: shorter tests are not recorded and keep their collection order
SLOW = 10.0  # seconds on an idle 2-core machine: the `slow` set


def pytest_addoption(parser):
    parser.addoption("--slow-seconds", type=float, default=SLOW, metavar="S",
                     help=f"mark tests of S seconds or more in tests/durations.json slow (default {SLOW:g}; 0: only the tests marked in their file)")
    parser.addoption("--store-durations", metavar="PATH", default=None,
                     help="write each test's setup + call seconds (>= 2 s) to PATH as JSON (tests/durations.json: the slow set and the order)")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    """Tests of `SLOW` seconds or more get the `slow` marker; known long
    tests run first, longest first (a stable sort: the rest keep their
    order, and every xdist worker computes the same one)."""
    try:
        with open(DURATIONS, encoding="utf-8") as handle:
            known = json.load(handle)
    except FileNotFoundError:
        return
    threshold = config.getoption("--slow-seconds")
    for item in items:
        if threshold > 0 and known.get(item.nodeid, 0.0) >= threshold:
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: -known.get(item.nodeid, 0.0))


class _DurationStore:
    def __init__(self, path: str):
        self.path, self.seconds = path, {}

    def pytest_runtest_logreport(self, report):
        if report.when in ("setup", "call"):
            self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session):
        long = {k: round(v, 1) for k, v in sorted(self.seconds.items(), key=lambda kv: -kv[1]) if v >= LONG}
        with open(self.path, "w", encoding="utf-8") as handle:
            json.dump(long, handle, indent=0)
            handle.write("\n")


def pytest_configure(config):
    path = config.getoption("--store-durations")
    if path and not hasattr(config, "workerinput"):  # the xdist controller (or a plain run) gathers every report
        config.pluginmanager.register(_DurationStore(path), "tfface-durations")


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a fixed seed and a clean Keras session."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    yield


def _trained(factory, name: str, *overrides: str):
    """`tiny_config(*overrides)` trained once per suite: under xdist the
    workers share one folder beside their own temporary roots, and the first
    to arrive trains while the others wait on its lock."""
    from filelock import FileLock

    from tests.helpers import tiny_config
    from tfface.experiments import train

    root = factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # pytest-of-USER/pytest-N: the same for every worker of this run
    path, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            train(tiny_config(path, *overrides))
            done.touch()
    return path


def _copy(run, factory):
    import shutil

    path = factory.mktemp("run") / "tiny"
    shutil.copytree(run, path)
    return path


@pytest.fixture(scope="session")
def trained_tiny_run(tmp_path_factory):
    """`tests.helpers.tiny_config`'s run (no export, no sample grid), trained
    once per suite. Read-only: tests that write into a run use `tiny_run`."""
    return _trained(tmp_path_factory, "trained_tiny_run", "run.export=false", "run.sample_grid=false")


@pytest.fixture(scope="module")
def tiny_run(trained_tiny_run, tmp_path_factory):
    """A module's own copy of the suite's trained tiny run."""
    return _copy(trained_tiny_run, tmp_path_factory)


@pytest.fixture(scope="session")
def trained_exported_run(tmp_path_factory):
    """The tiny run trained with its export (`RUN/export/1`) and without
    grids, once per suite. Read-only: copy it with `exported_run`."""
    return _trained(tmp_path_factory, "trained_exported_run", "run.sample_grid=false", "run.reconstruction_grid=false")


@pytest.fixture
def exported_run(trained_exported_run, tmp_path_factory):
    """A test's own copy of the suite's trained and exported tiny run."""
    return _copy(trained_exported_run, tmp_path_factory)
