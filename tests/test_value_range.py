"""`ValueRange`: one type for "0_1"/"-1_1", equal to and serialised as its string."""

import json

import numpy as np
import pytest
import tensorflow as tf

from tfface.value_range import ValueRange


def test_members_parse_from_and_serialise_to_the_config_strings():
    for text in ("0_1", "-1_1"):
        member = ValueRange.parse(text)
        assert member == text and f"{member}" == text and json.loads(json.dumps({"r": member}))["r"] == text
        assert ValueRange.parse(member) is member


def test_unknown_range_names_the_argument_and_choices():
    with pytest.raises(ValueError, match=r"data\.value_range must be '0_1' or '-1_1', got '0_255'"):
        ValueRange.parse("0_255", "data.value_range")


@pytest.mark.parametrize("member, low", [(ValueRange.ZERO_ONE, 0.0), (ValueRange.MINUS_ONE_ONE, -1.0)])
def test_conversions_round_trip_on_numpy_and_tensors(member, low):
    assert member.bounds == (low, 1.0)
    unit = np.linspace(0.0, 1.0, 5, dtype=np.float32)
    data = member.from_unit(unit)
    assert data.min() == low and data.max() == 1.0
    np.testing.assert_allclose(member.to_unit(data), unit)
    np.testing.assert_allclose(member.to_unit(tf.constant(data)).numpy(), unit)
    assert member.to_uint8(data).tolist() == [0, 64, 128, 191, 255]


def test_to_uint8_clips_and_maps_nan_to_zero():
    pixels = ValueRange.MINUS_ONE_ONE.to_uint8(np.array([-3.0, np.nan, 0.0, 7.0]))
    assert pixels.dtype == np.uint8 and pixels.tolist() == [0, 0, 128, 255]
