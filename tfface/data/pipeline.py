"""`make_dataset`: source → decode/crop/resize/normalize → shuffle/batch/prefetch."""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np
import tensorflow as tf

from tfface.config import DataConfig
from tfface.data import transforms
from tfface.data.sources import SOURCES, SourceSplit
from tfface.value_range import ValueRange

AUTOTUNE = tf.data.AUTOTUNE


def load_split(config: DataConfig, split: str, image_size: Sequence[int] | None = None) -> SourceSplit:
    """The raw examples of a split from the configured source."""
    size = _size(image_size, config)
    source = SOURCES.get(config.source)(config, split, size)
    if config.face_crop and source.face_counts is None:
        raise ValueError(
            f"data.face_crop: the {config.source!r} source has no image files to detect faces in once and cache; "
            "use data.source='folder' or 'celeba-local'"
        )
    return source


def _size(image_size, config: DataConfig) -> tuple[int, int]:
    size = image_size or config.image_size
    if not size:
        raise ValueError("no image size: set data.image_size or pass image_size")
    return tuple(int(n) for n in size)


def resolve_value_range(config: DataConfig, model_value_range: str | ValueRange) -> ValueRange:
    """The data range: the model's, unless the config names another."""
    model_value_range = ValueRange.parse(model_value_range, "model value_range")
    if config.value_range == "auto":
        return model_value_range
    if ValueRange.parse(config.value_range, "data.value_range") != model_value_range:
        raise ValueError(
            f"data.value_range={config.value_range!r} but the model outputs {model_value_range!r}; "
            "set data.value_range='auto' or match the model"
        )
    return model_value_range


def make_dataset(
    config: DataConfig,
    split: str = "train",
    *,
    batch_size: int = 64,
    image_size: Sequence[int] | None = None,
    value_range: str | ValueRange = ValueRange.ZERO_ONE,
    training: bool | None = None,
    with_attributes: bool = False,
    attribute_names: Sequence[str] | None = None,
    drop_remainder: bool = False,
    source: SourceSplit | None = None,
    start_batch: int | None = None,
    shard: tuple[int, int] | None = None,
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
        attribute_names: list of str or None. With attributes: yield them in
            this order (e.g. CelebA's 40 for report 000's classifiers);
            names the source does not label are NaN, "unknown", which
            `tfface.losses.attribute_bce` and `AttributeAccuracy` leave out.
            None: the source's own vector. Defaults to None.
        drop_remainder: bool. Defaults to False.
        source: SourceSplit or None. Use this instead of loading the split.
        start_batch: int or None. Training only: return an endless stream of
            shuffled passes that starts at this global batch index, so a
            resumed run sees the same batches as an uninterrupted one (the
            caller sets `steps_per_epoch`). None: one pass per iteration.
        shard: (int, int) or None. `(count, index)`: keep only every
            `count`-th example from `index` on (one worker's share in
            multi-worker training), chosen before decoding so each worker
            decodes only its own images; with file sources after the seeded
            permutation, so the shards change with the seed. Defaults to None.

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
    select = _attribute_selection(src, config.source, attribute_names) if with_attributes else None

    def prepare(example):
        image = example["image"]
        if config.center_crop:
            image = transforms.center_crop_to_aspect(image, aspect)
        image = tf.ensure_shape(transforms.quantize(transforms.resize(image, size)), (*size, 3))
        if with_attributes:
            return image, select(tf.cast(example["attributes"], tf.float32))
        return image

    def finish(image, *attributes):
        image = transforms.normalize(tf.cast(image, tf.float32), value_range)
        return (image, *attributes) if attributes else image

    def prepare_and_finish(example):
        prepared = prepare(example)
        return finish(*prepared) if with_attributes else finish(prepared)

    # One map per element where possible: each stage costs per-element overhead.
    per_example = prepare if config.cache else prepare_and_finish
    if src.records is not None:
        records = src.records
        if training:
            # File sources: one seeded permutation of the (cheap) file records before
            # decoding breaks up sorted files (CelebA's names, one folder per person);
            # the shuffle buffer below varies the order from epoch to epoch. A fixed
            # permutation keeps every pass a function of (seed, pass) for resuming.
            records = records.shuffle(max(src.num_examples or 1, 1), seed=config.seed, reshuffle_each_iteration=False)
        ds = src.decoded(_shard(records, shard), then=per_example)
    else:
        ds = _shard(src.dataset, shard).map(per_example, num_parallel_calls=AUTOTUNE, deterministic=True)
    num_examples = _shard_size(src.num_examples, shard)
    if config.cache:
        ds = ds.cache()  # resized uint8 images: 4x smaller than floats
    if training and start_batch is not None:
        start = int(start_batch) * int(batch_size)
        stream = _training_stream(ds, config, num_examples, start)
        if config.cache:
            # `finish` after the skip: skipped cached elements stay uint8, untouched.
            stream = stream.map(finish, num_parallel_calls=AUTOTUNE, deterministic=True)
        stream = _augment(stream, config, with_attributes, skip=start)
        return stream.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)
    if config.cache:
        ds = ds.map(finish, num_parallel_calls=AUTOTUNE, deterministic=True)
    if training:
        ds = ds.shuffle(config.shuffle_buffer, seed=config.seed, reshuffle_each_iteration=True)
        ds = _augment(ds, config, with_attributes)
    return ds.batch(batch_size, drop_remainder=drop_remainder).prefetch(AUTOTUNE)


