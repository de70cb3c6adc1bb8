"""Experiments: compose the layers below into what users run — train then
export (`train`), sweeps of runs with evaluation, tables and comparison
figures (`load_sweep`, `run_sweep`)."""

from tfface.experiments.sweep import Sweep, SweepResult, SweepRun, check_presets, load_sweep, run_sweep
from tfface.experiments.train_export import check_sampler_config, export_trained_model, fit_configured_sampler, train

__all__ = [
    "Sweep",
    "SweepResult",
    "SweepRun",
    "check_presets",
    "check_sampler_config",
    "export_trained_model",
    "fit_configured_sampler",
    "load_sweep",
    "run_sweep",
    "train",
]
