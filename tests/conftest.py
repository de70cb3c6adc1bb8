"""Suite-wide set-up: quiet TensorFlow, a `slow` marker, shared fixtures."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _fresh_keras_state():
    """Each test starts with a fixed seed and a clean Keras session."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(1234)
    yield


@pytest.fixture(scope="session")
def trained_tiny_run(tmp_path_factory):
    """`tests.helpers.tiny_config`'s run (no export, no sample grid), trained
    once per session. Read-only: tests that write into a run use `tiny_run`."""
    from tests.helpers import tiny_config
    from tfface.experiments import train

    path = tmp_path_factory.mktemp("trained_tiny_run")
    train(tiny_config(path, "run.export=false", "run.sample_grid=false"))
    return path


@pytest.fixture(scope="module")
def tiny_run(trained_tiny_run, tmp_path_factory):
    """A module's own copy of the session's trained tiny run."""
    import shutil

    path = tmp_path_factory.mktemp("run") / "tiny"
    shutil.copytree(trained_tiny_run, path)
    return path
