"""The encoder and decoder trunks every preset is built from.

Presets differ only in the arguments given here (blocks, widths, norms,
activations, heads), never in copied model code.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import keras

from tfface.layers.blocks import BLOCK_KEYS, conv_block, dense_block, make_activation, resolve_block
from tfface.layers.serialization import Configurable
from tfface.value_range import ValueRange

HEADS = ("gaussian", "deterministic")
OUTPUT_RANGES = {"sigmoid": ValueRange.ZERO_ONE, "tanh": ValueRange.MINUS_ONE_ONE}


def _block_defaults(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if k in BLOCK_KEYS and v is not None}


def _as_list(blocks: Sequence[Any]) -> list:
    return [dict(b) if isinstance(b, Mapping) else int(b) for b in blocks]


def check_head(head: str) -> None:
    """Raises ValueError unless `head` is one of `HEADS`."""
    if head not in HEADS:
        raise ValueError(f"head must be one of {HEADS}, got {head!r}")


def latent_head(x, latent_dim: int, head: str, latent_activation: str | None = None):
    """The encoder's latent head on a flat feature tensor: `[z_mean,
    z_log_var]` (Gaussian) or `z` (deterministic, optionally activated).
    Computed in float32: the posterior and KL need full precision."""
    check_head(head)
    if head == "gaussian":
        z_mean = keras.layers.Dense(latent_dim, name="z_mean", dtype="float32")(x)
        z_log_var = keras.layers.Dense(latent_dim, name="z_log_var", dtype="float32")(x)
        return [z_mean, z_log_var]
    z = keras.layers.Dense(latent_dim, name="z", dtype="float32")(x)
    act = make_activation(latent_activation, "z_act")
    if act is not None:
        act.dtype_policy = keras.DTypePolicy("float32")
        z = act(z)
    return z


def output_value_range(output_activation: str | None, value_range: str | ValueRange | None) -> ValueRange:
    """The decoder's value range: given, or implied by its output activation."""
    if value_range is None:
        value_range = OUTPUT_RANGES.get(output_activation or "")
        if value_range is None:
            raise ValueError(
                f"output_activation={output_activation!r} does not bound the output; "
                "pass value_range='0_1' or '-1_1'"
            )
    return ValueRange.parse(value_range)


def output_layer(x, output_activation: str | None, image_shape: Sequence[int]):
    """The decoder's float32 output activation, checking the image shape."""
    out_act = make_activation(output_activation, "output") or keras.layers.Identity(name="output")
    out_act.dtype_policy = keras.DTypePolicy("float32")
    x = out_act(x)
    produced = tuple(int(d) for d in x.shape[1:])
    if produced != tuple(image_shape):
        raise ValueError(
            f"decoder blocks produce images of shape {produced} but image_shape is "
            f"{tuple(image_shape)}; adjust start_shape, strides or the last block's filters"
        )
    return x


@keras.saving.register_keras_serializable(package="tfface")
class Encoder(Configurable, keras.Model):
    """Convolutional (or fully connected) encoder trunk with a latent head.

    Images → conv blocks → flatten → dense blocks → head. The Gaussian head
    returns `[z_mean, z_log_var]`; the deterministic head returns `z`.

    Args:
        image_shape: (int, int, int). Image (height, width, channels).
            (Configs of older versions call it `input_shape`.)
        blocks: list of dict or int. Conv block specs (see
            `tfface.layers.blocks`), applied in order. Empty for a purely
            fully connected encoder. Defaults to ().
        latent_dim: int. Size of the latent code. Defaults to 64.
        head: str. "gaussian" or "deterministic". Defaults to "gaussian".
        dense_units: list of int. Hidden dense layers after flattening.
            Defaults to ().
        kernel_size, strides, padding, norm, activation, pool: defaults for
            every block that does not set them.
        dense_norm: str or None. Norm after hidden dense layers.
        dense_activation: str or None. Activation of hidden dense layers.
            Defaults to "relu".
        latent_activation: str or None. Activation on `z` for the
            deterministic head (report 000 uses "sigmoid"). Defaults to None.

    Example:

    >>> encoder = Encoder(image_shape=(32, 32, 3), blocks=[16, 32],
    ...                   strides=2, latent_dim=8)
    >>> z_mean, z_log_var = encoder(np.zeros((2, 32, 32, 3)))
    >>> tuple(z_mean.shape)
    (2, 8)
    """

    renamed = {"input_shape": "image_shape"}

    def __init__(
        self,
        image_shape: Sequence[int] = (64, 64, 3),
        blocks: Sequence[Any] = (),
        latent_dim: int = 64,
        head: str = "gaussian",
        dense_units: Sequence[int] = (),
        kernel_size: int | None = None,
        strides: int | None = None,
        padding: str | int | None = None,
        norm: str | None = None,
        activation: str | None = "relu",
        pool: str | None = None,
        dense_norm: str | None = None,
        dense_activation: str | None = "relu",
        latent_activation: str | None = None,
        **kwargs: Any,
    ):
        check_head(head)
        defaults = _block_defaults(
            kernel_size=kernel_size, strides=strides, padding=padding, norm=norm, pool=pool
        )
        defaults["activation"] = activation
        images = keras.Input(shape=tuple(image_shape), name="images")
        x = images
        for i, spec in enumerate(blocks):
            x = conv_block(x, resolve_block(spec, defaults), name=f"enc{i + 1}")
        x = keras.layers.Flatten(name="flatten")(x)
        for j, units in enumerate(dense_units):
            x = dense_block(x, units, dense_norm, dense_activation, name=f"enc_fc{j + 1}")
        outputs = latent_head(x, latent_dim, head, latent_activation)
        super().__init__(inputs=images, outputs=outputs, **kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.blocks = _as_list(blocks)
        self.latent_dim = int(latent_dim)
        self.head = head
        self.dense_units = [int(u) for u in dense_units]
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.norm = norm
        self.activation = activation
        self.pool = pool
        self.dense_norm = dense_norm
        self.dense_activation = dense_activation
        self.latent_activation = latent_activation

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "image_shape": list(self.image_shape),
            "blocks": self.blocks,
            "latent_dim": self.latent_dim,
            "head": self.head,
            "dense_units": self.dense_units,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "norm": self.norm,
            "activation": self.activation,
            "pool": self.pool,
            "dense_norm": self.dense_norm,
            "dense_activation": self.dense_activation,
            "latent_activation": self.latent_activation,
        })
        return config


@keras.saving.register_keras_serializable(package="tfface")
class Decoder(Configurable, keras.Model):
    """Decoder trunk: latent → dense → reshape → conv blocks → output.

    Args:
        latent_dim: int. Size of the latent code. Defaults to 64.
        image_shape: (int, int, int). Image shape the last block must
            produce; a mismatch is an error at construction naming both.
            (Configs of older versions call it `output_shape`.)
        start_shape: (int, int, int). Shape the projection is reshaped to.
            Defaults to (4, 4, 256).
        blocks: list of dict or int. Block specs; the last one usually has
            `filters=3` (the image channels). Defaults to ().
        dense_units: list of int. Hidden dense layers before the projection.
        projection_activation: str or None. Activation after the projection
            dense layer. Defaults to None.
        kernel_size, strides, padding, norm, activation, transpose, upsample:
            defaults for every block that does not set them.
        dense_norm, dense_activation: norm and activation of hidden dense layers.
        output_activation: str or None. "sigmoid" ([0, 1] images), "tanh"
            ([-1, 1]) or None. Computed in float32. Defaults to "sigmoid".
        value_range: str or None. "0_1" or "-1_1"; inferred from
            `output_activation` when None, else required.

    Example:

    >>> decoder = Decoder(latent_dim=8, image_shape=(32, 32, 3),
    ...                   start_shape=(8, 8, 32), strides=2, transpose=True,
    ...                   blocks=[16, {"filters": 3, "activation": None}])
    >>> tuple(decoder(np.zeros((2, 8))).shape)
    (2, 32, 32, 3)
    """

    renamed = {"output_shape": "image_shape"}

    def __init__(
        self,
        latent_dim: int = 64,
        image_shape: Sequence[int] = (64, 64, 3),
        start_shape: Sequence[int] = (4, 4, 256),
        blocks: Sequence[Any] = (),
        dense_units: Sequence[int] = (),
        projection_activation: str | None = None,
        kernel_size: int | None = None,
        strides: int | None = None,
        padding: str | int | None = None,
        norm: str | None = None,
        activation: str | None = "relu",
        transpose: bool | None = None,
        upsample: int | None = None,
        dense_norm: str | None = None,
        dense_activation: str | None = "relu",
        output_activation: str | None = "sigmoid",
        value_range: str | ValueRange | None = None,
        **kwargs: Any,
    ):
        value_range = output_value_range(output_activation, value_range)
        defaults = _block_defaults(
            kernel_size=kernel_size,
            strides=strides,
            padding=padding,
            norm=norm,
            transpose=transpose,
            upsample=upsample,
        )
        defaults["activation"] = activation
        z = keras.Input(shape=(latent_dim,), name="z")
        x = z
        for j, units in enumerate(dense_units):
            x = dense_block(x, units, dense_norm, dense_activation, name=f"dec_fc{j + 1}")
        x = dense_block(x, math.prod(start_shape), None, projection_activation, name="dec_project")
        x = keras.layers.Reshape(tuple(start_shape), name="dec_reshape")(x)
        for i, spec in enumerate(blocks):
            x = conv_block(x, resolve_block(spec, defaults), name=f"dec{i + 1}")
        x = output_layer(x, output_activation, image_shape)
        super().__init__(inputs=z, outputs=x, **kwargs)
        self.latent_dim = int(latent_dim)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.start_shape = tuple(int(d) for d in start_shape)
        self.blocks = _as_list(blocks)
        self.dense_units = [int(u) for u in dense_units]
        self.projection_activation = projection_activation
        self.kernel_size = kernel_size
        self.strides = strides
        self.padding = padding
        self.norm = norm
        self.activation = activation
        self.transpose = transpose
        self.upsample = upsample
        self.dense_norm = dense_norm
        self.dense_activation = dense_activation
        self.output_activation = output_activation
        self.value_range = value_range

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({
            "latent_dim": self.latent_dim,
            "image_shape": list(self.image_shape),
            "start_shape": list(self.start_shape),
            "blocks": self.blocks,
            "dense_units": self.dense_units,
            "projection_activation": self.projection_activation,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "norm": self.norm,
            "activation": self.activation,
            "transpose": self.transpose,
            "upsample": self.upsample,
            "dense_norm": self.dense_norm,
            "dense_activation": self.dense_activation,
            "output_activation": self.output_activation,
            "value_range": self.value_range.value,
        })
        return config


def symmetric_trunks(
    image_size: Sequence[int],
    widths: Sequence[int],
    latent_dim: int,
    *,
    head: str = "gaussian",
    kernel_size: int = 4,
    norm: str | None = "batch",
    activation: str | None = "leaky_relu",
    output_activation: str = "sigmoid",
    channels: int = 3,
    encoder_dense_units: Sequence[int] = (),
    decoder_dense_units: Sequence[int] = (),
) -> tuple[Encoder, Decoder]:
    """A stride-2 conv encoder and its mirror-image transposed-conv decoder.

    Each width halves the resolution (so height and width must be divisible
    by 2**len(widths)); the decoder retraces the widths in reverse and ends
    with a transposed conv to `channels` and `output_activation`.

    Example:

    >>> enc, dec = symmetric_trunks((32, 32), [16, 32], latent_dim=8)
    >>> enc.output_shape[0], dec.output_shape
    ((None, 8), (None, 32, 32, 3))
    """
    height, width = int(image_size[0]), int(image_size[1])
    factor = 2 ** len(widths)
    if height % factor or width % factor:
        raise ValueError(
            f"image_size {height}x{width} must be divisible by 2**{len(widths)}={factor} "
            f"for {len(widths)} stride-2 blocks"
        )
    widths = [int(w) for w in widths]
    encoder = Encoder(
        image_shape=(height, width, channels),
        blocks=widths,
        latent_dim=latent_dim,
        head=head,
        dense_units=encoder_dense_units,
        kernel_size=kernel_size,
        strides=2,
        norm=norm,
        activation=activation,
        dense_activation=activation,
        name="encoder",
    )
    decoder_blocks: list[Any] = list(reversed(widths[:-1])) + [
        {"filters": channels, "norm": None, "activation": None}
    ]
    decoder = Decoder(
        latent_dim=latent_dim,
        image_shape=(height, width, channels),
        start_shape=(height // factor, width // factor, widths[-1]),
        blocks=decoder_blocks,
        dense_units=decoder_dense_units,
        kernel_size=kernel_size,
        strides=2,
        transpose=True,
        norm=norm,
        activation=activation,
        dense_activation=activation,
        output_activation=output_activation,
        name="decoder",
    )
    return encoder, decoder
