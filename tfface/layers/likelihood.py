"""The calibrated Gaussian decoder of the σ-VAE: a layer that owns the
decoder's output scale σ and scores reconstructions by their negative
log-likelihood, so the reconstruction/KL balance needs no hand-tuned β."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from tfface.losses import gaussian_nll, optimal_log_sigma

DECODER_SIGMAS = ("learned", "learned_channel", "optimal", "optimal_channel")


@keras.saving.register_keras_serializable(package="tfface")
class GaussianLikelihood(keras.layers.Layer):
    """Gaussian decoder likelihood N(x̂, σ²) with a learned or analytic σ.

    `call(targets, outputs)` returns the per-example NLL summed over pixels
    (`tfface.losses.gaussian_nll`) and the log σ used (averaged over
    channels). log σ is bounded below by `min_log_sigma`: the learned one
    soft-clipped (min + softplus(log σ − min), as in the paper's code), the
    analytic one clipped.

    Args:
        sigma: str. "learned" (one trainable log σ), "learned_channel" (one
            per channel), "optimal" (σ² = the batch's mean squared error,
            recomputed every step, no weight; the global batch's under
            tf.distribute) or "optimal_channel" (per
            channel). Defaults to "optimal".
        channels: int. Image channels (for the per-channel modes).
            Defaults to 3.
        min_log_sigma: float. Lower bound of log σ. Defaults to -6.

    Example:

    >>> likelihood = GaussianLikelihood("optimal")
    >>> x = np.zeros((2, 4, 4, 3)); y = np.full((2, 4, 4, 3), 0.1)
    >>> nll, log_sigma = likelihood(x, y)
    >>> round(float(np.exp(log_sigma)), 3)
    0.1

    Reference:
        Rybkin, Daniilidis & Levine, "Simple and Effective VAE Training with
        Calibrated Decoders", ICML 2021.
    """

    def __init__(self, sigma: str = "optimal", channels: int = 3, min_log_sigma: float = -6.0, **kwargs: Any):
        if sigma not in DECODER_SIGMAS:
            raise ValueError(f"decoder sigma must be one of {DECODER_SIGMAS}, got {sigma!r}")
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.sigma = sigma
        self.channels = int(channels)
        self.min_log_sigma = float(min_log_sigma)
        self.per_channel = sigma.endswith("_channel")
        self.log_sigma = None
        if sigma.startswith("learned"):
            shape = (self.channels,) if self.per_channel else ()
            self.log_sigma = self.add_weight(shape=shape, initializer="zeros", name="log_sigma", dtype="float32")
        self.built = True

    def call(self, targets, outputs):
        if self.log_sigma is None:
            # σ* of the global batch, a constant: at σ* the NLL's derivative
            # in σ is 0, so the gradient in x̂ stays exact.
            optimal = optimal_log_sigma(targets, outputs, per_channel=self.per_channel)
            log_sigma = ops.maximum(optimal, self.min_log_sigma)
        else:
            log_sigma = self.min_log_sigma + ops.softplus(ops.convert_to_tensor(self.log_sigma) - self.min_log_sigma)
        return gaussian_nll(targets, outputs, log_sigma), ops.mean(log_sigma)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "sigma": self.sigma,
            "channels": self.channels,
            "min_log_sigma": self.min_log_sigma,
        }
