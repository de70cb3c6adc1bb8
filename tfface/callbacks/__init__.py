"""Training callbacks: sample and reconstruction grids, loss curves, NaN guard,
early stopping with kept best weights."""

from tfface.callbacks.best import BestWeights

from tfface.callbacks.grids import ReconstructionGrid, SampleGrid
from tfface.callbacks.guard import NonFiniteGuard, NonFiniteLossError
from tfface.callbacks.history import LossCurves

__all__ = ["BestWeights", "LossCurves", "NonFiniteGuard", "NonFiniteLossError", "ReconstructionGrid", "SampleGrid"]
