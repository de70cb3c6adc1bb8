"""Resizing: the cheapest filter that gives the anti-aliased result."""

import numpy as np
import pytest
import tensorflow as tf

from tfface.data import transforms


def noisy_image(height, width):
    return tf.constant(np.random.default_rng(0).integers(0, 256, (height, width, 3)), tf.uint8)


@pytest.mark.parametrize(
    "source, target, method, antialias",
    [
        ((218, 178), (64, 64), "area", False),  # shrinking both axes: box filter
        ((218, 178), (256, 256), "bilinear", True),  # enlarging: no filter needed, same pixels
        ((218, 178), (112, 200), "bilinear", True),  # mixed: the shrinking axis needs the filter
    ],
)
def test_resize_matches_the_antialiased_filter_for_its_direction(source, target, method, antialias):
    image = noisy_image(*source)
    resized = transforms.resize(image, target).numpy()
    assert resized.shape == (*target, 3)
    expected = tf.image.resize(tf.cast(image, tf.float32), target, method=method, antialias=antialias).numpy()
    np.testing.assert_allclose(resized, expected, atol=0.05)
