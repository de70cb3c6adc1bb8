"""Differentiable augmentation of the discriminator's inputs (DiffAugment)."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from tfface.replicas import global_batch_draw
from tfface.value_range import ValueRange

DIFF_AUGMENTATIONS = ("color", "translation", "cutout")


def parse_policy(policy: str | None) -> tuple[str, ...]:
    """"color,translation" → ("color", "translation"); None or "" → ()."""
    names = tuple(name.strip() for name in (policy or "").split(",") if name.strip())
    unknown = [name for name in names if name not in DIFF_AUGMENTATIONS]
    if unknown:
        raise ValueError(f"unknown DiffAugment policy {unknown[0]!r}; use a comma-separated subset of {DIFF_AUGMENTATIONS}")
    return names


@keras.saving.register_keras_serializable(package="tfface")
class DiffAugment(keras.layers.Layer):
    """DiffAugment: random, differentiable colour, translation and cutout of
    a batch of images, each image with its own draw, in the graph.

    The discriminator of a GAN trained on a few thousand images memorises
    them; showing it every image (real and generated alike, each with a
    fresh draw) through random transforms that gradients pass through
    keeps it from doing so without changing what the generator must
    produce. The ops follow the authors' reference
    (`mit-han-lab/data-efficient-gans`, `DiffAugment_tf.py`), written for
    images in [-1, 1]; here the offsets and fills are scaled to
    `value_range`, so the transform is the same on either range:

    - color: brightness + (u − ½)·(range/2), then saturation
      (x − mean_c)·2u + mean_c, then contrast (x − mean)·(u + ½) + mean,
      u ~ U(0, 1) per image (the reference's `rand_brightness`,
      `rand_color`, `rand_contrast`);
    - translation: a shift by an integer in [−H/8, H/8] (and W/8) per
      image, filling with the range's centre (zero in [−1, 1]);
    - cutout: a square of half the image side at a random centre, set to
      the range's centre.

    Randomness comes from the layer's own `keras.random.SeedGenerator`
    (saved and restored with the model's seed states), so a seeded run
    draws the same transforms. Under `tf.distribute` each image's draw
    depends on its place in the global batch, not on the replica it lands
    on (`tfface.replicas.global_batch_draw`): N devices draw what one does. `training=False` returns the images as
    they are.

    Args:
        policy: str. Comma-separated subset of "color", "translation",
            "cutout". Defaults to "color,translation,cutout".
        value_range: str. "0_1" or "-1_1". Defaults to "0_1".
        seed: int or None. Seed of the draws. Defaults to None.

    Example:

    >>> augment = DiffAugment("translation,cutout", seed=0)
    >>> x = np.ones((2, 16, 16, 3), "float32")
    >>> y = np.asarray(augment(x, training=True))
    >>> y.shape, bool((y < 1).any()), bool(np.all(np.asarray(augment(x)) == x))
    ((2, 16, 16, 3), True, True)

    Reference:
        Zhao et al., "Differentiable Augmentation for Data-Efficient GAN
        Training", NeurIPS 2020.
    """

    def __init__(self, policy: str = "color,translation,cutout", value_range: str = "0_1", seed: int | None = None,
                 **kwargs: Any):  # fmt: skip
        super().__init__(**kwargs)
        self.policy = ",".join(parse_policy(policy))
        self.value_range = ValueRange.parse(value_range).value
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def _uniform(self, x, low=0.0, high=1.0):
        return global_batch_draw(keras.random.uniform, (ops.shape(x)[0], 1, 1, 1), self.seed_generator,
                                 minval=low, maxval=high, dtype="float32")

    def call(self, images, training: bool = False):
        if not training or not self.policy:
            return images
        x = ops.cast(images, "float32")
        low, high = ValueRange.parse(self.value_range).bounds
        centre, half_span = (low + high) / 2.0, (high - low) / 2.0
        for name in self.policy.split(","):
            x = getattr(self, f"_{name}")(x, centre, half_span)
        return ops.cast(x, images.dtype)

    def _color(self, x, centre, half_span):
        x = x + (self._uniform(x) - 0.5) * half_span
        mean = ops.mean(x, axis=3, keepdims=True)
        x = (x - mean) * (self._uniform(x) * 2.0) + mean
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        return (x - mean) * (self._uniform(x) + 0.5) + mean

    def _shift(self, x, axis, centre):
        """Shifts every image along `axis` (1 rows, 2 columns) by its own
        integer in [−size/8, size/8], filling with `centre`."""
        size = x.shape[axis]
        limit = size // 8
        shift = ops.cast(ops.floor(self._uniform(x, -limit, limit + 1)[:, :, 0, 0]), "int32")  # (B, 1)
        source = ops.arange(size, dtype="int32")[None, :] - shift  # the pixel each output pixel takes
        inside = ops.cast((source >= 0) & (source < size), x.dtype)
        gathered = tf.gather(x, ops.clip(source, 0, size - 1), axis=axis, batch_dims=1)
        mask = inside[:, :, None, None] if axis == 1 else inside[:, None, :, None]
        return gathered * mask + centre * (1.0 - mask)

    def _translation(self, x, centre, half_span):
        return self._shift(self._shift(x, 1, centre), 2, centre)

    def _cutout(self, x, centre, half_span):
        height, width = x.shape[1], x.shape[2]
        masks = []
        for size, axis_len in ((height // 2, height), (width // 2, width)):
            # the reference's offset ∈ [0, n + 1 − size % 2), square from offset − size//2
            offset = ops.floor(self._uniform(x, 0, axis_len + 1 - size % 2)[:, :, 0, 0])  # (B, 1)
            start = offset - size // 2
            index = ops.cast(ops.arange(axis_len), "float32")[None, :]
            masks.append(ops.cast((index >= start) & (index < start + size), x.dtype))
        hole = masks[0][:, :, None, None] * masks[1][:, None, :, None]
        return x * (1.0 - hole) + centre * hole

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"policy": self.policy, "value_range": self.value_range, "seed": self.seed})
        return config
