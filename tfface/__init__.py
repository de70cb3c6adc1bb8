"""tfface: face autoencoders and VAEs for Keras 3 / TensorFlow.

Train with `model.fit`, watch 25-image grids every epoch, sample, evaluate
and export SavedModels for serving. See README.md.
"""

from tfface.version import __version__

from tfface.config import (  # noqa: E402
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    RunConfig,
    TrainConfig,
    load_config,
)
from tfface.data import make_dataset, synthetic_faces  # noqa: E402
from tfface.models import VAE, Autoencoder, DenoisingAutoencoder, LatentAutoencoder  # noqa: E402
from tfface.presets import build_preset  # noqa: E402

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
    "load_config",
    "make_dataset",
    "synthetic_faces",
]
