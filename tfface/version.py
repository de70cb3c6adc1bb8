"""The package version (a leaf: `tfface.__version__` and the export's serving.json read it)."""

__version__ = "0.1.0"
