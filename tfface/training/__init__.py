"""Training runs: `train_run(config)` (fit into a run folder, resumable),
its datasets, callbacks and runtime. Train-then-export is
`tfface.experiments.train`; run folders are `tfface.run`."""

from tfface.training.runner import (
    OPTIMIZERS,
    RunResult,
    build_model,
    generates_images,
    make_optimizer,
    train_run,
)

__all__ = ["OPTIMIZERS", "RunResult", "build_model", "generates_images", "make_optimizer", "train_run"]
