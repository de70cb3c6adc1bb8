"""Report 000 (CelebA autoencoders, §3.3 "Final Model Architectures", §4
"Training", §5): Models 1-4, and the attribute-classifier pre-training of
the encoders of Models 1 and 3.

- Model 1 (64×64): six 3×3 convs (padding 1) 8 → 256 with ReLU and 2×2 max
  pooling down to 1×1, two linear layers, a 40-d sigmoid latent = the 40
  CelebA attributes (pre-trained as a classifier); decoder symmetric with
  4×4 stride-2 transposed convs (padding 1), sigmoid output.
- Model 2 (64×64): five 3×3 stride-2 convs *without padding* 16 → 256
  (64 → 31 → 15 → 7 → 3 → 1), latent 84; a longer decoder: one more linear
  and one more transposed-conv layer than Model 1's, channels 512 → 16;
  ReLU, sigmoid output.
- Model 3 (128×128): seven stride-2 convs 8 → 512 (5×5 padding 2 for the
  first three, 3×3 padding 1 after), ReLU, two linear layers, the 40-d
  sigmoid attribute latent from a pre-trained classifier that stays
  **frozen** while the decoder trains; the decoder mirrors it with LeakyReLU.
- Model 4 (128×128): six 3×3 convs (padding 1) 16 → 512 to 2×2, batch norm
  + LeakyReLU after each, latent 128; a decoder of seven layers up to 1024
  channels (`wide_decoder=True`, the report's option) or the plain mirror.
- Recipe: CelebA's official splits in [0, 1]; classifier pre-training with
  BCE over the 40 attributes, per-label accuracy reported, lr 0.0005
  (Model 1) and 0.0003 (Model 3), at most 30 epochs; autoencoders with BCE
  reconstruction, batch 128, lr 0.001 / 0.00065 / 0.0005 / 0.00045,
  100 epochs (Model 3: 25, it converged by epoch 10).

Every number the report states, beside where tfface sets it, and every
choice made where it is silent: docs/reports.md, report 000. Generation
uses the report's "mean and standard deviation" of the codes: the
`diagonal` sampler is these presets' default (`SAMPLER`).

Two stages for Models 1 and 3: `tfface train` the `_classifier` config, then
the autoencoder config, whose `model.args.encoder_from` names the classifier
run folder (or a `.keras` file); its encoder weights are copied in.
Without `encoder_from` the encoder starts from random weights.

Ambiguities resolved (the report describes layers, not code):

- PyTorch conventions are assumed (the report speaks of linear layers and
  explicit padding): explicit paddings on convs and transposed convs,
  LeakyReLU slope 0.01, batch-norm momentum 0.9 (PyTorch's 0.1).
- Model 1's two linear layers: flatten (256) → 256 (ReLU) → 40 (sigmoid);
  Model 3's: flatten (512) → 512 → 40. The decoders mirror them: dense 256
  (512) → dense to 1×1×256 (1×1×512), both ReLU (LeakyReLU for Model 3).
- Model 1 max-pools after every conv (6 pools: 64 → 1); its transposed
  convs output 128, 64, 32, 16, 8, 3.
- Model 2's latent is linear; its decoder is dense 256 → dense 512 → dense
  to 1×1×512 (three linear layers), then seven transposed convs: six 4×4
  stride 2 padding 1 (512, 256, 128, 64, 32, 16; 1 → 64) and a 3×3 stride-1
  padding-1 one to 3 channels.
- Model 3's transposed convs mirror the encoder's kernels (3×3 padding 1
  for the first four, 5×5 padding 2 for the last three) with output padding
  1, which makes each exactly double the size (PyTorch's idiom).
- Model 4 downsamples with stride 2 (the report's preference for larger
  inputs; "the same filter and padding sizes as Model 1"), has a linear
  latent, and its wide decoder is dense → 2×2×1024 → six 4×4 stride-2
  transposed convs (512 … 16) with batch norm + LeakyReLU → a 3×3 stride-1
  transposed conv to 3 channels.
- Reconstruction BCE is averaged over pixels (PyTorch's `BCELoss()`, which
  gives the report's validation losses of about 0.5).
- Preprocessing: CelebA's aligned 178×218 images centre-cropped to a square
  and resized (torchvision's `Resize` + `CenterCrop` idiom); not stated.
"""

