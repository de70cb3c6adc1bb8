"""Reconstruction losses between images and their reconstructions."""

from keras import ops

from tfface.value_range import ValueRange

RECONSTRUCTION_LOSSES = ("mse", "bce")
_EPSILON = 1e-7


def reconstruction_loss(targets, outputs, kind: str = "mse", reduction: str = "sum", value_range: str | ValueRange = ValueRange.ZERO_ONE):
    """Per-example reconstruction loss, reduced over all non-batch axes.

    Args:
        targets: images, shape (batch, H, W, C), in `value_range`.
        outputs: reconstructions of the same shape and range.
        kind: str. "mse" (squared error) or "bce" (binary cross-entropy on
            pixel intensities mapped to [0, 1]). Defaults to "mse".
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
    if kind == "mse":
        per_pixel = ops.square(targets - outputs)
    elif kind == "bce":
        value_range = ValueRange.parse(value_range)
        t = value_range.to_unit(targets)
        p = ops.clip(value_range.to_unit(outputs), _EPSILON, 1.0 - _EPSILON)
        per_pixel = -(t * ops.log(p) + (1.0 - t) * ops.log(1.0 - p))
    else:
        raise ValueError(f"reconstruction loss must be one of {RECONSTRUCTION_LOSSES}, got {kind!r}")
    axes = tuple(range(1, len(per_pixel.shape)))
    if reduction == "sum":
        return ops.sum(per_pixel, axis=axes)
    if reduction == "mean":
        return ops.mean(per_pixel, axis=axes)
    raise ValueError(f"reduction must be 'sum' or 'mean', got {reduction!r}")
