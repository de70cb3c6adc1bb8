"""Training runs: the run folder layout and the `train(config)` runner."""

from tfface.training.run_dir import RunDir
from tfface.training.runner import RunResult, build_model, make_optimizer, train

__all__ = ["RunDir", "RunResult", "build_model", "make_optimizer", "train"]