from __future__ import annotations

from typing import Sequence

from tfface.data.celeba_attributes import CELEBA_ATTRIBUTES
from tfface.layers import Decoder, Encoder
from tfface.models import AttributeClassifier, Autoencoder, load_encoder_weights
from tfface.presets import register_preset

NUM_ATTRIBUTES = 40
LEAKY = "leaky_relu:0.01"  # PyTorch's default slope


# The report generates from "the mean and standard deviation" of the encoder
# outputs (§5.3): a diagonal Gaussian fitted on the training codes.
SAMPLER = "diagonal"


def _recipe(learning_rate: float, epochs: int) -> dict:
    return {"loss": "bce", "optimizer": "adam", "learning_rate": learning_rate, "batch_size": 128, "epochs": epochs}


def _square(image_size: Sequence[int], size: int, name: str) -> tuple[int, int, int]:
    if tuple(int(n) for n in image_size) != (size, size):
        raise ValueError(
            f"{name}: the architecture downsamples {size}x{size} to its bottleneck; got {tuple(image_size)}"
        )
    return (size, size, 3)


def model1_encoder(image_size: Sequence[int] = (64, 64)) -> Encoder:
    """Model 1's classifier encoder: 6 × (3×3 conv pad 1, ReLU, 2×2 max pool) 8-256, dense 256, 40 sigmoid."""
    return Encoder(
        image_shape=_square(image_size, 64, "r000 model 1"),
        blocks=[8, 16, 32, 64, 128, 256],
        latent_dim=NUM_ATTRIBUTES,
        head="deterministic",
        dense_units=[256],
        kernel_size=3,
        padding=1,
        pool="max",
        latent_activation="sigmoid",
        name="encoder",
    )


def model3_encoder(image_size: Sequence[int] = (128, 128)) -> Encoder:
    """Model 3's classifier encoder: 7 stride-2 convs 8-512 (5×5 pad 2, then 3×3 pad 1), ReLU, dense 512, 40 sigmoid."""
    widths = [8, 16, 32, 64, 128, 256, 512]
    blocks = [
        {"filters": w, "kernel_size": 5 if i < 3 else 3, "padding": 2 if i < 3 else 1} for i, w in enumerate(widths)
    ]
    return Encoder(
        image_shape=_square(image_size, 128, "r000 model 3"),
        blocks=blocks,
        latent_dim=NUM_ATTRIBUTES,
        head="deterministic",
        dense_units=[512],
        strides=2,
        latent_activation="sigmoid",
        name="encoder",
    )


def _classifier_encoder(encoder: Encoder, encoder_from: str | None, classifier: str) -> Encoder:
    if encoder_from:
        hint = f"train the classifier first: tfface train --config pipelines/{classifier}.toml"
        load_encoder_weights(encoder, encoder_from, hint=hint)
    return encoder


def _autoencoder(encoder, decoder, name: str, reconstruction_loss: str, freeze_encoder: bool, seed) -> Autoencoder:
    return Autoencoder(
        encoder,
        decoder,
        reconstruction_loss=reconstruction_loss,
        reconstruction_reduction="mean",
        freeze_encoder=freeze_encoder,
        seed=seed,
        name=name,
    )


# ------------------------------------------------------------------ Model 1


@register_preset(
    "r000_model1_classifier",
    image_size=(64, 64),
    report="000 §3.3.1, §5.1 (pre-training)",
    recipe=_recipe(5e-4, 30),
)
def r000_model1_classifier(image_size: Sequence[int] = (64, 64)) -> AttributeClassifier:
    """Report 000 Model 1's encoder as a 40-attribute classifier (BCE, per-label accuracy), 64x64.

    Stage 1 of Model 1: `pipelines/r000_model1_classifier.toml`. See the
    module docstring for the architecture and the ambiguities resolved.

    Args:
        image_size: (int, int). Must be (64, 64). Defaults to (64, 64).
    """
    return AttributeClassifier(model1_encoder(image_size), CELEBA_ATTRIBUTES, name="r000_model1_classifier")


