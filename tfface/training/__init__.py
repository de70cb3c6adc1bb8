"""Training runs: the run folder layout, the `train(config)` runner,
reopening finished runs and sweeps."""

from tfface.training.load import LoadedRun, load_run
from tfface.training.run_dir import RunDir
from tfface.training.runner import RunResult, build_model, make_optimizer, train

__all__ = ["LoadedRun", "RunDir", "RunResult", "build_model", "load_run", "make_optimizer", "train"]
