"""Training callbacks: sample and reconstruction grids, loss curves, NaN guard."""

from tfface.callbacks.grids import ReconstructionGrid, SampleGrid
from tfface.callbacks.guard import NonFiniteGuard, NonFiniteLossError
from tfface.callbacks.history import LossCurves

__all__ = ["LossCurves", "NonFiniteGuard", "NonFiniteLossError", "ReconstructionGrid", "SampleGrid"]
