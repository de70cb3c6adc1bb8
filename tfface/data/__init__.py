"""Face data: sources (synthetic, CelebA, folders), transforms, pipelines."""

from tfface.data.pipeline import first_image_array, first_images, load_split, make_dataset, resolve_value_range
from tfface.data.sources import SOURCES, SPLITS, EmptySplitError, SourceSplit, UnknownSplitError
from tfface.data.synthetic import SYNTHETIC_ATTRIBUTES, synthetic_face_array, synthetic_faces

# Registering modules: importing them adds their sources to SOURCES.
from tfface.data import folder as _folder  # noqa: E402,F401  isort: skip
from tfface.data import celeba as _celeba  # noqa: E402,F401  isort: skip
from tfface.data.celeba import CELEBA_ATTRIBUTES  # noqa: E402  isort: skip

__all__ = [
    "CELEBA_ATTRIBUTES",
    "SOURCES",
    "SPLITS",
    "SYNTHETIC_ATTRIBUTES",
    "EmptySplitError",
    "SourceSplit",
    "UnknownSplitError",
    "first_image_array",
    "first_images",
    "load_split",
    "make_dataset",
    "resolve_value_range",
    "synthetic_face_array",
    "synthetic_faces",
]
