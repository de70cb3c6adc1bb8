"""Small image files for the data tests: good ones in every format, and the
bad kinds a real folder contains (empty, truncated, not an image)."""

from __future__ import annotations

import io
import os

import numpy as np
import tensorflow as tf
from PIL import Image


def pattern(seed: int, shape=(48, 40, 3)) -> np.ndarray:
    """A smooth, recognisable uint8 picture (gradients + a seed-dependent block)."""
    h, w = shape[:2]
    y, x = np.mgrid[0:h, 0:w]
    image = np.stack([x * 255 // max(w - 1, 1), y * 255 // max(h - 1, 1), np.full((h, w), (seed * 37) % 256)], -1)
    image[h // 4 : h // 2, w // 4 : w // 2] = (seed * 91) % 256
    return image.astype(np.uint8)


def jpeg_bytes(image: np.ndarray, quality: int = 95) -> bytes:
    return tf.io.encode_jpeg(image, quality=quality).numpy()


def write(path, data: bytes) -> str:
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    return str(path)


def write_jpeg(path, image: np.ndarray) -> str:
    return write(path, jpeg_bytes(image))


def pil_bytes(image: np.ndarray, fmt: str, mode: str | None = None) -> bytes:
    picture = Image.fromarray(image)
    if mode:
        picture = picture.convert(mode)
    buffer = io.BytesIO()
    picture.save(buffer, format=fmt)
    return buffer.getvalue()


def write_bad_files(folder) -> dict[str, str]:
    """Writes one file of each bad kind; returns name → expected reason fragment."""
    good = jpeg_bytes(pattern(99))
    bad = {
        "empty.jpg": (b"", "empty"),
        "notes.txt": (b"hello", "not an image file"),
        "page.jpg": (b"<html>quota exceeded</html>", "not an image"),
        "cut.jpg": (good[: len(good) // 2], "truncated"),
        "cut.png": (pil_bytes(pattern(5), "PNG")[:-20], "truncated"),
        "scrambled.jpg": (good[:20] + b"x" * 300 + good[320:], "corrupt"),
    }
    for name, (data, _) in bad.items():
        write(os.path.join(str(folder), name), data)
    return {name: reason for name, (_, reason) in bad.items()}


def write_face_photos(folder, count: int, size: int = 256) -> list[str]:
    """`count` JPEG photos `photo_NN.jpg` of one face (skimage's astronaut at
    `size`x`size`, shifted sideways by size/64 more pixels each) in which the
    Haar cascade finds exactly one face at the default settings."""
    import cv2
    import skimage.data

    face = cv2.resize(skimage.data.astronaut(), (size, size), interpolation=cv2.INTER_AREA)
    return [write_jpeg(os.path.join(str(folder), f"photo_{i:02d}.jpg"), np.roll(face, i * size // 64, axis=1)) for i in range(count)]
