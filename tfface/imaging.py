"""Image grids and PNG files: value-range conversion (`ValueRange.to_uint8`), tiling, saving."""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from tfface.io import atomic_write_bytes
from tfface.value_range import ValueRange


def tile(images: np.ndarray, rows: int, cols: int, pad: int = 2, pad_value: int = 255) -> np.ndarray:
    """Tiles (N, H, W, C) uint8 images into one (rows·H + pad·(rows+1), …) image.

    Missing cells (N < rows·cols) are left as padding colour.

    Example:

    >>> tile(np.zeros((4, 8, 8, 3), np.uint8), 2, 2, pad=1).shape
    (19, 19, 3)
    """
    images = np.asarray(images)
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (N, H, W, C), got {images.shape}")
    n, h, w, c = images.shape
    if n > rows * cols:
        raise ValueError(f"{n} images do not fit a {rows}x{cols} grid")
    canvas = np.full((rows * h + pad * (rows + 1), cols * w + pad * (cols + 1), c), pad_value, images.dtype)
    for index in range(n):
        r, col = divmod(index, cols)
        top, left = pad + r * (h + pad), pad + col * (w + pad)
        canvas[top : top + h, left : left + w] = images[index]
    return canvas


def save_png(path: str | os.PathLike, image: np.ndarray) -> str:
    """Writes a uint8 (H, W, 3|1) image as PNG, atomically."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        raise ValueError(f"save_png expects uint8 pixels, got {image.dtype}")
    atomic_write_bytes(path, tf.io.encode_png(image).numpy())
    return os.fspath(path)


def save_grid(path, images, value_range: str | ValueRange = ValueRange.ZERO_ONE, rows: int | None = None, cols: int | None = None, pad: int = 2) -> str:
    """Converts float images to uint8, tiles them and saves a PNG."""
    pixels = ValueRange.parse(value_range).to_uint8(images)
    n = len(pixels)
    if rows is None and cols is None:
        cols = int(np.ceil(np.sqrt(n)))
    if cols is None:
        cols = int(np.ceil(n / rows))
    if rows is None:
        rows = int(np.ceil(n / cols))
    return save_png(path, tile(pixels, rows, cols, pad=pad))
