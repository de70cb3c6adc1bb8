"""Per-image reconstruction metrics, measured on the [0, 1] scale by default.

Images in [-1, 1] are mapped to [0, 1] first, so PSNR = 10·log10(1 / MSE)
means the same thing for every preset.

Report 004 applied that formula to the MSE of [-1, 1] data. Its
convention is available as `scale="data"` (MSE on the data's own range,
PSNR = 10·log10(1 / MSE)) to reproduce its Table 2; for [-1, 1] data the
MSE is 4× larger and the PSNR 10·log10(4) ≈ 6.02 dB lower than on [0, 1].
"""

from __future__ import annotations

import tensorflow as tf

from tfface.value_range import ValueRange
SCALES = ("unit", "data")


def to_unit(images, value_range: str | ValueRange):
    """Float images in `value_range` ("0_1" or "-1_1") mapped to [0, 1], float32."""
    return ValueRange.parse(value_range).to_unit(tf.cast(images, tf.float32))


def _scaled(images, value_range: str, scale: str):
    if scale not in SCALES:
        raise ValueError(f"scale must be 'unit' ([0, 1]) or 'data' (the data's own range), got {scale!r}")
    unit = to_unit(images, value_range)
    return unit if scale == "unit" else tf.cast(images, tf.float32)


def mse(images, reconstructions, value_range: str | ValueRange = ValueRange.ZERO_ONE, scale: str = "unit"):
    """Per-image mean squared error, shape (batch,).

    Args:
        images, reconstructions: float (batch, H, W, C) in `value_range`.
        value_range: str. "0_1" or "-1_1". Defaults to "0_1".
        scale: str. "unit" measures on [0, 1]; "data" on `value_range`
            itself (report 004's convention). Defaults to "unit".

    Example:

    >>> float(mse(np.zeros((1, 2, 2, 3)), np.full((1, 2, 2, 3), 0.5))[0])
    0.25
    >>> float(mse(np.zeros((1, 2, 2, 3)), np.full((1, 2, 2, 3), 0.5), "-1_1", scale="data")[0])
    0.25
    >>> float(mse(np.zeros((1, 2, 2, 3)), np.full((1, 2, 2, 3), 0.5), "-1_1")[0])
    0.0625
    """
    a, b = _scaled(images, value_range, scale), _scaled(reconstructions, value_range, scale)
    return tf.reduce_mean(tf.square(a - b), axis=[1, 2, 3])


def psnr(images, reconstructions, value_range: str | ValueRange = ValueRange.ZERO_ONE, scale: str = "unit"):
    """Per-image PSNR in dB.

    `scale="unit"`: `tf.image.psnr` with max_val=1 on [0, 1] (clipped).
    `scale="data"`: 10·log10(1 / MSE) with the MSE on `value_range`
    (report 004's formula; 6.02 dB below "unit" for [-1, 1] data).

    Example:

    >>> round(float(psnr(np.zeros((1, 2, 2, 3)), np.full((1, 2, 2, 3), 0.1))[0]), 2)
    20.0
    """
    if scale == "data":
        return psnr_from_mse(mse(images, reconstructions, value_range, scale="data"))
    a = tf.clip_by_value(_scaled(images, value_range, scale), 0.0, 1.0)
    b = tf.clip_by_value(_scaled(reconstructions, value_range, scale), 0.0, 1.0)
    return tf.image.psnr(a, b, max_val=1.0)


def psnr_from_mse(value):
    """10·log10(1 / MSE): e.g. the PSNR of a dataset's mean MSE, as report 004 tabulates."""
    value = tf.cast(value, tf.float32)
    return 10.0 * tf.math.log(1.0 / value) / tf.math.log(10.0)


def ssim(images, reconstructions, value_range: str | ValueRange = ValueRange.ZERO_ONE):
    """Per-image SSIM on the [0, 1] scale (`tf.image.ssim`, 11×11 Gaussian
    window, σ 1.5, k1 0.01, k2 0.03)."""
    a = tf.clip_by_value(to_unit(images, value_range), 0.0, 1.0)
    b = tf.clip_by_value(to_unit(reconstructions, value_range), 0.0, 1.0)
    return tf.image.ssim(a, b, max_val=1.0)
