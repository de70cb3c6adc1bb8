"""The "folder" source: any folder of images (FFHQ, anime faces, photos).

Files are found recursively and sorted by relative path, so splits are
reproducible: `data.validation_count = N` takes the first N files (report
004's "first 1,000 images for validation"), otherwise a seeded random
`data.validation_fraction` (`data.split_seed`) is held out. Files whose
extension is not an image's are listed as skipped; hidden files and folders
(such as the crop cache `.tfface_cache`) are ignored.
"""

from __future__ import annotations

import os

import numpy as np

from tfface.config import DataConfig
from tfface.data.files import IMAGE_EXTENSIONS, list_files
from tfface.data.sources import SOURCES, SourceSplit, check_split, image_files_split

FOLDER_SPLITS = ("train", "validation")


def require_folder(config: DataConfig, source: str) -> str:
    """`config.path` as an existing folder, or an error naming the key."""
    if not config.path:
        raise ValueError(f"data.path: the {source!r} source needs data.path=FOLDER")
    path = os.path.expanduser(config.path)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"data.path: no such folder: {path}")
    return path


def validation_indices(count: int, config: DataConfig) -> np.ndarray:
    """Sorted indices (of `count` sorted files) in the validation split."""
    if config.validation_count is not None:
        return np.arange(min(config.validation_count, count))
    held_out = int(round(count * config.validation_fraction))
    order = np.random.default_rng(config.split_seed).permutation(count)
    return np.sort(order[:held_out])


@SOURCES.register("folder")
def folder_source(config: DataConfig, split: str, image_size) -> SourceSplit:
    """Images of a folder tree, split into train and validation."""
    check_split(split, FOLDER_SPLITS)
    root = require_folder(config, "folder")
    names = list_files(root)
    images = [name for name in names if name.lower().endswith(IMAGE_EXTENSIONS)]
    others = [
        (os.path.join(root, name), f"not an image file ({os.path.splitext(name)[1] or 'no extension'})")
        for name in names
        if not name.lower().endswith(IMAGE_EXTENSIONS)
    ]
    if not images:
        detail = f"; found {len(names)} other files" if names else ""
        raise ValueError(f"no usable image in {root}: no {'/'.join(IMAGE_EXTENSIONS)} files{detail}")
    validation = np.zeros(len(images), bool)
    validation[validation_indices(len(images), config)] = True
    chosen = validation if split == "validation" else ~validation
    paths = [os.path.join(root, name) for name, pick in zip(images, chosen) if pick]
    if config.validation_count is not None:
        key, setting = "data.validation_count", config.validation_count
    else:
        key, setting = "data.validation_fraction", config.validation_fraction
    held_out = f"{key}={setting} of {len(images)} image(s)"
    return image_files_split(
        paths, config, image_size, data_root=root, skipped=others, key=key,
        what=f"the {split} split of {root} ({held_out} held out for validation: {int(validation.sum())})",
    )  # fmt: skip
