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
