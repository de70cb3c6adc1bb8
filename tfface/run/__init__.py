"""Run folders: their layout (`RunDir`, export versions) and reopening a
finished run (`load_run`). Everything that reads or writes runs imports
this layer; it imports only the data, models and presets below it."""

from tfface.run.layout import ASSETS_EXTRA, RunDir, next_version, versions
from tfface.run.load import LoadedRun, load_run, resolve_run_folder

__all__ = ["ASSETS_EXTRA", "LoadedRun", "RunDir", "load_run", "next_version", "resolve_run_folder", "versions"]
