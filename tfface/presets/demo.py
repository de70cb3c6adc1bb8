"""tfface's own small presets: the demo VAE and its AE/denoising siblings.

Built from `tfface.layers.symmetric_trunks` — the same stride-2 conv family
report 004's presets use — sized to train in minutes on a 2-core CPU. They follow no report; their
rows in docs/reports.md say so.
"""

from __future__ import annotations

from typing import Sequence

from tfface.layers import symmetric_trunks
from tfface.models import VAE, Autoencoder, DenoisingAutoencoder
from tfface.presets import register_preset

_DEMO_RECIPE = {"learning_rate": 1e-3, "batch_size": 64, "epochs": 5, "loss": "mse"}


@register_preset("vae_demo", image_size=(64, 64), recipe=_DEMO_RECIPE)
def vae_demo(
    image_size: Sequence[int] = (64, 64),
    latent_dim: int = 32,
    widths: Sequence[int] = (32, 64, 128, 256),
    beta: float = 1.0,
    reconstruction_loss: str = "mse",
    kl_warmup_steps: int = 0,
    seed: int | None = None,
) -> VAE:
    """Small conv VAE for CPU demos: 4 stride-2 conv blocks (BN, LeakyReLU), latent 32, sigmoid output.

    Args:
        image_size: (int, int). Input size; divisible by 16. Defaults to (64, 64).
        latent_dim: int. Defaults to 32.
        widths: list of int. Encoder block widths. Defaults to (32, 64, 128, 256).
        beta: float. KL weight. Defaults to 1.0.
        reconstruction_loss: str. "mse" or "bce". Defaults to "mse".
        kl_warmup_steps: int. Defaults to 0.
        seed: int or None. Defaults to None.
    """
    encoder, decoder = symmetric_trunks(image_size, widths, latent_dim, head="gaussian")
    return VAE(
        encoder,
        decoder,
        beta=beta,
        reconstruction_loss=reconstruction_loss,
        kl_warmup_steps=kl_warmup_steps,
        seed=seed,
        name="vae_demo",
    )


@register_preset("vae_tiny", image_size=(32, 32), recipe=_DEMO_RECIPE)
def vae_tiny(
    image_size: Sequence[int] = (32, 32),
    latent_dim: int = 8,
    beta: float = 1.0,
    reconstruction_loss: str = "mse",
    kl_warmup_steps: int = 0,
    seed: int | None = None,
) -> VAE:
    """Tiny conv VAE (2 blocks of 8 and 16 channels) for tests and smoke runs."""
    return vae_demo(
        image_size=image_size,
        latent_dim=latent_dim,
        widths=(8, 16),
        beta=beta,
        reconstruction_loss=reconstruction_loss,
        kl_warmup_steps=kl_warmup_steps,
        seed=seed,
    )


@register_preset("ae_demo", image_size=(64, 64), recipe=_DEMO_RECIPE)
def ae_demo(
    image_size: Sequence[int] = (64, 64),
    latent_dim: int = 32,
    widths: Sequence[int] = (32, 64, 128, 256),
    reconstruction_loss: str = "mse",
    input_noise_stddev: float = 0.0,
    seed: int | None = None,
) -> Autoencoder:
    """Small conv autoencoder, the deterministic twin of vae_demo; noise > 0 makes it denoising."""
    encoder, decoder = symmetric_trunks(image_size, widths, latent_dim, head="deterministic")
    cls = DenoisingAutoencoder if input_noise_stddev > 0 else Autoencoder
    kwargs = {"input_noise_stddev": input_noise_stddev} if input_noise_stddev > 0 else {}
    return cls(encoder, decoder, reconstruction_loss=reconstruction_loss, seed=seed, name="ae_demo", **kwargs)
