"""Face data: sources (synthetic, CelebA, folders), transforms, pipelines."""

from tfface.data.pipeline import load_split, make_dataset, resolve_value_range
from tfface.data.sources import SOURCES, SPLITS, SourceSplit
from tfface.data.synthetic import SYNTHETIC_ATTRIBUTES, synthetic_face_array, synthetic_faces

__all__ = [
    "SOURCES",
    "SPLITS",
    "SYNTHETIC_ATTRIBUTES",
    "SourceSplit",
    "load_split",
    "make_dataset",
    "resolve_value_range",
    "synthetic_face_array",
    "synthetic_faces",
]
