"""SavedModel export with serving signatures (outside the model classes),
verification in a fresh process, and run folders exported for TF Serving."""

from tfface.export.run import ExportResult, export_run, next_version, versions
from tfface.export.savedmodel import (
    SIGNATURES,
    ServingOptions,
    SignatureDoc,
    TensorDoc,
    default_sampler,
    export_savedmodel,
    signature_docs,
)
from tfface.export.verify import ExportVerificationError, Verification, verify_export

__all__ = [
    "SIGNATURES",
    "ExportResult",
    "ExportVerificationError",
    "ServingOptions",
    "SignatureDoc",
    "TensorDoc",
    "Verification",
    "default_sampler",
    "export_run",
    "export_savedmodel",
    "next_version",
    "signature_docs",
    "verify_export",
    "versions",
]
