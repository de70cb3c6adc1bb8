"""SavedModel export with serving signatures (outside the model classes)."""

from tfface.export.savedmodel import export_savedmodel

__all__ = ["export_savedmodel"]
