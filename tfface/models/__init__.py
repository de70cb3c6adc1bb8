"""Model classes. Architectures come from `tfface.layers`; presets from
`tfface.presets`."""

from tfface.models.autoencoder import Autoencoder, DenoisingAutoencoder
from tfface.models.base import FaceModel, LatentAutoencoder, images_from_batch
from tfface.models.classifier import AttributeClassifier, load_encoder_weights
from tfface.models.posterior import LOG_VAR_RANGE, DiagonalGaussian, PointMass
from tfface.models.vae import VAE

__all__ = [
    "AttributeClassifier",
    "LOG_VAR_RANGE",
    "Autoencoder",
    "DenoisingAutoencoder",
    "DiagonalGaussian",
    "FaceModel",
    "LatentAutoencoder",
    "PointMass",
    "VAE",
    "images_from_batch",
    "load_encoder_weights",
]
