"""`inspect_data`: check a dataset before a long run (`tfface data inspect`)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any, Sequence

from tfface.config import DataConfig
from tfface.data.pipeline import load_split, make_dataset
from tfface.data.sources import SPLITS, EmptySplitError, UnknownSplitError, merge_face_counts, merge_skipped
from tfface.imaging import save_grid

#: What an empty split means for the commands that read it.
EMPTY_SPLIT_EFFECT = {
    "train": "`tfface train` cannot train on this data",
    "validation": "`tfface train` trains without validation",
    "test": "`tfface evaluate --split test` has nothing to read",
}


def inspect_data(config: DataConfig, image_size: Sequence[int] = (64, 64), out: str | None = None,
                 preview: int = 25) -> dict[str, Any]:  # fmt: skip
    """Lists every split of the configured source and summarises it. A split
    without usable images is counted as 0 with a warning, never an error:
    inspect is what people run before a long run to see what they have.

    Args:
        config: DataConfig.
        image_size: (int, int). Size of the processed preview images.
        out: str or None. Folder for `preview.png`, a grid of the first
            `preview` processed images of the first split.
        preview: int. Number of preview images. Defaults to 25.

    Returns:
        {"source", "path", "image_size", "splits": {split: count},
        "skipped": count, "skipped_files": [{"path", "reason"}], "warnings":
        [str] (one per empty split, naming the setting), and with the face crop "faces": {"0", "1", "2+"}; "preview": the grid's path}.

    Example:

    >>> summary = inspect_data(DataConfig(num_examples=20, validation_fraction=0.25))
    >>> summary["splits"]
    {'train': 15, 'validation': 5, 'test': 5}
    """
    size = tuple(int(n) for n in image_size)
    splits, empty = {}, {}
    for name in SPLITS:
        try:
            splits[name] = load_split(config, name, size)
        except UnknownSplitError:
            continue
        except EmptySplitError as error:
            empty[name] = error
    skipped = merge_skipped(*splits.values(), *empty.values())
    summary: dict[str, Any] = {
        "source": config.source,
        "path": config.path,
        "image_size": list(size),
        "splits": {name: splits[name].num_examples if name in splits else 0 for name in SPLITS
                   if name in splits or name in empty},  # fmt: skip
        "skipped": len(skipped),
        "skipped_files": [{"path": path, "reason": reason} for path, reason in skipped],
        "warnings": [f"{name} split is empty ({error.key}): {error}; {EMPTY_SPLIT_EFFECT[name]}"
                     for name, error in empty.items()],  # fmt: skip
    }
    faces = merge_face_counts(*splits.values())
    if faces is not None:
        summary["faces"] = faces
    if out and splits:
        first, source = next(iter(splits.items()))
        uncached = dataclasses.replace(config, cache=False)
        batch = next(iter(make_dataset(uncached, first, batch_size=preview, image_size=size,
                                       training=False, source=source)))  # fmt: skip
        os.makedirs(out, exist_ok=True)
        summary["preview"] = save_grid(os.path.join(out, "preview.png"), batch.numpy())
    return summary


def format_summary(summary: dict[str, Any], max_files: int = 20) -> str:
    """The summary as a few lines of text."""
    lines = [f"source: {summary['source']}" + (f"   path: {summary['path']}" if summary["path"] else "")]
    lines.append(f"{'split':<12}{'images':>10}")
    for name, count in summary["splits"].items():
        lines.append(f"{name:<12}{count if count is not None else 'unknown':>10}")
    lines.append(f"skipped: {summary['skipped']} file(s)")
    lines += [f"warning: {warning}" for warning in summary.get("warnings", ())]
    for item in summary["skipped_files"][:max_files]:
        lines.append(f"  {item['path']}: {item['reason']}")
    if summary["skipped"] > max_files:
        lines.append(f"  ... and {summary['skipped'] - max_files} more (--json lists all)")
    if "faces" in summary:
        faces = summary["faces"]
        lines.append(f"faces per image (face crop): 0: {faces['0']}  1: {faces['1']}  2+: {faces['2+']}")
    if "preview" in summary:
        lines.append(f"preview: {summary['preview']}")
    return "\n".join(lines)
