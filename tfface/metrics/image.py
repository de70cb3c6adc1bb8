"""Per-image reconstruction metrics, always measured on the [0, 1] scale.

Images in [-1, 1] are mapped to [0, 1] first, so PSNR = 10·log10(1 / MSE)
means the same thing for every preset. (Report 004 applied that formula to
MSE measured on [-1, 1], which understates PSNR by 10·log10(4) ≈ 6.02 dB.)
"""

from __future__ import annotations

import tensorflow as tf


def _unit(images, value_range: str):
    images = tf.cast(images, tf.float32)
    if value_range == "-1_1":
        return (images + 1.0) / 2.0
    if value_range != "0_1":
        raise ValueError(f"value_range must be '0_1' or '-1_1', got {value_range!r}")
    return images


def mse(images, reconstructions, value_range: str = "0_1"):
    """Per-image mean squared error on the [0, 1] scale, shape (batch,).

    Example:

    >>> float(mse(np.zeros((1, 2, 2, 3)), np.full((1, 2, 2, 3), 0.5))[0])
    0.25
    """
    a, b = _unit(images, value_range), _unit(reconstructions, value_range)
    return tf.reduce_mean(tf.square(a - b), axis=[1, 2, 3])


def psnr(images, reconstructions, value_range: str = "0_1"):
    """Per-image PSNR in dB on the [0, 1] scale (`tf.image.psnr`, max_val=1).

    Example:

    >>> round(float(psnr(np.zeros((1, 2, 2, 3)), np.full((1, 2, 2, 3), 0.1))[0]), 2)
    20.0
    """
    a = tf.clip_by_value(_unit(images, value_range), 0.0, 1.0)
    b = tf.clip_by_value(_unit(reconstructions, value_range), 0.0, 1.0)
    return tf.image.psnr(a, b, max_val=1.0)


def ssim(images, reconstructions, value_range: str = "0_1"):
    """Per-image SSIM on the [0, 1] scale (`tf.image.ssim`, default window 11)."""
    a = tf.clip_by_value(_unit(images, value_range), 0.0, 1.0)
    b = tf.clip_by_value(_unit(reconstructions, value_range), 0.0, 1.0)
    return tf.image.ssim(a, b, max_val=1.0)
