"""Report 002 (face generation with autoencoders and VAEs, §1-§4): the
simple feed-forward autoencoder (§1), the deep convolutional autoencoder
(§2), the denoising autoencoder (§3) and the two VAEs of §4 (anime faces at
64×64, IIITB faces at 256×256 after an OpenCV Haar face crop), latent 512.

The VAEs reproduce the report's Keras summaries layer by layer, with the
same parameter counts (weights plus batch-norm moving statistics):

======================  ============  ============  ============
VAE                     encoder       decoder       total
======================  ============  ============  ============
anime 64×64             13,802,688    13,283,023    27,085,711
IIITB 256×256           139,631,808   10,776,207    150,408,015
======================  ============  ============  ============

- Encoder (both): 5×5 convs 32 (stride 1), 64, 128, 256, 512 (stride 2),
  each followed by batch norm; flatten; dense 1024 + batch norm; dense mean
  and log-variance heads (512 each). At 256×256 the flattened map is
  16×16×512, hence the 134M-weight dense layer.
- Anime decoder: dense 1024 + BN, dense 8192, reshape 4×4×512, 5×5
  transposed convs 256, 128, 64, 32 (stride 2, each + BN), a stride-1
  transposed conv to 3 channels + BN.
- IIITB decoder (a different layout): dense 1024 + BN, dense 8192, reshape
  8×8×128, 5×5 transposed convs 256 + BN, 128 + BN, 64 (stride 2, no BN),
  then a *stride-4* transposed conv to 3 channels (64 → 256) + BN.
- Loss: see "The VAE objective" below: MSE averaged over pixels + β · KL
  averaged over latent dimensions, **β = 1e-3**. Adam (Keras default lr
  1e-3), batch 128; 150 epochs (anime) and 1,500 planned for IIITB (its run
  stopped at 234). The 25-image sample grid at the beginning and end of
  every epoch is the runner's `run.sample_grid`.
- Data: pixels / 255 after `tf.image.resize` to the square size (no crop;
  IIITB is first cropped to the largest Haar-cascade face).

The VAE objective (see docs/reports.md, report 002):

- The Keras summaries show the regulariser as
  `add_loss(multiply_1(reduce_mean(1 + log_var - mean² - exp(log_var))))`:
  the KL averaged over the batch *and* the 512 latent dimensions, times one
  constant, next to a compiled `mse` (Keras' `mse` averages over pixels and
  channels). So both terms are means: reconstruction per pixel, KL per
  latent element. Only the constant is not printed.
- The logs pin it down. Anime: MSE 0.0987, KL 0.00084 at the start of epoch
  1; MSE 0.00989, KL 0.335 after 150 epochs. IIITB: 0.0802 + 0.00069 →
  0.00543 + 0.179. Read as per-pixel MSE and per-element KL, the objective
  MSE + β · KL falls during training only if
  β < (0.0987 − 0.00989) / (0.335 − 0.00084) = 0.27 (anime) and
  β < (0.0802 − 0.00543) / (0.179 − 0.00069) = 0.42 (IIITB). With β = 1
  (the constant being only the KL's −½) the total would *rise* 3.5× (0.0995
  → 0.345), which gradient descent on that total does not do: the logged
  "KL loss" is the unweighted per-element KL and the constant also holds a
  weight β well below 1.
- β = 1e-3. MSE/P + β · KL_sum/D (P = 64·64·3 pixels, D = 512) has the
  gradients of a Gaussian decoder's ELBO with 2σ² = β · P / D; at the logged
  end point of the anime run the ELBO-optimal variance is σ² ≈ MSE = 0.0099
  (Rybkin et al. 2021), i.e. β ≈ 2 · 0.0099 · 512 / 12288 = 8.2e-4, the
  order of the customary Keras weight 1e-3. A KL of 0.335 nats per
  dimension (171 nats per face) is what a balanced VAE of this size keeps;
  a β near 1 collapses the posterior instead (KL → 0). With Adam, β on the
  KL is the same objective as 1/β on the MSE (Adam is invariant to the
  loss scale), so the reading "reconstruction summed/scaled" gives the same
  training. The value of β itself is our reading, not printed in the
  report; the inequality above is what the logs prove.
- The start-of-epoch KL (0.00084) is far below what a freshly initialised
  encoder gives in training mode (0.56 per element for ours on random
  images) and close to what it gives in inference mode (1.4e-4), where the
  untrained batch norms pass small activations through: the report's
  callback logged the encoder in inference mode. Our `kl_loss` metric is the
  same unweighted per-element mean, so the logged pair is comparable.

Every number the report states, beside where tfface sets it:
docs/reports.md, report 002.

Ambiguities resolved:

- Activations are invisible in a Keras summary when passed as
  `activation=` to Conv2D/Dense (no layer rows of their own): we use
  LeakyReLU(0.2) after each batch norm (conv → BN → LeakyReLU), linear
  mean/log-variance heads, and a sigmoid on the last batch norm's output
  for [0, 1] images (the summaries end with `BatchNormalization` on 3
  channels; a sigmoid keeps the output in the data's range).
- The dense 8192 projection has no batch norm (none in the summaries) and
  the same LeakyReLU.
- Batch norm uses Keras' default momentum 0.99 (the report used Keras).
- §1-§3 give no layer sizes. Our choices, at the anime VAE's 64×64:
  `r002_dense_ae` is flatten → dense 1024 → 512 → latent 128 → 512 → 1024 →
  64·64·3 (ReLU, sigmoid output); `r002_conv_ae` is 3×3 conv + ReLU + 2×2
  max pooling blocks 32, 64, 128 (64 → 8), a dense bottleneck of 256, and
  a decoder of dense → 8×8×128 → [3×3 conv + ReLU + 2× upsampling] 128, 64,
  32 → 3×3 conv to 3 channels, sigmoid; `r002_denoising_ae` is the same
  network trained on inputs with Gaussian noise of std 0.1 (clipped to
  [0, 1]) against the clean images. Same recipe as the VAEs (MSE mean,
  Adam 1e-3, batch 128); 150 epochs like the anime VAE.
"""

