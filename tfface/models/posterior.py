"""Posterior objects returned by `LatentAutoencoder.posterior()`.

As in diffusers, the posterior is an object with `sample()`, `mode()` and
`kl()`, so the base model treats autoencoders (a point mass) and VAEs (a
diagonal Gaussian) alike.
"""

from __future__ import annotations

from keras import ops

from tfface.losses import gaussian_kl
from tfface.replicas import global_batch_normal

# exp(-30) ≈ 9e-14: low enough never to bind. The top, exp(6) ≈ 400 (σ ≈ 20),
# is far above the prior's variance 1, which a posterior never usefully
# exceeds (it costs KL and only adds noise), yet low enough that Adam's first
# update, which moves every weight by about the learning rate whatever the
# KL weight, cannot throw log-variances to where one step's KL is ~1e7 (it
# did with a top of 20: the demo's epoch-1 KL was ~2e5). The head computes in
# float32 under every precision policy, so the clamp is about the KL only.
LOG_VAR_RANGE = (-30.0, 6.0)


class DiagonalGaussian:
    """N(mean, diag(exp(log_var))), log-variance clamped to `LOG_VAR_RANGE`."""

    def __init__(self, mean, log_var):
        self.mean = mean
        self.log_var = ops.clip(log_var, *LOG_VAR_RANGE)

    def sample(self, seed=None, temperature: float = 1.0):
        """Reparameterised sample z = μ + σ·ε, ε ~ N(0, I)·temperature; under
        tf.distribute ε is the one a single device draws for the example
        (`tfface.replicas.global_batch_normal`)."""
        eps = global_batch_normal(ops.shape(self.mean), seed, dtype=self.mean.dtype)
        return self.mean + ops.exp(0.5 * self.log_var) * eps * temperature

    def mode(self):
        """The most likely code: the mean."""
        return self.mean

    def kl(self, reduction: str = "sum"):
        """KL(q || N(0, I)) per example, summed (or averaged, `reduction="mean"`) over latent dimensions."""
        return gaussian_kl(self.mean, self.log_var, reduction)


class PointMass:
    """A deterministic code: sample and mode are z, KL is zero."""

    def __init__(self, z):
        self.mean = z
        self.log_var = None

    def sample(self, seed=None, temperature: float = 1.0):
        """The code itself: a point mass has no noise to draw."""
        return self.mean

    def mode(self):
        """The code itself."""
        return self.mean

    def kl(self, reduction: str = "sum"):
        """Zero per example: autoencoders have no KL term."""
        return ops.zeros(ops.shape(self.mean)[:1], dtype="float32")
