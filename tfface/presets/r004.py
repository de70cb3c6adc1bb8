"""Report 004 (FFHQ autoencoders, §3 and Table 1): ten convolutional
autoencoders at 256×256 that differ in latent size d and base width C.

Every variant is `tfface.layers.symmetric_trunks` with four 4×4 stride-2
blocks (C, 2C, 4C, 8C), batch norm and LeakyReLU, a deterministic latent and
a tanh output. The recipe (§2, §4): resize + centre crop to 256×256, [-1, 1]
data, the first 1,000 files for validation, MSE, Adam lr 2e-4 with betas
(0.5, 0.999), batch 32, 10 epochs. PSNR = 10·log10(1/MSE) with the MSE on
[-1, 1] is `tfface.metrics`' `psnr_data_range`.

Every stated number beside where tfface sets it: docs/reports.md, report 004.

Ambiguities resolved (the report gives the layer types, not their sizes):

- Kernel 4, stride 2, padding 1 (the PyTorch DCGAN convention): Keras'
  "same" padding is the same arithmetic for a 4×4 stride-2 conv on even
  sizes, forward and transposed, so 256 → 16 → 256 exactly.
- LeakyReLU slope 0.2 and batch-norm momentum 0.9 (PyTorch's 0.1), the
  DCGAN defaults that go with betas (0.5, 0.999).
- The latent is linear; the dense layer after it projects straight to
  16×16×8C without an activation; the last transposed conv has neither
  batch norm nor LeakyReLU (tanh only).
- Table 2 lists nine rows (ae_latent_32 is missing); the preset exists anyway.
"""

from __future__ import annotations

from typing import Sequence

from tfface.layers import symmetric_trunks
from tfface.models import Autoencoder
from tfface.presets import register_preset
from tfface.value_range import ValueRange

REPORT = "004 §3, Table 1"
RECIPE = {
    "loss": "mse",
    "optimizer": "adam",
    "learning_rate": 2e-4,
    "beta_1": 0.5,
    "beta_2": 0.999,
    "batch_size": 32,
    "epochs": 10,
}

#: Table 1: name → (latent d, base width C).
VARIANTS: dict[str, tuple[int, int]] = {
    "ae_baseline": (256, 16),
    "ae_latent_64": (64, 16),
    "ae_latent_32": (32, 16),
    "ae_latent_16": (16, 16),
    "ae_latent_8": (8, 16),
    "ae_latent_4": (4, 16),
    "ae_wide_32": (256, 32),
    "ae_wide_64": (256, 64),
    "ae_wide_32_latent_64": (64, 32),
    "ae_wide_64_latent_16": (16, 64),
}


def r004_autoencoder(
    image_size: Sequence[int] = (256, 256),
    latent_dim: int = 256,
    base_width: int = 16,
    reconstruction_loss: str = "mse",
    seed: int | None = None,
    name: str = "r004_ae",
) -> Autoencoder:
    """Report 004's autoencoder: 4 stride-2 conv blocks (C, 2C, 4C, 8C; BN, LeakyReLU), dense latent, mirrored decoder, tanh.

    Args:
        image_size: (int, int). Input size, divisible by 16. Defaults to (256, 256).
        latent_dim: int. Latent size d. Defaults to 256.
        base_width: int. Base width C. Defaults to 16.
        reconstruction_loss: str. Defaults to "mse".
        seed: int or None. Defaults to None.
        name: str. Model name. Defaults to "r004_ae".
    """
    widths = [base_width * m for m in (1, 2, 4, 8)]
    encoder, decoder = symmetric_trunks(
        image_size,
        widths,
        latent_dim,
        head="deterministic",
        kernel_size=4,
        norm="batch",
        activation="leaky_relu",
        output_activation="tanh",
    )
    return Autoencoder(
        encoder,
        decoder,
        reconstruction_loss=reconstruction_loss,
        reconstruction_reduction="mean",
        seed=seed,
        name=name,
    )


def _register(variant: str, latent_dim: int, base_width: int) -> None:
    name = f"r004_{variant}"

    def builder(
        image_size: Sequence[int] = (256, 256),
        latent_dim: int = latent_dim,
        base_width: int = base_width,
        reconstruction_loss: str = "mse",
        seed: int | None = None,
    ) -> Autoencoder:
        return r004_autoencoder(image_size, latent_dim, base_width, reconstruction_loss, seed, name=name)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (
        f"Report 004 Table 1 `{variant}`: latent d={latent_dim}, base width C={base_width} "
        f"(widths {base_width}-{8 * base_width}), 256x256, tanh.\n\n"
        "See `tfface.presets.r004.r004_autoencoder` and the module docstring for the "
        "architecture and the ambiguities it resolves."
    )
    register_preset(name, image_size=(256, 256), report=REPORT, value_range=ValueRange.MINUS_ONE_ONE, recipe=RECIPE)(builder)


for _variant, (_latent, _width) in VARIANTS.items():
    _register(_variant, _latent, _width)
