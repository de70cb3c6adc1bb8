"""Serving signatures fed wrong shapes, dtypes and values: an error naming
the signature, the argument and what was expected, never a failure deep
inside the model (or a hang)."""

import numpy as np
import pytest
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tfface.export import export_savedmodel
from tfface.presets import build_preset

FUZZ = settings(max_examples=25, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
LATENT, IMAGE, MAX_COUNT = 8, (32, 32, 3), 256
IMAGE_SIGNATURES = {
    "generate": ("z", [None, LATENT]),
    "decode": ("z", [None, LATENT]),
    "encode": ("images", [None, *IMAGE]),
    "reconstruct": ("images", [None, *IMAGE]),
}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    model = build_preset("vae_tiny", image_size=IMAGE[:2], seed=0)
    path = export_savedmodel(model, tmp_path_factory.mktemp("export") / "1")
    return tf.saved_model.load(str(path))


shapes = st.lists(st.integers(min_value=0, max_value=40), min_size=0, max_size=5)
dtypes = st.sampled_from([np.float32, np.float64, np.float16, np.int32, np.uint8, np.int64, np.bool_])


def _fits(shape, expected) -> bool:
    return len(shape) == len(expected) and all(e is None or s == e for s, e in zip(shape, expected))


def _array(shape, dtype):
    return np.zeros(shape, dtype=dtype)


@FUZZ
@given(endpoint=st.sampled_from(sorted(IMAGE_SIGNATURES)), shape=shapes, dtype=dtypes)
def test_python_calls_with_wrong_shapes_or_dtypes_name_the_argument(served, endpoint, shape, dtype):
    argument, expected = IMAGE_SIGNATURES[endpoint]
    x = _array(shape, dtype)
    try:
        out = getattr(served, endpoint)(x)
    except (TypeError, ValueError) as error:
        assert argument in str(error) and not _fits(shape, expected) or dtype is np.bool_
        return
    assert _fits(shape, expected)
    assert all(v.dtype == tf.float32 and v.shape[0] == shape[0] for v in out.values())


@FUZZ
@given(endpoint=st.sampled_from(sorted(IMAGE_SIGNATURES)), shape=shapes, dtype=dtypes)
def test_serving_signatures_check_shapes_before_the_model_runs(served, endpoint, shape, dtype):
    argument, expected = IMAGE_SIGNATURES[endpoint]
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
    assert all(out.shape[0] == shape[0] for out in outputs.values())


values = st.floats(allow_nan=True, allow_infinity=True, width=32)


def _flushed(value: float) -> float:
    """TensorFlow's CPU kernels flush float32 subnormals to zero: -1e-45 counts as 0."""
    return 0.0 if abs(value) < np.finfo(np.float32).tiny else value


@FUZZ
@given(endpoint=st.sampled_from(sorted(IMAGE_SIGNATURES)), value=values)
def test_out_of_range_values_are_refused(served, endpoint, value):
    argument, expected = IMAGE_SIGNATURES[endpoint]
    x = np.full([2, *expected[1:]], 0.5, np.float32)
    x[1, 0] = value
    valid = np.isfinite(value) and (argument == "z" or 0.0 <= _flushed(value) <= 1.0)
    try:
        outputs = served.signatures[endpoint](**{argument: tf.constant(x)})
    except tf.errors.InvalidArgumentError as error:
        assert not valid
        what = "finite" if argument == "z" else "in [0, 1]"
        assert f"{endpoint}({argument}): values must be {what}" in str(error)
        return
    assert valid
    if argument == "images":
        assert all(np.all(np.isfinite(out)) for out in outputs.values())


@FUZZ
@given(
    count=st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers(-3, MAX_COUNT + 3)),
    temperature=values,
    seed=st.integers(-(2**63), 2**63 - 1),
    count_shape=st.sampled_from([(), (1,), (2,), (1, 1)]),
)
def test_sample_refuses_bad_counts_temperatures_and_ranks(served, count, temperature, seed, count_shape):
    inputs = {
        "count": tf.constant(np.full(count_shape, count, np.int32)),
        "seed": tf.constant(seed, tf.int64),
        "temperature": tf.constant(temperature, tf.float32),
    }
    bad_count = count_shape != () or not 0 <= count <= MAX_COUNT
    flushed = _flushed(temperature)
    bad_temperature = not (np.isfinite(flushed) and 0 <= flushed <= 10)
    try:
        out = served.signatures["sample"](**inputs)
    except (TypeError, ValueError) as error:  # rank refused when binding (TF Serving skips this: see tests/export)
        assert count_shape != () and "count" in str(error)
        return
    except tf.errors.InvalidArgumentError as error:
        message = str(error)
        expected = []
        if count_shape != ():
            expected.append("sample(count): expected int32 [], got shape")
        elif bad_count:
            expected.append(f"sample(count): values must be in [0, {MAX_COUNT}]")
        if bad_temperature:
            expected.append("sample(temperature): values must be")
        assert any(text in message for text in expected), message
        return
    assert not bad_count and not bad_temperature
    assert out["images"].shape == (count, *IMAGE) and out["z"].shape == (count, LATENT)
