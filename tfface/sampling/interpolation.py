"""Interpolation between two faces or two codes, and traversal of single
latent dimensions (report 001's interpolation figures)."""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np

from tfface.imaging import save_grid
from tfface.registry import Registry
from tfface.sampling.latents import decode, to_numpy

INTERPOLATIONS: Registry = Registry("interpolation")


@INTERPOLATIONS.register("linear")
def lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """(1 − t)·a + t·b for each t; a, b (d,), t (steps,) → (steps, d)."""
    return (1.0 - t)[:, None] * a[None] + t[:, None] * b[None]


@INTERPOLATIONS.register("slerp")
def slerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical interpolation: along the great circle between a and b,
    with the norm interpolated linearly; linear when a ∥ b.

    Under a Gaussian prior most mass lies near a sphere of radius √d, and
    the straight line between two codes cuts through the low-density
    centre; the arc stays on the shell.
    """
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return lerp(a, b, t)
    cos = np.clip(np.dot(a, b) / (norm_a * norm_b), -1.0, 1.0)
    omega = np.arccos(cos)
    if np.sin(omega) < 1e-6:
        return lerp(a, b, t)
    # sin((1−t)Ω)/sin Ω · â + sin(tΩ)/sin Ω · b̂, scaled by the lerped norm
    unit = (np.sin((1.0 - t) * omega)[:, None] * (a / norm_a) + np.sin(t * omega)[:, None] * (b / norm_b)) / np.sin(omega)
    return unit * ((1.0 - t) * norm_a + t * norm_b)[:, None]


def interpolate(a, b, steps: int = 8, method: str = "slerp") -> np.ndarray:
    """Codes from `a` to `b` (both ends included).

    Args:
        a, b: arrays (d,) or (pairs, d).
        steps: int. Codes per path, at least 2. Defaults to 8.
        method: str. "linear" or "slerp". Defaults to "slerp".

    Returns:
        (steps, d), or (pairs, steps, d) for batched ends.

    Example:

    >>> interpolate(np.array([1.0, 0.0]), np.array([0.0, 1.0]), steps=3, method="slerp").astype(float).round(3).tolist()
    [[1.0, 0.0], [0.707, 0.707], [0.0, 1.0]]
    """
    if int(steps) < 2:
        raise ValueError(f"steps must be >= 2, got {steps}")
    path = INTERPOLATIONS.get(method)
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.shape != b.shape:
        raise ValueError(f"interpolation ends differ in shape: {a.shape} vs {b.shape}")
    t = np.linspace(0.0, 1.0, int(steps))
    if a.ndim == 1:
        return path(a, b, t).astype(np.float32)
    return np.stack([path(x, y, t) for x, y in zip(a, b)]).astype(np.float32)


def _as_codes(model, ends) -> tuple[np.ndarray, np.ndarray | None]:
    """Codes (pairs, d) of images or codes, and the images when given images."""
    ends = np.asarray(ends, dtype=np.float32)
    image_shape = tuple(model.image_shape)
    if ends.shape[-3:] == image_shape:
        images = ends.reshape(-1, *image_shape)
        return to_numpy(model.encode(images, training=False)), images
    if ends.shape[-1] == model.latent_dim:
        return ends.reshape(-1, model.latent_dim), None
    raise ValueError(
        f"interpolation ends must be images {image_shape} or codes of size {model.latent_dim}, got shape {ends.shape}"
    )


def interpolation_strip(
    model,
    start,
    end,
    steps: int = 8,
    method: str = "slerp",
    path: str | os.PathLike | None = None,
) -> np.ndarray:
    """Decodes the interpolation between two faces or two codes, one row per pair.

    When `start`/`end` are images, they are encoded (posterior means) and
    shown as originals at both ends of each row.

    Args:
        model: a trained `LatentAutoencoder`.
        start, end: images (H, W, C) / (pairs, H, W, C) in the model's range,
            or codes (d,) / (pairs, d).
        steps: int. Decoded codes per row, ends included. Defaults to 8.
        method: str. "linear" or "slerp". Defaults to "slerp".
        path: str or None. Save the strip as a PNG here.

    Returns:
        The images (pairs · columns, H, W, C), row-major, in the model's range.
    """
    a, originals_a = _as_codes(model, start)
    b, originals_b = _as_codes(model, end)
    if a.shape != b.shape:
        raise ValueError(f"start and end give {len(a)} and {len(b)} codes; pass the same number")
    codes = interpolate(a, b, steps, method)
    decoded = decode(model, codes.reshape(-1, model.latent_dim)).reshape(len(a), steps, *model.image_shape)
    if originals_a is not None and originals_b is not None:
        decoded = np.concatenate([originals_a[:, None], decoded, originals_b[:, None]], axis=1)
    rows, cols = decoded.shape[:2]
    images = decoded.reshape(rows * cols, *model.image_shape)
    if path is not None:
        save_grid(path, images, model.value_range, rows=rows, cols=cols)
    return images


def traverse(z, dims: Sequence[int], values) -> np.ndarray:
    """Copies of `z` (d,) with one dimension set to each value: (len(dims), len(values), d)."""
    z = np.asarray(z, np.float32)
    values = np.asarray(values, np.float32)
    out = np.repeat(np.repeat(z[None, None], len(dims), axis=0), len(values), axis=1)
    for row, dim in enumerate(dims):
        if not 0 <= int(dim) < z.shape[-1]:
            raise ValueError(f"latent dimension {dim} out of range 0..{z.shape[-1] - 1}")
        out[row, :, int(dim)] = values
    return out


def traversal_grid(
    model,
    z=None,
    dims: Sequence[int] | None = None,
    span: float = 3.0,
    steps: int = 7,
    scale=None,
    path: str | os.PathLike | None = None,
) -> np.ndarray:
    """Decodes `z` with each of `dims` swept over z_d + linspace(−span, span)·scale_d.

    Args:
        model: a trained `LatentAutoencoder`.
        z: array (d,) or None. The base code; the origin (the prior's mode)
            when None.
        dims: list of int or None. Dimensions to sweep, one row each;
            the first min(d, 8) when None.
        span: float. Offsets in units of `scale`. Defaults to 3.0.
        steps: int. Columns. Defaults to 7.
        scale: float, array (d,) or None. Per-dimension unit, e.g. the codes'
            standard deviation for autoencoders; 1 when None.
        path: str or None. Save the grid as a PNG here.

    Returns:
        The images (len(dims) · steps, H, W, C), row-major.
    """
    d = model.latent_dim
    z = np.zeros(d, np.float32) if z is None else np.asarray(z, np.float32).reshape(d)
    dims = list(range(min(d, 8))) if dims is None else [int(i) for i in dims]
    scale = np.broadcast_to(np.asarray(1.0 if scale is None else scale, np.float32), (d,))
    offsets = np.linspace(-span, span, int(steps), dtype=np.float32)
    rows = []
    for dim in dims:
        rows.append(traverse(z, [dim], z[dim] + offsets * scale[dim])[0])
    images = decode(model, np.concatenate(rows))
    if path is not None:
        save_grid(path, images, model.value_range, rows=len(dims), cols=int(steps))
    return images
