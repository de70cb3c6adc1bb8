"""Serving signatures fed wrong shapes and dtypes: an error naming the
endpoint, the argument and the expected shape, never a failure deep inside
the model (or a hang)."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfface.export import export_savedmodel
from tfface.presets import build_preset

FUZZ = settings(max_examples=25, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LATENT, IMAGE = 8, (32, 32, 3)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    model = build_preset("vae_tiny", image_size=IMAGE[:2], seed=0)
    path = export_savedmodel(model, tmp_path_factory.mktemp("export") / "1")
    return tf.saved_model.load(str(path))


shapes = st.lists(st.integers(min_value=0, max_value=40), min_size=0, max_size=5)
dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.int32, np.uint8, np.int64, np.bool_])
EXPECTED = {"generate": ("z", [None, LATENT]), "reconstruct": ("images", [None, *IMAGE])}


def _fits(shape, expected) -> bool:
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))


def _array(shape, dtype):
    return np.zeros(shape, dtype=dtype)


@FUZZ
@given(endpoint=st.sampled_from(sorted(EXPECTED)), shape=shapes, dtype=dtypes)
def test_python_calls_with_wrong_shapes_or_dtypes_name_the_argument(served, endpoint, shape, dtype):
    argument, expected = EXPECTED[endpoint]
    x = _array(shape, dtype)
    try:
        out = getattr(served, endpoint)(x)
    except (TypeError, ValueError) as error:
        assert argument in str(error) and not _fits(shape, expected) or dtype is np.bool_
        return
    assert _fits(shape, expected)
    assert out.dtype == tf.float32 and out.shape[0] == shape[0]


@FUZZ
@given(endpoint=st.sampled_from(sorted(EXPECTED)), shape=shapes, dtype=dtypes)
def test_serving_signatures_check_shapes_before_the_model_runs(served, endpoint, shape, dtype):
    argument, expected = EXPECTED[endpoint]
    signature = served.signatures[endpoint]
    x = tf.constant(_array(shape, dtype))
    try:
        outputs = signature(**{argument: x})
    except (TypeError, ValueError) as error:  # rank or dtype refused when binding
        assert argument in str(error) and (not _fits(shape, expected) or dtype is not np.float32)
        return
    except tf.errors.InvalidArgumentError as error:
        message = str(error)
        if dtype is not np.float32:
            assert "expected to be a float tensor" in message
        else:
            assert not _fits(shape, expected)
            assert f"{endpoint}({argument}): expected float32 [N, " in message
        return
    assert dtype is np.float32 and _fits(shape, expected)
    (out,) = outputs.values()
    assert out.shape[0] == shape[0]
