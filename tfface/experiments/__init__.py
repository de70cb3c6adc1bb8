"""Experiments: compose the layers below into what users run — train then
export (`train`), sweeps of runs with evaluation, tables and comparison
figures (`load_sweep`, `run_sweep`)."""

from tfface.experiments.sweep import Sweep, SweepResult, SweepRun, check_presets, load_sweep, run_sweep
from tfface.experiments.train_export import export_trained_model, train

__all__ = ["Sweep", "SweepResult", "SweepRun", "check_presets", "export_trained_model", "load_sweep", "run_sweep", "train"]