def first_images(
    config: DataConfig,
    split: str,
    count: int | None,
    *,
    image_size: Sequence[int] | None = None,
    value_range: str | ValueRange = ValueRange.ZERO_ONE,
    source: SourceSplit | None = None,
    batch_size: int = 256,
) -> tf.data.Dataset:
    """The first `count` images of a split (all of them for None), in the
    source's order and prepared as for evaluation: no shuffling, no
    augmentation, no in-memory cache. The fixed inputs of grids, the codes
    samplers are fitted on, the real images of metrics: tfface's one
    "first N images" (`first_image_array` for an array).

    Example:

    >>> from tfface.config import DataConfig
    >>> ds = first_images(DataConfig(num_examples=10, image_size=(8, 8)), "train", 7, batch_size=4)
    >>> [int(batch.shape[0]) for batch in ds]
    [4, 3]
    """
    data = dataclasses.replace(config, cache=False)
    ds = make_dataset(data, split, batch_size=batch_size, image_size=image_size, value_range=value_range,
                      training=False, source=source)  # fmt: skip
    if count is None:
        return ds
    return ds.unbatch().take(count).batch(min(count, batch_size))


def first_image_array(config: DataConfig, split: str, count: int, **kwargs) -> np.ndarray:
    """`first_images` as one float32 array (fewer rows if the split is smaller)."""
    batches = list(first_images(config, split, count, **kwargs).as_numpy_iterator())
    if not batches:
        raise ValueError(f"data.source={config.source!r}: the {split} split has no images")
    return np.concatenate(batches).astype("float32")


def _attribute_selection(src: SourceSplit, source_name: str, names: Sequence[str] | None):
    """attributes → attributes in `names` order, NaN where the source has none."""
    if not src.attribute_names:
        raise ValueError(
            f"data.source={source_name!r} has no attribute labels; attribute training needs "
            "'celeba', 'celeba-local' or 'synthetic'"
        )
    if names is None or tuple(names) == tuple(src.attribute_names):
        return lambda attributes: attributes
    known = list(src.attribute_names)
    if not set(names) & set(known):
        raise ValueError(
            f"data.source={source_name!r} labels none of the {len(names)} requested attributes "
            f"(it has {', '.join(known)})"
        )
    # Index len(known) points at the appended NaN: "not labelled by this source".
    index = tf.constant([known.index(n) if n in known else len(known) for n in names], tf.int32)
    return lambda attributes: tf.gather(tf.concat([attributes, [float("nan")]], 0), index)


_ENDLESS = 2**62


def _shard(ds: tf.data.Dataset, shard: tuple[int, int] | None) -> tf.data.Dataset:
    return ds if shard is None or shard[0] == 1 else ds.shard(*shard)


def _shard_size(num_examples: int | None, shard: tuple[int, int] | None) -> int | None:
    if num_examples is None or shard is None:
        return num_examples
    count, index = shard
    return len(range(index, num_examples, count))


def _training_stream(ds: tf.data.Dataset, config: DataConfig, num_examples: int | None, start: int) -> tf.data.Dataset:
    """The endless stream of shuffled passes over `ds`, from element `start`.

    The order is a pure function of the seeds and the element's position in
    the stream, so a resumed run that starts at element `start` sees exactly
    what an uninterrupted run saw there. Batches run across pass boundaries.
    """
    if config.cache:
        # One long-lived shuffle: pass p's order is the p-th draw of its seeded
        # generator. Skipping cached elements moves no pixels (~1 s per 200k).
        return ds.shuffle(config.shuffle_buffer, seed=config.seed, reshuffle_each_iteration=True).repeat().skip(start)
    # Uncached, skipping would decode every earlier pass again: start at the
    # right pass instead, each pass shuffled with a seed of (seed, pass).
    if not num_examples:
        raise ValueError("resuming an uncached training stream needs a source of known size")
    first_pass, offset = divmod(start, int(num_examples))

    def one_pass(index):
        # A graph-level seed for this function (not the global one): with a
        # global seed of 0, tf.data cannot take a tensor op seed.
        tf.random.set_seed(int(config.seed) % (2**31 - 1) + 1)
        seed = tf.cast(config.seed, tf.int64) * 1_000_003 + index
        return ds.shuffle(config.shuffle_buffer, seed=seed, reshuffle_each_iteration=False)

    return tf.data.Dataset.range(first_pass, _ENDLESS).flat_map(one_pass).skip(offset)


def _augment(ds: tf.data.Dataset, config: DataConfig, with_attributes: bool, skip: int = 0) -> tf.data.Dataset:
    if not config.flip:
        return ds
    flip_seeds = tf.data.Dataset.random(seed=config.seed).skip(2 * skip).batch(2)
    return tf.data.Dataset.zip((ds, flip_seeds)).map(
        lambda element, seed: _flip(element, seed, with_attributes), num_parallel_calls=AUTOTUNE
    )


def _flip(element, seed, with_attributes: bool):
    if with_attributes:
        image, attributes = element
        return transforms.random_flip(image, seed), attributes
    return transforms.random_flip(element, seed)
