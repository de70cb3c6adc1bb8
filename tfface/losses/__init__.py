"""Per-example losses. Conventions, used everywhere in tfface:

- Reconstruction: computed per example, *summed* over pixels and channels
  (`reduction="sum"`, the Gaussian/Bernoulli log-likelihood convention of the
  VAE papers) or *averaged* over them (`reduction="mean"`, Keras' `mse`
  convention, used by report 003). The training loss then averages over the
  batch.
- KL: closed form of KL(N(mean, exp(log_var)) || N(0, I)), summed (or
  averaged) over latent dimensions per example.

All losses are computed in float32, whatever the compute dtype.
"""

from tfface.losses.kl import gaussian_kl
from tfface.losses.reconstruction import RECONSTRUCTION_LOSSES, reconstruction_loss

__all__ = ["RECONSTRUCTION_LOSSES", "gaussian_kl", "reconstruction_loss"]
