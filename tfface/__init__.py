"""tfface: face autoencoders and VAEs for Keras 3 / TensorFlow.

Train with `model.fit`, watch 25-image grids every epoch, sample, evaluate
and export SavedModels for serving. Documentation: docs/ (built by `make docs`),
published at https://tfface.github.io/tfface/.
"""

import importlib
import importlib.util

from tfface.onednn import prefer_onednn
from tfface.serializable import install as install_keras_registration
from tfface.version import __version__

# Before anything imports TensorFlow: its oneDNN CPU kernels on x86-64 CPUs
# where it would leave them off (1.5-1.9x faster training; see tfface.onednn).
prefer_onednn()

# Names are imported on first use (PEP 562), so `import tfface` and the
# CLI's `--help` do not import TensorFlow.
_EXPORTS = {
    "DataConfig": "tfface.config",
    "ExperimentConfig": "tfface.config",
    "ModelConfig": "tfface.config",
    "RunConfig": "tfface.config",
    "TrainConfig": "tfface.config",
    "load_config": "tfface.config",
    "make_dataset": "tfface.data",
    "synthetic_faces": "tfface.data",
    "VAE": "tfface.models",
    "Autoencoder": "tfface.models",
    "DenoisingAutoencoder": "tfface.models",
    "LatentAutoencoder": "tfface.models",
    "build_preset": "tfface.presets",
    "doctor": "tfface.experiments.doctor",
}


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if importlib.util.find_spec(f"{__name__}.{name}") is not None:  # a subpackage: tfface.data, ...
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'tfface' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *_EXPORTS])


# Every Keras class of tfface is registered once Keras is imported (at once
# if it already is), so `keras.saving.load_model` needs only `import tfface`.
install_keras_registration()


__all__ = [
    "VAE",
    "Autoencoder",
    "DataConfig",
    "DenoisingAutoencoder",
    "ExperimentConfig",
    "LatentAutoencoder",
    "ModelConfig",
    "RunConfig",
    "TrainConfig",
    "__version__",
    "build_preset",
    "doctor",
    "load_config",
    "make_dataset",
    "synthetic_faces",
]