from __future__ import annotations

from typing import Sequence

from tfface.layers import Decoder, Encoder
from tfface.models import VAE, Autoencoder, DenoisingAutoencoder
from tfface.presets import divisible_size, register_preset

BATCH_NORM = "batch:0.99"  # Keras' default momentum
ACTIVATION = "leaky_relu"
RECIPE = {"loss": "mse", "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 128, "epochs": 150}
BETA = 1e-3  # the KL weight consistent with the report's logs (module docstring)
VAE_RECIPE = {**RECIPE, "beta": BETA}
IIITB_RECIPE = {**VAE_RECIPE, "epochs": 1500}


def _vae_encoder(image_size: Sequence[int], latent_dim: int) -> Encoder:
    widths = (32, 64, 128, 256, 512)
    blocks = [{"filters": w, "strides": 1 if i == 0 else 2} for i, w in enumerate(widths)]
    return Encoder(
        image_shape=(int(image_size[0]), int(image_size[1]), 3),
        blocks=blocks,
        latent_dim=latent_dim,
        head="gaussian",
        dense_units=[1024],
        kernel_size=5,
        padding="same",
        norm=BATCH_NORM,
        activation=ACTIVATION,
        dense_norm=BATCH_NORM,
        dense_activation=ACTIVATION,
        name="encoder",
    )


def _vae_decoder(image_size: Sequence[int], latent_dim: int, start_shape, blocks) -> Decoder:
    return Decoder(
        latent_dim=latent_dim,
        image_shape=(int(image_size[0]), int(image_size[1]), 3),
        start_shape=start_shape,
        blocks=blocks,
        dense_units=[1024],
        projection_activation=ACTIVATION,
        kernel_size=5,
        strides=2,
        padding="same",
        transpose=True,
        norm=BATCH_NORM,
        activation=ACTIVATION,
        dense_norm=BATCH_NORM,
        dense_activation=ACTIVATION,
        output_activation="sigmoid",
        name="decoder",
    )


def _vae(encoder: Encoder, decoder: Decoder, beta: float, seed, name: str) -> VAE:
    return VAE(
        encoder,
        decoder,
        beta=beta,
        kl_reduction="mean",
        reconstruction_loss="mse",
        reconstruction_reduction="mean",
        seed=seed,
        name=name,
    )


_OUTPUT_BLOCK = {"filters": 3, "activation": None}  # transposed conv → BN, then the sigmoid


@register_preset("r002_anime_vae", image_size=(64, 64), report="002 §4 (anime faces)", recipe=VAE_RECIPE)
def r002_anime_vae(
    image_size: Sequence[int] = (64, 64),
    latent_dim: int = 512,
    beta: float = BETA,
    seed: int | None = None,
) -> VAE:
    """Report 002's anime-faces VAE, 64x64, latent 512: 27,085,711 parameters as in its Keras summary.

    Encoder 5×5 convs 32-512 + BN, dense 1024 + BN, mean/log-variance heads;
    decoder dense 1024 + BN, dense 8192, reshape 4×4×512, 5×5 transposed
    convs + BN to 3 channels. See the module docstring for the ambiguities.

    Args:
        image_size: (int, int). Divisible by 16. Defaults to (64, 64).
        latent_dim: int. Defaults to 512.
        beta: float. KL weight on the per-element KL mean. Defaults to 1e-3
            (see "The VAE objective" in the module docstring).
        seed: int or None. Defaults to None.
    """
    height, width = divisible_size(image_size, 16, "r002_anime_vae")
    blocks = [256, 128, 64, 32, {**_OUTPUT_BLOCK, "strides": 1}]
    decoder = _vae_decoder(image_size, latent_dim, (height // 16, width // 16, 512), blocks)
    return _vae(_vae_encoder(image_size, latent_dim), decoder, beta, seed, "r002_anime_vae")


@register_preset(
    "r002_iiitb_vae", image_size=(256, 256), report="002 §4 (IIITB faces)", recipe=IIITB_RECIPE
)
def r002_iiitb_vae(
    image_size: Sequence[int] = (256, 256),
    latent_dim: int = 512,
    beta: float = BETA,
    seed: int | None = None,
) -> VAE:
    """Report 002's IIITB-faces VAE, 256x256 face crops, latent 512: 150,408,015 parameters as in its Keras summary.

    The anime encoder at 256×256; its own decoder: dense 1024 + BN, dense
    8192, reshape 8×8×128, 5×5 transposed convs 256 + BN, 128 + BN, 64, then
    a stride-4 one to 3 channels + BN. See the module docstring.

    Args:
        image_size: (int, int). Divisible by 32. Defaults to (256, 256).
        latent_dim: int. Defaults to 512.
        beta: float. KL weight on the per-element KL mean. Defaults to 1e-3
            (see "The VAE objective" in the module docstring).
        seed: int or None. Defaults to None.
    """
    height, width = divisible_size(image_size, 32, "r002_iiitb_vae")
    blocks = [256, 128, {"filters": 64, "norm": None}, {**_OUTPUT_BLOCK, "strides": 4}]
    # 8×8×128 at 256×256: the projection is always 8192 = 8·8·128 wide.
    decoder = _vae_decoder(image_size, latent_dim, (height // 32, width // 32, 128), blocks)
    return _vae(_vae_encoder(image_size, latent_dim), decoder, beta, seed, "r002_iiitb_vae")


@register_preset("r002_dense_ae", image_size=(64, 64), report="002 §1", recipe=RECIPE)
def r002_dense_ae(
    image_size: Sequence[int] = (64, 64),
    latent_dim: int = 128,
    hidden_units: Sequence[int] = (1024, 512),
    reconstruction_loss: str = "mse",
    seed: int | None = None,
) -> Autoencoder:
    """Report 002 §1's simple feed-forward autoencoder: flatten, dense 1024-512, latent 128, mirrored, sigmoid.

    §1 gives no sizes; see the module docstring for ours.

    Args:
        image_size: (int, int). Defaults to (64, 64).
        latent_dim: int. Defaults to 128.
        hidden_units: list of int. Encoder hidden layers (the decoder's in
            reverse). Defaults to (1024, 512).
        reconstruction_loss: str. Defaults to "mse".
        seed: int or None. Defaults to None.
    """
    shape = (int(image_size[0]), int(image_size[1]), 3)
    encoder = Encoder(image_shape=shape, latent_dim=latent_dim, head="deterministic",
                      dense_units=list(hidden_units), name="encoder")  # fmt: skip
    decoder = Decoder(latent_dim=latent_dim, image_shape=shape, start_shape=shape,
                      dense_units=list(reversed(hidden_units)), name="decoder")  # fmt: skip
    return Autoencoder(encoder, decoder, reconstruction_loss=reconstruction_loss,
                       reconstruction_reduction="mean", seed=seed, name="r002_dense_ae")  # fmt: skip


def _conv_ae_trunks(image_size: Sequence[int], latent_dim: int, widths: Sequence[int]):
    factor = 2 ** len(widths)
    height, width = divisible_size(image_size, factor, "r002 conv autoencoder")
    shape = (height, width, 3)
    encoder = Encoder(image_shape=shape, blocks=list(widths), latent_dim=latent_dim, head="deterministic",
                      kernel_size=3, pool="max", name="encoder")  # fmt: skip
    decoder_blocks = [{"filters": w, "upsample": 2} for w in reversed(widths)]
    decoder_blocks.append({"filters": 3, "activation": None})
    decoder = Decoder(
        latent_dim=latent_dim,
        image_shape=shape,
        start_shape=(height // factor, width // factor, widths[-1]),
        blocks=decoder_blocks,
        projection_activation="relu",
        kernel_size=3,
        name="decoder",
    )
    return encoder, decoder


@register_preset("r002_conv_ae", image_size=(64, 64), report="002 §2", recipe=RECIPE)
def r002_conv_ae(
    image_size: Sequence[int] = (64, 64),
    latent_dim: int = 256,
    widths: Sequence[int] = (32, 64, 128),
    reconstruction_loss: str = "mse",
    seed: int | None = None,
) -> Autoencoder:
    """Report 002 §2's deep convolutional autoencoder: conv + max-pool blocks 32-128, dense bottleneck 256, upsampling decoder.

    §2 gives no sizes; see the module docstring for ours.

    Args:
        image_size: (int, int). Divisible by 2**len(widths). Defaults to (64, 64).
        latent_dim: int. Bottleneck size. Defaults to 256.
        widths: list of int. Conv block widths. Defaults to (32, 64, 128).
        reconstruction_loss: str. Defaults to "mse".
        seed: int or None. Defaults to None.
    """
    encoder, decoder = _conv_ae_trunks(image_size, latent_dim, widths)
    return Autoencoder(encoder, decoder, reconstruction_loss=reconstruction_loss,
                       reconstruction_reduction="mean", seed=seed, name="r002_conv_ae")  # fmt: skip


@register_preset("r002_denoising_ae", image_size=(64, 64), report="002 §3", recipe=RECIPE)
def r002_denoising_ae(
    image_size: Sequence[int] = (64, 64),
    latent_dim: int = 256,
    widths: Sequence[int] = (32, 64, 128),
    input_noise_stddev: float = 0.1,
    reconstruction_loss: str = "mse",
    seed: int | None = None,
) -> DenoisingAutoencoder:
    """Report 002 §3's denoising autoencoder: r002_conv_ae trained on noisy inputs (std 0.1) against clean images.

    Args:
        image_size: (int, int). Defaults to (64, 64).
        latent_dim: int. Defaults to 256.
        widths: list of int. Defaults to (32, 64, 128).
        input_noise_stddev: float. Gaussian noise std on [0, 1] inputs, in
            training only. Defaults to 0.1.
        reconstruction_loss: str. Defaults to "mse".
        seed: int or None. Defaults to None.
    """
    encoder, decoder = _conv_ae_trunks(image_size, latent_dim, widths)
    return DenoisingAutoencoder(encoder, decoder, input_noise_stddev=input_noise_stddev,
                                reconstruction_loss=reconstruction_loss, reconstruction_reduction="mean",
                                seed=seed, name="r002_denoising_ae")  # fmt: skip
