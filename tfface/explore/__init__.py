"""An interactive explorer of a trained run or its SavedModel export, in the
browser or inline in a notebook (`tfface explore RUN_OR_EXPORT`,
`tfface.notebook.explore(path)`): Generate, Interpolate, Attributes and
Your photo panels over the export's serving signatures. Gradio is an
optional extra: `pip install 'tfface[explore]'`."""

from tfface.explore.app import GradioMissing, ServeOptions, build_app, explore, launch, require_gradio
from tfface.explore.panels import ExploreError, Limits
from tfface.explore.served import ServedModel, resolve_export

__all__ = [
    "ExploreError",
    "GradioMissing",
    "Limits",
    "ServeOptions",
    "ServedModel",
    "build_app",
    "explore",
    "launch",
    "require_gradio",
    "resolve_export",
]
