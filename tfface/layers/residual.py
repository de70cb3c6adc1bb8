"""The residual trunk family: ResNet blocks (norm → SiLU → conv, twice,
plus a shortcut), strided-conv downsampling, nearest-neighbour upsampling
then conv, and optional self-attention at the lowest resolution — the
autoencoder of latent-diffusion models (CompVis `ldm.modules.diffusionmodules.model`,
diffusers `AutoencoderKL`), with a flat latent head so every tfface sampler
applies.

`ResidualEncoder` and `ResidualDecoder` are siblings of `Encoder` and
`Decoder`: same heads, value ranges and attributes (`latent_dim`, `head`,
`image_shape`, `value_range`), so every model class takes either.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import keras

from tfface.layers.blocks import make_activation, make_norm
from tfface.layers.serialization import Configurable
from tfface.layers.trunks import check_head, latent_head, output_layer, output_value_range
from tfface.value_range import ValueRange


def _apply(x, *layers):
    for layer in layers:
        if layer is not None:
            x = layer(x)
    return x


def _conv(filters: int, name: str, kernel_size: int = 3, strides: int = 1, padding: str = "same"):
    return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, name=name)


def residual_block(x, filters: int, norm: str | None, activation: str | None, name: str):
    """norm → act → conv3×3 → norm → act → conv3×3, added to the input (a
    1×1 conv on the shortcut when the width changes)."""
    h = _apply(x, make_norm(norm, f"{name}_norm1"), make_activation(activation, f"{name}_act1"))
    h = _conv(filters, f"{name}_conv1")(h)
    h = _apply(h, make_norm(norm, f"{name}_norm2"), make_activation(activation, f"{name}_act2"))
    h = _conv(filters, f"{name}_conv2")(h)
    if int(x.shape[-1]) != filters:
        x = _conv(filters, f"{name}_shortcut", kernel_size=1)(x)
    return keras.layers.Add(name=f"{name}_add")([x, h])


def attention_block(x, norm: str | None, name: str):
    """Single-head self-attention over the H·W positions, added to the input."""
    height, width, channels = (int(d) for d in x.shape[1:])
    h = _apply(x, make_norm(norm, f"{name}_norm"))
    h = keras.layers.Reshape((height * width, channels), name=f"{name}_tokens")(h)
    h = keras.layers.MultiHeadAttention(num_heads=1, key_dim=channels, name=f"{name}_mha")(h, h)
    h = keras.layers.Reshape((height, width, channels), name=f"{name}_grid")(h)
    return keras.layers.Add(name=f"{name}_add")([x, h])


def _check_trunk(widths: Sequence[int], blocks_per_level: int, size: Sequence[int]) -> tuple[int, int]:
    if not widths:
        raise ValueError("widths: give at least one level width")
    if int(blocks_per_level) < 0:
        raise ValueError(f"blocks_per_level must be >= 0, got {blocks_per_level}")
    factor = 2 ** len(widths)
    height, width = int(size[0]), int(size[1])
    if height % factor or width % factor:
        raise ValueError(
            f"image size {height}x{width} must be divisible by 2**{len(widths)}={factor} "
            f"for {len(widths)} resolution levels"
        )
    return height // factor, width // factor


@keras.saving.register_keras_serializable(package="tfface")
class ResidualEncoder(Configurable, keras.Model):
    """Residual encoder trunk with a latent head.

    images → conv3×3 (`widths[0]`) → per level: stride-2 conv3×3 to the
    level's width, `blocks_per_level` residual blocks → [self-attention +
    residual block at the lowest resolution] → norm → act → flatten → head.
    Each level halves the resolution.

    Args:
        image_shape: (int, int, int). Image (height, width, channels).
        widths: list of int. Width of each level. Defaults to (32, 64, 128, 256).
        blocks_per_level: int. Residual blocks after each downsampling.
            Defaults to 1.
        latent_dim: int. Size of the latent code. Defaults to 128.
        head: str. "gaussian" or "deterministic". Defaults to "gaussian".
        norm: str or None. "group[:N]", "batch[:momentum]", "layer",
            "instance" or None (see `tfface.layers.make_norm`).
            Defaults to "group:8".
        activation: str. Defaults to "silu".
        attention: bool. Self-attention at the lowest resolution.
            Defaults to False.
        latent_activation: str or None. Activation on `z` for the
            deterministic head. Defaults to None.

    Example:

    >>> encoder = ResidualEncoder(image_shape=(32, 32, 3), widths=[8, 16],
    ...                           latent_dim=4, attention=True)
    >>> z_mean, z_log_var = encoder(np.zeros((2, 32, 32, 3)))
    >>> tuple(z_mean.shape)
    (2, 4)

    Reference:
        Rombach et al., "High-Resolution Image Synthesis with Latent
        Diffusion Models", CVPR 2022 (the autoencoder's trunk).
    """

    renamed = {"input_shape": "image_shape"}

    def __init__(
        self,
        image_shape: Sequence[int] = (64, 64, 3),
        widths: Sequence[int] = (32, 64, 128, 256),
        blocks_per_level: int = 1,
        latent_dim: int = 128,
        head: str = "gaussian",
        norm: str | None = "group:8",
        activation: str | None = "silu",
        attention: bool = False,
        latent_activation: str | None = None,
        **kwargs: Any,
    ):
        check_head(head)
        _check_trunk(widths, blocks_per_level, image_shape)
        widths = [int(w) for w in widths]
        images = keras.Input(shape=tuple(image_shape), name="images")
        x = _conv(widths[0], "enc_conv_in")(images)
        for level, filters in enumerate(widths, start=1):
            x = _conv(filters, f"enc{level}_down", strides=2)(x)
            for block in range(int(blocks_per_level)):
                x = residual_block(x, filters, norm, activation, f"enc{level}_res{block + 1}")
        if attention:
            x = attention_block(x, norm, "enc_mid_attn")
            x = residual_block(x, widths[-1], norm, activation, "enc_mid_res")
        x = _apply(x, make_norm(norm, "enc_norm_out"), make_activation(activation, "enc_act_out"))
        x = keras.layers.Flatten(name="flatten")(x)
        outputs = latent_head(x, latent_dim, head, latent_activation)
        super().__init__(inputs=images, outputs=outputs, **kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.widths = widths
        self.blocks_per_level = int(blocks_per_level)
        self.latent_dim = int(latent_dim)
        self.head = head
        self.norm = norm
        self.activation = activation
        self.attention = bool(attention)
        self.latent_activation = latent_activation

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "image_shape": list(self.image_shape),
            "widths": self.widths,
            "blocks_per_level": self.blocks_per_level,
            "latent_dim": self.latent_dim,
            "head": self.head,
            "norm": self.norm,
            "activation": self.activation,
            "attention": self.attention,
            "latent_activation": self.latent_activation,
        })
        return config


@keras.saving.register_keras_serializable(package="tfface")
class ResidualDecoder(Configurable, keras.Model):
    """Residual decoder trunk, the mirror of `ResidualEncoder`.

    z → dense → reshape to (H/2^L, W/2^L, `widths[-1]`) → [residual block +
    self-attention] → per level, from the last width to the first:
    `blocks_per_level` residual blocks, then nearest-neighbour ×2 upsampling
    and a conv3×3 to the next level's width → norm → act → ×2 upsampling →
    conv3×3 to the image channels → output activation (float32).

    Args:
        latent_dim: int. Size of the latent code. Defaults to 128.
        image_shape: (int, int, int). Image shape. Defaults to (64, 64, 3).
        widths: list of int. Level widths, as given to the encoder (the
            decoder runs them in reverse). Defaults to (32, 64, 128, 256).
        blocks_per_level: int. Residual blocks per level. Defaults to 1.
        norm: str or None. As for `ResidualEncoder`. Defaults to "group:8".
        activation: str. Defaults to "silu".
        attention: bool. Self-attention at the lowest resolution.
            Defaults to False.
        output_activation: str or None. "sigmoid" ([0, 1] images), "tanh"
            ([-1, 1]) or None. Defaults to "sigmoid".
        value_range: str or None. "0_1" or "-1_1"; inferred from
            `output_activation` when None.

    Example:

    >>> decoder = ResidualDecoder(latent_dim=4, image_shape=(32, 32, 3),
    ...                           widths=[8, 16])
    >>> tuple(decoder(np.zeros((2, 4))).shape)
    (2, 32, 32, 3)
    """

    renamed = {"output_shape": "image_shape"}

    def __init__(
        self,
        latent_dim: int = 128,
        image_shape: Sequence[int] = (64, 64, 3),
        widths: Sequence[int] = (32, 64, 128, 256),
        blocks_per_level: int = 1,
        norm: str | None = "group:8",
        activation: str | None = "silu",
        attention: bool = False,
        output_activation: str | None = "sigmoid",
        value_range: str | ValueRange | None = None,
        **kwargs: Any,
    ):
        value_range = output_value_range(output_activation, value_range)
        height, width = _check_trunk(widths, blocks_per_level, image_shape)
        widths = [int(w) for w in widths]
        start_shape = (height, width, widths[-1])
        z = keras.Input(shape=(int(latent_dim),), name="z")
        x = keras.layers.Dense(math.prod(start_shape), name="dec_project")(z)
        x = keras.layers.Reshape(start_shape, name="dec_reshape")(x)
        if attention:
            x = residual_block(x, widths[-1], norm, activation, "dec_mid_res")
            x = attention_block(x, norm, "dec_mid_attn")
        levels = list(reversed(widths))
        for level, filters in enumerate(levels, start=1):
            for block in range(int(blocks_per_level)):
                x = residual_block(x, filters, norm, activation, f"dec{level}_res{block + 1}")
            if level < len(levels):
                x = keras.layers.UpSampling2D(2, interpolation="nearest", name=f"dec{level}_up")(x)
                x = _conv(levels[level], f"dec{level}_up_conv")(x)
        # The last upsampling feeds the output conv directly: no full-resolution
        # feature maps, the costliest layers on a CPU.
        x = _apply(x, make_norm(norm, "dec_norm_out"), make_activation(activation, "dec_act_out"))
        x = keras.layers.UpSampling2D(2, interpolation="nearest", name="dec_up_out")(x)
        x = _conv(int(image_shape[-1]), "dec_conv_out")(x)
        x = output_layer(x, output_activation, image_shape)
        super().__init__(inputs=z, outputs=x, **kwargs)
        self.latent_dim = int(latent_dim)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.widths = widths
        self.blocks_per_level = int(blocks_per_level)
        self.norm = norm
        self.activation = activation
        self.attention = bool(attention)
        self.output_activation = output_activation
        self.value_range = value_range

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "latent_dim": self.latent_dim,
            "image_shape": list(self.image_shape),
            "widths": self.widths,
            "blocks_per_level": self.blocks_per_level,
            "norm": self.norm,
            "activation": self.activation,
            "attention": self.attention,
            "output_activation": self.output_activation,
            "value_range": self.value_range.value,
        })
        return config


def residual_trunks(
    image_size: Sequence[int],
    widths: Sequence[int],
    latent_dim: int,
    *,
    head: str = "gaussian",
    blocks_per_level: int = 1,
    norm: str | None = "group:8",
    activation: str | None = "silu",
    attention: bool = False,
    output_activation: str = "sigmoid",
    channels: int = 3,
) -> tuple[ResidualEncoder, ResidualDecoder]:
    """A `ResidualEncoder` and its mirror `ResidualDecoder`.

    Example:

    >>> enc, dec = residual_trunks((32, 32), [8, 16], latent_dim=4)
    >>> enc.output_shape[0], dec.output_shape
    ((None, 4), (None, 32, 32, 3))
    """
    shape = (int(image_size[0]), int(image_size[1]), int(channels))
    common = {"widths": widths, "blocks_per_level": blocks_per_level, "norm": norm,
              "activation": activation, "attention": attention}  # fmt: skip
    encoder = ResidualEncoder(image_shape=shape, latent_dim=latent_dim, head=head, name="encoder", **common)
    decoder = ResidualDecoder(
        latent_dim=latent_dim, image_shape=shape, output_activation=output_activation, name="decoder", **common
    )
    return encoder, decoder
