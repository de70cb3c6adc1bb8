"""Reconstruction losses between images and their reconstructions."""

import math

from keras import ops

from tfface.registry import RECONSTRUCTION_LOSSES
from tfface.replicas import sum_over_replicas
from tfface.value_range import ValueRange

_EPSILON = 1e-7


@RECONSTRUCTION_LOSSES.register("mse")
def squared_error(targets, outputs, value_range: ValueRange):
    """Per-pixel squared error."""
    return ops.square(targets - outputs)


@RECONSTRUCTION_LOSSES.register("bce")
def binary_cross_entropy(targets, outputs, value_range: ValueRange):
    """Per-pixel binary cross-entropy on intensities mapped to [0, 1]."""
    t = value_range.to_unit(targets)
    p = ops.clip(value_range.to_unit(outputs), _EPSILON, 1.0 - _EPSILON)
    return -(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p))


def reduce_per_example(per_pixel, reduction: str):
    """Sums ("sum") or averages ("mean") over every non-batch axis."""
    axes = tuple(range(1, len(per_pixel.shape)))
    if reduction == "sum":
        return ops.sum(per_pixel, axis=axes)
    if reduction == "mean":
        return ops.mean(per_pixel, axis=axes)
    raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")


def reconstruction_loss(targets, outputs, kind: str = "mse", reduction: str = "sum", value_range: str | ValueRange = ValueRange.ZERO_ONE):
    """Per-example reconstruction loss, reduced over all non-batch axes.

    Args:
        targets: images, shape (batch, H, W, C), in `value_range`.
        outputs: reconstructions of the same shape and range.
        kind: str. A registered loss (`RECONSTRUCTION_LOSSES`): "mse"
            (squared error) or "bce" (binary cross-entropy on pixel
            intensities mapped to [0, 1]). Defaults to "mse".
        reduction: str. "sum" over pixels and channels (the VAE likelihood
            convention) or "mean" (Keras' `mse`). Defaults to "sum".
        value_range: str. "0_1" or "-1_1"; BCE maps [-1, 1] to [0, 1].

    Returns:
        A float32 tensor of shape (batch,).

    Example:

    >>> x = np.zeros((2, 4, 4, 3)); y = np.full((2, 4, 4, 3), 0.5)
    >>> [round(float(v), 3) for v in reconstruction_loss(x, y)]
    [12.0, 12.0]
    """
    targets = ops.cast(targets, "float32")
    outputs = ops.cast(outputs, "float32")
    try:
        per_pixel_loss = RECONSTRUCTION_LOSSES.get(kind)
    except KeyError as error:
        raise ValueError(error.args[0]) from None
    return reduce_per_example(per_pixel_loss(targets, outputs, ValueRange.parse(value_range)), reduction)


def gaussian_nll(targets, outputs, log_sigma, reduction: str = "sum"):
    """Per-example negative log-likelihood of `targets` under a Gaussian
    decoder N(outputs, σ²) with log σ shared by all pixels (a scalar) or per
    channel (shape (C,)): the σ-VAE reconstruction term

        NLL = Σ_pixels [log σ + ½ log 2π + (x − x̂)² / (2σ²)]

    Args:
        targets: images (batch, H, W, C).
        outputs: decoder means of the same shape.
        log_sigma: scalar or (C,) tensor: log σ.
        reduction: str. "sum" over pixels and channels (the likelihood) or
            "mean". Defaults to "sum".

    Returns:
        A float32 tensor of shape (batch,).

    Example:

    >>> x = np.zeros((1, 2, 2, 1)); y = np.ones((1, 2, 2, 1))
    >>> round(float(gaussian_nll(x, y, 0.0)[0]), 4)  # 4 · (½ log 2π + ½)
    5.6758
    """
    targets = ops.cast(targets, "float32")
    outputs = ops.cast(outputs, "float32")
    log_sigma = ops.cast(log_sigma, "float32")
    per_pixel = log_sigma + 0.5 * math.log(2.0 * math.pi) + 0.5 * ops.square(targets - outputs) * ops.exp(-2.0 * log_sigma)
    return reduce_per_example(per_pixel, reduction)


def optimal_log_sigma(targets, outputs, per_channel: bool = False):
    """log σ* with σ*² the mean squared error over the batch (and pixels):
    the σ minimising the batch's `gaussian_nll` (Rybkin et al. 2021's
    analytic σ-VAE). `per_channel` gives one σ per channel, shape (C,).

    Under a `tf.distribute` strategy the batch is the global batch: the
    replicas' sums of squared errors and pixel counts are all-reduced
    first, so N replicas use the σ one device would. It is a constant (no
    gradient flows through it): at σ* the NLL's derivative in σ is 0.

    Example:

    >>> x = np.zeros((2, 2, 2, 1)); y = np.full((2, 2, 2, 1), 0.1)
    >>> round(float(np.exp(optimal_log_sigma(x, y))), 4)
    0.1
    """
    error = ops.square(ops.cast(targets, "float32") - ops.cast(outputs, "float32"))
    axes = tuple(range(len(error.shape) - 1)) if per_channel else None
    squared = sum_over_replicas(ops.sum(error, axis=axes))
    count = sum_over_replicas(ops.cast(ops.size(error), "float32") / ops.cast(ops.size(squared), "float32"))
    return 0.5 * ops.log(squared / count + 1e-12)