@register_preset(
    "r000_model1", image_size=(64, 64), report="000 §3.3.1", recipe=_recipe(1e-3, 100), sampler=SAMPLER
)
def r000_model1(
    image_size: Sequence[int] = (64, 64),
    encoder_from: str | None = None,
    freeze_encoder: bool = False,
    reconstruction_loss: str = "bce",
    seed: int | None = None,
) -> Autoencoder:
    """Report 000 Model 1: the attribute-classifier encoder (latent 40, sigmoid), a symmetric 4x4 transposed-conv decoder, BCE.

    Args:
        image_size: (int, int). Must be (64, 64). Defaults to (64, 64).
        encoder_from: str or None. Run folder or `.keras` file of the
            pre-trained `r000_model1_classifier`; its encoder weights are
            copied in. None: random initial weights. Defaults to None.
        freeze_encoder: bool. Train the decoder only. Defaults to False
            (the report fine-tunes Model 1's encoder).
        reconstruction_loss: str. Defaults to "bce".
        seed: int or None. Defaults to None.
    """
    encoder = _classifier_encoder(model1_encoder(image_size), encoder_from, "r000_model1_classifier")
    decoder = Decoder(
        latent_dim=NUM_ATTRIBUTES,
        image_shape=(64, 64, 3),
        start_shape=(1, 1, 256),
        blocks=[128, 64, 32, 16, 8, {"filters": 3, "activation": None}],
        dense_units=[256],
        projection_activation="relu",
        kernel_size=4,
        strides=2,
        padding=1,
        transpose=True,
        output_activation="sigmoid",
        name="decoder",
    )
    return _autoencoder(encoder, decoder, "r000_model1", reconstruction_loss, freeze_encoder, seed)


# ------------------------------------------------------------------ Model 2


@register_preset(
    "r000_model2", image_size=(64, 64), report="000 §3.3.2", recipe=_recipe(6.5e-4, 100), sampler=SAMPLER
)
def r000_model2(
    image_size: Sequence[int] = (64, 64),
    latent_dim: int = 84,
    reconstruction_loss: str = "bce",
    seed: int | None = None,
) -> Autoencoder:
    """Report 000 Model 2: five unpadded 3x3 stride-2 convs 16-256, latent 84, a longer decoder (3 linear, 7 transposed convs 512-16), BCE.

    Args:
        image_size: (int, int). Must be (64, 64). Defaults to (64, 64).
        latent_dim: int. Defaults to 84.
        reconstruction_loss: str. Defaults to "bce".
        seed: int or None. Defaults to None.
    """
    encoder = Encoder(
        image_shape=_square(image_size, 64, "r000_model2"),
        blocks=[16, 32, 64, 128, 256],
        latent_dim=latent_dim,
        head="deterministic",
        kernel_size=3,
        strides=2,
        padding="valid",
        name="encoder",
    )
    decoder = Decoder(
        latent_dim=latent_dim,
        image_shape=(64, 64, 3),
        start_shape=(1, 1, 512),
        blocks=[512, 256, 128, 64, 32, 16, {"filters": 3, "kernel_size": 3, "strides": 1, "activation": None}],
        dense_units=[256, 512],
        projection_activation="relu",
        kernel_size=4,
        strides=2,
        padding=1,
        transpose=True,
        output_activation="sigmoid",
        name="decoder",
    )
    return _autoencoder(encoder, decoder, "r000_model2", reconstruction_loss, False, seed)


# ------------------------------------------------------------------ Model 3


@register_preset(
    "r000_model3_classifier",
    image_size=(128, 128),
    report="000 §3.3.3, §5.1 (pre-training)",
    recipe=_recipe(3e-4, 30),
)
def r000_model3_classifier(image_size: Sequence[int] = (128, 128)) -> AttributeClassifier:
    """Report 000 Model 3's encoder as a 40-attribute classifier (BCE, per-label accuracy), 128x128.

    Stage 1 of Model 3: `pipelines/r000_model3_classifier.toml`.

    Args:
        image_size: (int, int). Must be (128, 128). Defaults to (128, 128).
    """
    return AttributeClassifier(model3_encoder(image_size), CELEBA_ATTRIBUTES, name="r000_model3_classifier")


