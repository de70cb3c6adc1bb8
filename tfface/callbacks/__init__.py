"""Training callbacks: sample and reconstruction grids, loss curves."""

from tfface.callbacks.grids import ReconstructionGrid, SampleGrid
from tfface.callbacks.history import LossCurves

__all__ = ["LossCurves", "ReconstructionGrid", "SampleGrid"]
