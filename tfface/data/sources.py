"""Data sources: where images come from, split by split.

A source is a function `(config: DataConfig, split: str, image_size) →
SourceSplit` registered in `SOURCES`. It yields *raw* examples — a dict with
`"image"` (uint8, (h, w, 3), any size) and, where the data has them,
`"attributes"` (float32 0/1 vector) — and the pipeline does the rest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import cv2
import numpy as np
import tensorflow as tf

from tfface.config import DataConfig
from tfface.data import transforms
from tfface.data.facecrop import face_crops
from tfface.data.files import partition_valid
from tfface.data.scan import ResultCache, decode_check, default_cache_dir, scan_files
from tfface.data.synthetic import SYNTHETIC_ATTRIBUTES, synthetic_faces
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
        skipped: (path, reason) pairs of files found unusable while listing
            (or without a face when the face crop skips those).
        face_counts: {"0", "1", "2+"} → images with that many faces, when
            the face crop is on; else None.
        records: for file sources, the dataset of undecoded records (paths,
            crop boxes, labels) that `load` turns into examples; the
            pipeline shuffles these (cheap) before decoding.
        load: record → example dict, or None.
    """

    dataset: tf.data.Dataset
    num_examples: int | None
    attribute_names: tuple[str, ...] = ()
    skipped: list[tuple[str, str]] = field(default_factory=list)
    face_counts: dict[str, int] | None = None
    records: tf.data.Dataset | None = None
    load: Callable | None = None

    def decoded(self, records: tf.data.Dataset, then: Callable | None = None) -> tf.data.Dataset:
        """Records → examples (→ `then(example)`, in the same map), in
        parallel; a file that still fails to decode is dropped with a logged
        warning instead of ending the epoch."""
        load = self.load if then is None else (lambda record: then(self.load(record)))
        examples = records.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
        return examples.ignore_errors(log_warning=True)


SOURCES: Registry = Registry("data source")


class UnknownSplitError(ValueError):
    """A split name the source does not have; the message lists those it has."""


class EmptySplitError(ValueError):
    """A split the source has but with no usable image in it (a partition file
    listing only training images, a folder too small for the held-out share,
    `data.validation_fraction = 0`). `tfface data inspect` reports it as 0
    with a warning; training goes on without validation.

    Args:
        message: str. What is empty and why.
        key: str. The setting that decides the split's size, e.g.
            "data.validation_fraction". Defaults to "".
        skipped: list of (path, reason). Files found unusable on the way.
    """

    def __init__(self, message: str, key: str = "", skipped: Sequence[tuple[str, str]] = ()):
        super().__init__(message)
        self.key = key
        self.skipped = list(skipped)


def check_split(split: str, available: tuple[str, ...] = SPLITS) -> str:
    """Returns `split`, or raises `UnknownSplitError` naming the available ones."""
    if split not in available:
        raise UnknownSplitError(f"unknown split {split!r}; this source has {', '.join(available)}")
    return split


