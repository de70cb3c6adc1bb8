"""Per-example losses. Conventions, used everywhere in tfface:

- Reconstruction: computed per example, *summed* over pixels and channels
  (`reduction="sum"`, the Gaussian/Bernoulli log-likelihood convention of the
  VAE papers) or *averaged* over them (`reduction="mean"`, Keras' `mse`
  convention, used by report 003). The training loss then averages over the
  batch.
- Attributes: binary cross-entropy averaged over the known labels (NaN
  marks an attribute the data does not label).
- Gaussian decoder (σ-VAE): `gaussian_nll` with a learned or analytic
  (`optimal_log_sigma`) log σ, summed over pixels.
- KL: closed form of KL(N(mean, exp(log_var)) || N(0, I)), summed (or
  averaged) over latent dimensions per example.

All losses are computed in float32, whatever the compute dtype.
"""

from tfface.losses.attributes import AttributeAccuracy, attribute_bce, known_labels
from tfface.losses.kl import gaussian_kl
from tfface.losses.reconstruction import RECONSTRUCTION_LOSSES, gaussian_nll, optimal_log_sigma, reconstruction_loss

__all__ = [
    "RECONSTRUCTION_LOSSES",
    "attribute_bce",
    "gaussian_kl",
    "gaussian_nll",
    "known_labels",
    "optimal_log_sigma",
    "reconstruction_loss",
]
