"""Training callbacks: sample and reconstruction grids, history CSV and loss curves, NaN guard."""

from tfface.callbacks.grids import ReconstructionGrid, SampleGrid
from tfface.callbacks.guard import NonFiniteGuard, NonFiniteLossError
from tfface.callbacks.history import HistoryCSV, LossCurves

__all__ = ["HistoryCSV", "LossCurves", "NonFiniteGuard", "NonFiniteLossError", "ReconstructionGrid", "SampleGrid"]
