"""`make_dataset`: source → decode/crop/resize/normalize → shuffle/batch/prefetch."""

from __future__ import annotations

from typing import Sequence

import tensorflow as tf

from tfface.config import DataConfig
from tfface.data import transforms
from tfface.data.sources import SOURCES, SourceSplit

AUTOTUNE = tf.data.AUTOTUNE


def load_split(config: DataConfig, split: str, image_size: Sequence[int] | None = None) -> SourceSplit:
    """The raw examples of a split from the configured source."""
    size = _size(image_size, config)
    return SOURCES.get(config.source)(config, split, size)


def _size(image_size, config: DataConfig) -> tuple[int, int]:
    size = image_size or config.image_size
    if not size:
        raise ValueError("no image size: set data.image_size or pass image_size")
    return tuple(int(n) for n in size)


def resolve_value_range(config: DataConfig, model_value_range: str) -> str:
    """The data range: the model's, unless the config names another."""
    if config.value_range == "auto":
        return model_value_range
    if config.value_range != model_value_range:
        raise ValueError(
            f"data.value_range={config.value_range!r} but the model outputs {model_value_range!r}; "
            "set data.value_range='auto' or match the model"
        )
    return config.value_range


def make_dataset(
    config: DataConfig,
    split: str = "train",
    *,
    batch_size: int = 64,
    image_size: Sequence[int] | None = None,
    value_range: str = "0_1",
    training: bool | None = None,
    with_attributes: bool = False,
    drop_remainder: bool = False,
    source: SourceSplit | None = None,
) -> tf.data.Dataset:
    """A batched, prefetched dataset of images (or (images, attributes)).

    Args:
        config: `DataConfig`.
        split: str. "train", "validation" or "test". Defaults to "train".
        batch_size: int. Defaults to 64.
        image_size: (int, int) or None. Overrides `config.image_size`.
        value_range: str. "0_1" or "-1_1". Defaults to "0_1".
        training: bool or None. Shuffle and augment; defaults to
            `split == "train"`.
        with_attributes: bool. Yield (images, attributes). Defaults to False.
        drop_remainder: bool. Defaults to False.
        source: SourceSplit or None. Use this instead of loading the split.

    Example:

    >>> from tfface.config import DataConfig
    >>> ds = make_dataset(DataConfig(num_examples=16), batch_size=4, image_size=(32, 32))
    >>> tuple(next(iter(ds)).shape)
    (4, 32, 32, 3)
    """
    size = _size(image_size, config)
    training = split == "train" if training is None else training
    src = source or load_split(config, split, size)
    aspect = size[1] / size[0]

    def prepare(example):
        image = example["image"]
        if config.center_crop:
            image = transforms.center_crop_to_aspect(image, aspect)
        image = transforms.normalize(transforms.resize(image, size), value_range)
        image = tf.ensure_shape(image, (*size, 3))
        if with_attributes:
            return image, tf.cast(example["attributes"], tf.float32)
        return image

    ds = src.dataset.map(prepare, num_parallel_calls=AUTOTUNE, deterministic=True)
    if config.cache:
        ds = ds.cache()
    if training:
        ds = ds.shuffle(config.shuffle_buffer, seed=config.seed, reshuffle_each_iteration=True)
        if config.flip:
            flip_seeds = tf.data.Dataset.random(seed=config.seed).batch(2)
            ds = tf.data.Dataset.zip((ds, flip_seeds)).map(
                lambda element, seed: _flip(element, seed, with_attributes), num_parallel_calls=AUTOTUNE
            )
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def _flip(element, seed, with_attributes: bool):
    if with_attributes:
        image, attributes = element
        return transforms.random_flip(image, seed), attributes
    return transforms.random_flip(element, seed)
