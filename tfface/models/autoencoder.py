"""Deterministic autoencoders: plain and denoising."""

from __future__ import annotations

from typing import Any

import keras

from tfface.models.base import LatentAutoencoder


@keras.saving.register_keras_serializable(package="tfface")
class Autoencoder(LatentAutoencoder):
    """An autoencoder trained on reconstruction alone.

    The encoder must have a deterministic head. Generation works through the
    ex-post density samplers of `tfface.sampling` fitted on its latent codes.

    Args:
        encoder: `tfface.layers.Encoder` with `head="deterministic"`.
        decoder: `tfface.layers.Decoder`.
        **kwargs: see `LatentAutoencoder` (reconstruction_loss,
            reconstruction_reduction, input_noise_stddev, freeze_encoder, seed).

    Example:

    >>> from tfface.layers import symmetric_trunks
    >>> enc, dec = symmetric_trunks((32, 32), [16, 32], 8, head="deterministic")
    >>> model = Autoencoder(enc, dec)
    >>> tuple(model(np.zeros((2, 32, 32, 3))).shape)
    (2, 32, 32, 3)
    """

    def __init__(self, encoder, decoder, **kwargs: Any):
        if encoder.head != "deterministic":
            raise ValueError("Autoencoder needs an encoder with head='deterministic'; use VAE for 'gaussian'")
        super().__init__(encoder, decoder, **kwargs)


@keras.saving.register_keras_serializable(package="tfface")
class DenoisingAutoencoder(Autoencoder):
    """An autoencoder that reconstructs clean images from noisy inputs
    (report 002 §3): Gaussian noise of `input_noise_stddev` is added to the
    inputs in training only; the loss compares with the clean images.

    Args:
        encoder, decoder: as for `Autoencoder`.
        input_noise_stddev: float. Noise std in the images' value range.
            Defaults to 0.1.

    Example:

    >>> from tfface.layers import symmetric_trunks
    >>> enc, dec = symmetric_trunks((32, 32), [16, 32], 8, head="deterministic")
    >>> DenoisingAutoencoder(enc, dec, input_noise_stddev=0.2).input_noise_stddev
    0.2
    """

    def __init__(self, encoder, decoder, input_noise_stddev: float = 0.1, **kwargs: Any):
        if input_noise_stddev <= 0:
            raise ValueError(f"input_noise_stddev must be > 0 for a denoising autoencoder, got {input_noise_stddev}")
        super().__init__(encoder, decoder, input_noise_stddev=input_noise_stddev, **kwargs)