def image_files_split(
    paths: Sequence[str],
    config: DataConfig,
    image_size: Sequence[int],
    *,
    data_root: str,
    labels: Mapping[str, np.ndarray] | None = None,
    attribute_names: Sequence[str] = (),
    skipped: Sequence[tuple[str, str]] = (),
    what: str = "",
    key: str = "",
) -> SourceSplit:
    """A split made of image files: checks every file (`files.check_image`),
    optionally finds the face crop boxes (`facecrop.face_crops`, cached), and
    returns records of (path, box, labels) decoded lazily by the pipeline
    (JPEGs at the smallest DCT scale that still covers `image_size`).

    Args:
        paths: image file paths, in the split's order.
        config: DataConfig.
        image_size: (height, width) of the output (the crop box takes its aspect).
        data_root: folder beside which the face-crop cache lives by default.
        labels: name → array with one row per path (e.g. "attributes").
        attribute_names: names of the "attributes" entries.
        skipped: (path, reason) already found unusable by the caller.
        what: description of the split for the no-usable-image error.
        key: the setting that decides which files the split holds (named by
            the `EmptySplitError` of a split without usable images).
    """
    labels = {name: np.asarray(values) for name, values in (labels or {}).items()}
    keep, bad = partition_valid(paths)
    skipped = [*skipped, *bad]
    paths = [paths[i] for i in keep]
    labels = {name: values[keep] for name, values in labels.items()}
    face_counts = None
    boxes = None
    if config.verify_decode and not config.face_crop and paths:
        cache = ResultCache(config.crop_cache_dir or default_cache_dir(data_root),
                            f"decoded-opencv-{cv2.__version__}", {"opencv": cv2.__version__})  # fmt: skip
        results, _ = scan_files(paths, cache, decode_check)
        decodable = [i for i, result in enumerate(results) if "error" not in result]
        skipped += [(paths[i], result["error"]) for i, result in enumerate(results) if "error" in result]
        paths = [paths[i] for i in decodable]
        labels = {name: values[decodable] for name, values in labels.items()}
    if config.face_crop and paths:
        crops = face_crops(paths, config, image_size[1] / image_size[0], data_root)
        skipped += crops.skipped
        face_counts = crops.counts
        paths = [paths[i] for i in crops.keep]
        labels = {name: values[crops.keep] for name, values in labels.items()}
        boxes = crops.boxes
    if not paths:
        reasons = sorted({reason for _, reason in skipped})
        detail = f" ({len(skipped)} skipped: {'; '.join(reasons[:3])})" if skipped else ""
        raise EmptySplitError(f"no usable image in {what or data_root}{detail}", key, skipped)
    columns = {"path": np.asarray(paths, dtype=object).astype(str), **labels}
    if boxes is not None:
        columns["box"] = boxes

    def load(record):
        data = tf.io.read_file(record["path"])
        example = {"image": transforms.decode_image(data, min_size=image_size, box=record.get("box"))}
        example.update({k: v for k, v in record.items() if k not in ("path", "box")})
        return example

    records = tf.data.Dataset.from_tensor_slices(columns)
    split = SourceSplit(
        dataset=None,
        num_examples=len(paths),
        attribute_names=tuple(attribute_names),
        skipped=list(skipped),
        face_counts=face_counts,
        records=records,
        load=load,
    )
    split.dataset = split.decoded(records)
    return split


@SOURCES.register("synthetic")
def synthetic_source(config: DataConfig, split: str, image_size) -> SourceSplit:
    """Procedural faces (`tfface.data.synthetic`) with disjoint seeded splits:
    `validation_fraction` of `num_examples` is held out, the test split is
    as large as the validation split."""
    check_split(split)
    n_val = round(config.num_examples * config.validation_fraction)
    if config.validation_fraction > 0:
        n_val = max(1, n_val)
    counts = {"train": config.num_examples - n_val, "validation": n_val, "test": n_val}
    offsets = {"train": 0, "validation": 1_000_003, "test": 2_000_003}
    count = counts[split]
    if count < 1:
        raise EmptySplitError(
            f"data.num_examples={config.num_examples} with validation_fraction="
            f"{config.validation_fraction} leaves no {split} examples",
            "data.num_examples" if split == "train" else "data.validation_fraction",
        )
    ds = synthetic_faces(count, image_size=tuple(image_size), seed=config.seed + offsets[split], as_uint8=True)
    ds = ds.map(lambda image, attributes: {"image": image, "attributes": attributes})
    return SourceSplit(ds, count, tuple(SYNTHETIC_ATTRIBUTES))


def merge_skipped(*splits: SourceSplit | None) -> list[tuple[str, str]]:
    """The skipped (path, reason) pairs of several splits, each file once."""
    seen: dict[str, str] = {}
    for split in splits:
        for path, reason in split.skipped if split is not None else ():
            seen.setdefault(path, reason)
    return sorted(seen.items())


def merge_face_counts(*splits: SourceSplit | None) -> dict[str, int] | None:
    """Summed face-count histograms ({"0", "1", "2+"}), or None without a face crop."""
    counts = [s.face_counts for s in splits if s is not None and s.face_counts is not None]
    if not counts:
        return None
    return {key: sum(c[key] for c in counts) for key in ("0", "1", "2+")}


def skipped_report(skipped: Sequence[tuple[str, str]]) -> str:
    """The text of a run's `skipped_files.txt`: one `path<TAB>reason` line per file."""
    header = f"# {len(skipped)} unusable input file(s): path<TAB>reason\n"
    return header + "".join(f"{path}\t{reason}\n" for path, reason in skipped)


def face_counts_line(counts: Mapping[str, int]) -> str:
    """One log line with the number of images that had 0, 1 and 2+ faces."""
    return f"faces per image: 0: {counts['0']:,}  1: {counts['1']:,}  2+: {counts['2+']:,}"
