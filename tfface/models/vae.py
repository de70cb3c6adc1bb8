"""Variational autoencoders: the KL regularizer on top of the base step."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from tfface.models.base import LatentAutoencoder


@keras.saving.register_keras_serializable(package="tfface")
class VAE(LatentAutoencoder):
    """A (β-)VAE: loss = reconstruction + w · KL(q(z|x) || N(0, I)).

    `w` is `beta`, or during an optional linear warm-up
    `beta · min(1, (step + 1) / kl_warmup_steps)` with `step` the optimizer's
    iteration count (so warm-up resumes exactly with the optimizer state).

    Args:
        encoder: `tfface.layers.Encoder` with `head="gaussian"`.
        decoder: `tfface.layers.Decoder`.
        beta: float. KL weight (report 001's λ). Defaults to 1.0.
        kl_reduction: str. "sum" or "mean" over latent dimensions.
            Defaults to "sum".
        kl_warmup_steps: int. Linear warm-up length in optimizer steps;
            0 disables it. Defaults to 0.
        **kwargs: see `LatentAutoencoder`.

    Example:

    >>> from tfface.layers import symmetric_trunks
    >>> enc, dec = symmetric_trunks((32, 32), [16, 32], latent_dim=8)
    >>> vae = VAE(enc, dec, beta=0.5)
    >>> vae.compile(optimizer="adam")
    >>> logs = vae.fit(np.random.rand(8, 32, 32, 3).astype("float32"),
    ...                epochs=1, batch_size=4, verbose=0)
    >>> sorted(logs.history)
    ['kl_loss', 'loss', 'reconstruction_loss']

    Reference:
        Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014;
        Higgins et al., "β-VAE", ICLR 2017.
    """

    loss_terms = ("loss", "reconstruction_loss", "kl_loss")

    def __init__(
        self,
        encoder,
        decoder,
        beta: float = 1.0,
        kl_reduction: str = "sum",
        kl_warmup_steps: int = 0,
        **kwargs: Any,
    ):
        if encoder.head != "gaussian":
            raise ValueError("VAE needs an encoder with head='gaussian'; use Autoencoder for 'deterministic'")
        if kl_reduction not in ("sum", "mean"):
            raise ValueError(f"kl_reduction must be 'sum' or 'mean', got {kl_reduction!r}")
        self.beta = float(beta)
        self.kl_reduction = kl_reduction
        self.kl_warmup_steps = int(kl_warmup_steps)
        super().__init__(encoder, decoder, **kwargs)

    def kl_weight(self):
        """The current KL weight (a float32 scalar)."""
        beta = ops.convert_to_tensor(self.beta, dtype="float32")
        if not self.kl_warmup_steps or getattr(self, "optimizer", None) is None:
            return beta
        step = ops.cast(self.optimizer.iterations, "float32")
        return beta * ops.minimum(1.0, (step + 1.0) / float(self.kl_warmup_steps))

    def regularizer(self, kl, posterior, z):
        return self.kl_weight() * ops.mean(kl)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"beta": self.beta, "kl_reduction": self.kl_reduction, "kl_warmup_steps": self.kl_warmup_steps})
        return config
