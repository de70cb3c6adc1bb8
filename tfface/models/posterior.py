"""Posterior objects returned by `LatentAutoencoder.posterior()`.

As in diffusers, the posterior is an object with `sample()`, `mode()` and
`kl()`, so the base model treats autoencoders (a point mass) and VAEs (a
diagonal Gaussian) alike.
"""

from __future__ import annotations

import keras
from keras import ops

from tfface.losses import gaussian_kl

# exp(20) ≈ 4.9e8 and exp(-30) ≈ 9e-14: wide enough never to bind on a
# healthy model, narrow enough that exp(log_var) cannot overflow float32/16.
LOG_VAR_RANGE = (-30.0, 20.0)


class DiagonalGaussian:
    """N(mean, diag(exp(log_var))), log-variance clamped to `LOG_VAR_RANGE`."""

    def __init__(self, mean, log_var):
        self.mean = mean
        self.log_var = ops.clip(log_var, *LOG_VAR_RANGE)

    def sample(self, seed=None, temperature: float = 1.0):
        """Reparameterised sample z = μ + σ·ε, ε ~ N(0, I)·temperature."""
        eps = keras.random.normal(ops.shape(self.mean), seed=seed, dtype=self.mean.dtype)
        return self.mean + ops.exp(0.5 * self.log_var) * eps * temperature

    def mode(self):
        return self.mean

    def kl(self, reduction: str = "sum"):
        return gaussian_kl(self.mean, self.log_var, reduction)


class PointMass:
    """A deterministic code: sample and mode are z, KL is zero."""

    def __init__(self, z):
        self.mean = z
        self.log_var = None

    def sample(self, seed=None, temperature: float = 1.0):
        return self.mean

    def mode(self):
        return self.mean

    def kl(self, reduction: str = "sum"):
        return ops.zeros(ops.shape(self.mean)[:1], dtype="float32")
