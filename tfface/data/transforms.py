"""Per-example transforms on uint8/float images (graph-friendly, tf.image)."""

from __future__ import annotations

import tensorflow as tf


def center_crop_to_aspect(image, aspect: float):
    """Crops the largest centred box with width/height = `aspect`."""
    shape = tf.shape(image)
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    crop_h = tf.minimum(h, w / aspect)
    crop_w = tf.minimum(w, h * aspect)
    top = tf.cast((h - crop_h) / 2.0, tf.int32)
    left = tf.cast((w - crop_w) / 2.0, tf.int32)
    return tf.image.crop_to_bounding_box(image, top, left, tf.cast(crop_h, tf.int32), tf.cast(crop_w, tf.int32))


def resize(image, image_size):
    """Resizes to (height, width) with antialiasing → float32 in [0, 255]."""
    image = tf.cast(image, tf.float32)
    return tf.image.resize(image, tuple(image_size), method="bilinear", antialias=True)


def to_uint8(image):
    """Float pixels in [0, 255] → uint8 (rounded, saturated)."""
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)


def normalize(image, value_range: str):
    """[0, 255] floats → [0, 1] ("0_1") or [-1, 1] ("-1_1")."""
    image = tf.clip_by_value(image / 255.0, 0.0, 1.0)
    if value_range == "-1_1":
        return image * 2.0 - 1.0
    if value_range != "0_1":
        raise ValueError(f"value_range must be '0_1' or '-1_1', got {value_range!r}")
    return image


def random_flip(image, seed):
    """Horizontal flip with probability 1/2 (stateless, reproducible by seed)."""
    return tf.image.stateless_random_flip_left_right(image, seed)


def decode_image(data):
    """Encoded JPEG/PNG/BMP/GIF bytes → uint8 (h, w, 3): greyscale becomes
    RGB, alpha is dropped, an animated GIF gives its first frame."""
    image = tf.io.decode_image(data, channels=3, expand_animations=False)
    return tf.ensure_shape(image, (None, None, 3))


def crop_to_box(image, box):
    """Crops to `box` = (top, left, height, width), clipped to the image (so a
    box computed on another decoder's output can never fail)."""
    shape = tf.shape(image)
    box = tf.cast(box, tf.int32)
    top = tf.clip_by_value(box[0], 0, shape[0] - 1)
    left = tf.clip_by_value(box[1], 0, shape[1] - 1)
    height = tf.clip_by_value(box[2], 1, shape[0] - top)
    width = tf.clip_by_value(box[3], 1, shape[1] - left)
    return image[top : top + height, left : left + width]
