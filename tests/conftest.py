"""Suite-wide set-up: quiet TensorFlow, a `slow` marker, shared fixtures."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

import tfface  # noqa: E402,F401  (before TensorFlow: the CPU kernels users get, see tfface.onednn)


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a fixed seed and a clean Keras session."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    yield


def _trained(factory, name: str, *overrides: str):
    from tests.helpers import tiny_config
    from tfface.experiments import train

    path = factory.mktemp(name)
    train(tiny_config(path, *overrides))
    return path


def _copy(run, factory):
    import shutil

    path = factory.mktemp("run") / "tiny"
    shutil.copytree(run, path)
    return path


@pytest.fixture(scope="session")
def trained_tiny_run(tmp_path_factory):
    """`tests.helpers.tiny_config`'s run (no export, no sample grid), trained
    once per session. Read-only: tests that write into a run use `tiny_run`."""
    return _trained(tmp_path_factory, "trained_tiny_run", "run.export=false", "run.sample_grid=false")


@pytest.fixture(scope="module")
def tiny_run(trained_tiny_run, tmp_path_factory):
    """A module's own copy of the session's trained tiny run."""
    return _copy(trained_tiny_run, tmp_path_factory)


@pytest.fixture(scope="session")
def trained_exported_run(tmp_path_factory):
    """The tiny run trained with its export (`RUN/export/1`) and without
    grids, once per session. Read-only: copy it with `exported_run`."""
    return _trained(tmp_path_factory, "trained_exported_run", "run.sample_grid=false", "run.reconstruction_grid=false")


@pytest.fixture
def exported_run(trained_exported_run, tmp_path_factory):
    """A test's own copy of the session's trained and exported tiny run."""
    return _copy(trained_exported_run, tmp_path_factory)
