"""Data sources: where images come from, split by split.

A source is a function `(config: DataConfig, split: str, image_size) →
SourceSplit` registered in `SOURCES`. It yields *raw* examples — a dict with
`"image"` (uint8, (h, w, 3), any size) and, where the data has them,
`"attributes"` (float32 0/1 vector) — and the pipeline does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import tensorflow as tf

from tfface.config import DataConfig
from tfface.registry import Registry

SPLITS = ("train", "validation", "test")


@dataclass
class SourceSplit:
    """One split of a source.

    Attributes:
        dataset: `tf.data.Dataset` of dicts {"image": uint8 (h, w, 3),
            optionally "attributes": float32 (k,)}.
        num_examples: int or None when unknown.
        attribute_names: names of the attribute vector's entries.
        skipped: (path, reason) pairs of files found unusable while listing.
    """

    dataset: tf.data.Dataset
    num_examples: int | None
    attribute_names: tuple[str, ...] = ()
    skipped: list[tuple[str, str]] = field(default_factory=list)


SOURCES: Registry = Registry("data source")


def check_split(split: str, available: tuple[str, ...] = SPLITS) -> str:
    if split not in available:
        raise ValueError(f"unknown split {split!r}; this source has {', '.join(available)}")
    return split


@SOURCES.register("synthetic")
def synthetic_source(config: DataConfig, split: str, image_size) -> SourceSplit:
    """Procedural faces (`tfface.data.synthetic`) with disjoint seeded splits:
    `validation_fraction` of `num_examples` is held out, the test split is
    as large as the validation split."""
    from tfface.data.synthetic import SYNTHETIC_ATTRIBUTES, synthetic_faces

    check_split(split)
    n_val = round(config.num_examples * config.validation_fraction)
    if config.validation_fraction > 0:
        n_val = max(1, n_val)
    counts = {"train": config.num_examples - n_val, "validation": n_val, "test": n_val}
    offsets = {"train": 0, "validation": 1_000_003, "test": 2_000_003}
    count = counts[split]
    if count < 1:
        raise ValueError(
            f"data.num_examples={config.num_examples} with validation_fraction="
            f"{config.validation_fraction} leaves no {split} examples"
        )
    ds = synthetic_faces(count, image_size=tuple(image_size), seed=config.seed + offsets[split], as_uint8=True)
    ds = ds.map(lambda image, attributes: {"image": image, "attributes": attributes})
    return SourceSplit(ds, count, tuple(SYNTHETIC_ATTRIBUTES))
