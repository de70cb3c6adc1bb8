"""Training callbacks: sample and reconstruction grids, history CSV and loss
curves, NaN guard, TensorBoard, early stopping with kept best weights."""

from tfface.callbacks.best import BestWeights
from tfface.callbacks.ema import EMAWeights, recalibrate_batch_norm
from tfface.callbacks.grids import ReconstructionGrid, SampleGrid
from tfface.callbacks.guard import NonFiniteGuard, NonFiniteLossError
from tfface.callbacks.history import HistoryCSV, LossCurves
from tfface.callbacks.tensorboard import GridSummaries, tensorboard_callback, trim_event_files

__all__ = [
    "BestWeights",
    "EMAWeights",
    "recalibrate_batch_norm",
    "GridSummaries",
    "HistoryCSV",
    "LossCurves",
    "NonFiniteGuard",
    "NonFiniteLossError",
    "ReconstructionGrid",
    "SampleGrid",
    "tensorboard_callback",
    "trim_event_files",
]