@register_preset(
    "r000_model3", image_size=(128, 128), report="000 §3.3.3", recipe=_recipe(5e-4, 25), sampler=SAMPLER
)
def r000_model3(
    image_size: Sequence[int] = (128, 128),
    encoder_from: str | None = None,
    freeze_encoder: bool = True,
    reconstruction_loss: str = "bce",
    seed: int | None = None,
) -> Autoencoder:
    """Report 000 Model 3: the frozen attribute-classifier encoder (latent 40), a mirrored LeakyReLU decoder, BCE, 128x128.

    Args:
        image_size: (int, int). Must be (128, 128). Defaults to (128, 128).
        encoder_from: str or None. Run folder or `.keras` file of the
            pre-trained `r000_model3_classifier`. Defaults to None.
        freeze_encoder: bool. Keep the encoder's weights fixed (the
            report's choice). Defaults to True.
        reconstruction_loss: str. Defaults to "bce".
        seed: int or None. Defaults to None.
    """
    encoder = _classifier_encoder(model3_encoder(image_size), encoder_from, "r000_model3_classifier")
    small = {"kernel_size": 3, "padding": 1, "output_padding": 1}
    large = {"kernel_size": 5, "padding": 2, "output_padding": 1}
    blocks = [{"filters": w, **small} for w in (256, 128, 64, 32)]
    blocks += [{"filters": 16, **large}, {"filters": 8, **large}, {"filters": 3, "activation": None, **large}]
    decoder = Decoder(
        latent_dim=NUM_ATTRIBUTES,
        image_shape=(128, 128, 3),
        start_shape=(1, 1, 512),
        blocks=blocks,
        dense_units=[512],
        projection_activation=LEAKY,
        strides=2,
        transpose=True,
        activation=LEAKY,
        dense_activation=LEAKY,
        output_activation="sigmoid",
        name="decoder",
    )
    return _autoencoder(encoder, decoder, "r000_model3", reconstruction_loss, freeze_encoder, seed)


# ------------------------------------------------------------------ Model 4


@register_preset(
    "r000_model4", image_size=(128, 128), report="000 §3.3.4", recipe=_recipe(4.5e-4, 100), sampler=SAMPLER
)
def r000_model4(
    image_size: Sequence[int] = (128, 128),
    latent_dim: int = 128,
    wide_decoder: bool = True,
    reconstruction_loss: str = "bce",
    seed: int | None = None,
) -> Autoencoder:
    """Report 000 Model 4: six 3x3 stride-2 convs 16-512 to 2x2 with BN + LeakyReLU, latent 128, a 7-layer decoder up to 1024 channels, BCE.

    Args:
        image_size: (int, int). Must be (128, 128). Defaults to (128, 128).
        latent_dim: int. Defaults to 128.
        wide_decoder: bool. The report's seven-layer decoder from 1024
            channels; False mirrors the encoder (six layers from 512).
            Defaults to True.
        reconstruction_loss: str. Defaults to "bce".
        seed: int or None. Defaults to None.
    """
    widths = [16, 32, 64, 128, 256, 512]
    encoder = Encoder(
        image_shape=_square(image_size, 128, "r000_model4"),
        blocks=widths,
        latent_dim=latent_dim,
        head="deterministic",
        kernel_size=3,
        strides=2,
        padding=1,
        norm="batch",
        activation=LEAKY,
        name="encoder",
    )
    if wide_decoder:
        start, blocks = (2, 2, 1024), [512, 256, 128, 64, 32, 16]
        blocks.append({"filters": 3, "kernel_size": 3, "strides": 1, "norm": None, "activation": None})
    else:
        start, blocks = (2, 2, 512), [256, 128, 64, 32, 16, {"filters": 3, "norm": None, "activation": None}]
    decoder = Decoder(
        latent_dim=latent_dim,
        image_shape=(128, 128, 3),
        start_shape=start,
        blocks=blocks,
        projection_activation=LEAKY,
        kernel_size=4,
        strides=2,
        padding=1,
        transpose=True,
        norm="batch",
        activation=LEAKY,
        output_activation="sigmoid",
        name="decoder",
    )
    return _autoencoder(encoder, decoder, "r000_model4", reconstruction_loss, False, seed)
