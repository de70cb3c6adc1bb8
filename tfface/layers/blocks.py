"""Convolution blocks: the one place where conv, norm, activation, pooling
and upsampling are put together. Trunks call `conv_block` per block spec.

A block spec is a dict (JSON-serialisable, so it round-trips through
`get_config`) with any of these keys; missing keys take trunk defaults:

- filters: int. Output channels.
- kernel_size: int. Defaults to 3.
- strides: int. Defaults to 1.
- padding: "same", "valid" or an int of explicit zero padding (PyTorch's
  `padding=p`). On a transposed conv an int crops `p` pixels from each side
  of the full ("valid") output, as PyTorch's `ConvTranspose2d(padding=p)`:
  size (n - 1)·s + k - 2p (+ output_padding). Defaults to "same".
- output_padding: int. Transposed convs with an int padding only: extra rows
  and columns at the bottom/right, PyTorch's `output_padding` (< strides).
  Defaults to 0.
- transpose: bool. Transposed convolution (upsampling by `strides`).
- norm: None, "batch" (momentum 0.9; "batch:0.99" for another), "instance"
  ("instance:noaffine" without scale and offset, PyTorch's default), "layer"
  or "group[:N]"; None or "none" for no norm. Applied after the conv.
- activation: activation name, "leaky_relu" (slope 0.2) or
  "leaky_relu:0.01" for another slope; None for linear.
- pool: None, "max" or "avg": 2×2 pooling after the activation.
- upsample: int. Nearest-neighbour upsampling factor after the activation.
- use_bias: bool. Defaults to True.
- spectral_norm: bool. Wrap a (non-transposed) conv in
  `keras.layers.SpectralNormalization` (one power iteration per training
  call). Defaults to False.
"""

from __future__ import annotations

from typing import Any, Mapping

import keras

from tfface.layers.norm import FusedBatchNormalization

BLOCK_KEYS = (
    "filters",
    "kernel_size",
    "strides",
    "padding",
    "output_padding",
    "transpose",
    "norm",
    "activation",
    "pool",
    "upsample",
    "use_bias",
    "spectral_norm",
)

BLOCK_DEFAULTS: dict[str, Any] = {
    "kernel_size": 3,
    "strides": 1,
    "padding": "same",
    "output_padding": 0,
    "transpose": False,
    "norm": None,
    "activation": "relu",
    "pool": None,
    "upsample": 1,
    "use_bias": True,
    "spectral_norm": False,
}


def resolve_block(spec: int | Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Merges a block spec (or a bare filter count) over trunk defaults."""
    if isinstance(spec, int):
        spec = {"filters": spec}
    unknown = set(spec) - set(BLOCK_KEYS)
    if unknown:
        raise ValueError(f"unknown block key(s) {sorted(unknown)}; known: {', '.join(BLOCK_KEYS)}")
    merged = {**BLOCK_DEFAULTS, **{k: v for k, v in defaults.items() if k in BLOCK_KEYS}, **spec}
    if "filters" not in merged:
        raise ValueError(f"block spec {dict(spec)} has no 'filters'")
    return merged


def make_activation(name: str | None, layer_name: str | None = None) -> keras.layers.Layer | None:
    """An activation layer from a name; "leaky_relu:0.01" sets the slope."""
    if name is None or name == "linear":
        return None
    if name.startswith("leaky_relu"):
        slope = float(name.split(":", 1)[1]) if ":" in name else 0.2
        return keras.layers.LeakyReLU(negative_slope=slope, name=layer_name)
    return keras.layers.Activation(name, name=layer_name)


def make_norm(kind: str | None, layer_name: str | None = None) -> keras.layers.Layer | None:
    """A normalisation layer: batch, instance (per-sample, per-channel), layer, group."""
    if kind is None or kind == "none":  # "none": what a TOML file (no null) writes for None
        return None
    if kind.startswith("batch"):
        # PyTorch's default momentum (0.1 there = 0.9 here), which most of the
        # reports used: moving statistics settle in tens of steps, not
        # hundreds, so short runs evaluate well. "batch:0.99" is Keras'.
        momentum = float(kind.split(":", 1)[1]) if ":" in kind else 0.9
        return FusedBatchNormalization(momentum=momentum, name=layer_name)
    if kind in ("instance", "instance:noaffine"):
        # GroupNormalization with one group per channel is instance norm;
        # "noaffine" drops the learned scale and offset (PyTorch's default
        # InstanceNorm2d(affine=False)).
        affine = kind == "instance"
        return keras.layers.GroupNormalization(groups=-1, center=affine, scale=affine, name=layer_name)
    if kind == "layer":
        return keras.layers.LayerNormalization(name=layer_name)
    if kind.startswith("group"):
        groups = int(kind.split(":", 1)[1]) if ":" in kind else 32
        return keras.layers.GroupNormalization(groups=groups, name=layer_name)
    raise ValueError(
        f"unknown norm {kind!r}; use batch[:momentum], instance[:noaffine], layer, group[:N] or None"
    )


def conv_block(x, spec: Mapping[str, Any], name: str):
    """Applies one resolved block spec to a symbolic tensor."""
    padding = spec["padding"]
    crop = 0
    output_padding = int(spec["output_padding"] or 0)
    explicit = isinstance(padding, int) and not isinstance(padding, bool)
    if output_padding and not (explicit and spec["transpose"]):
        raise ValueError(f"{name}: output_padding needs a transposed block with an integer padding")
    if explicit:
        if spec["transpose"]:
            crop = padding
        elif padding:
            x = keras.layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
        padding = "valid"
    if spec["transpose"]:
        x = keras.layers.Conv2DTranspose(
            spec["filters"],
            spec["kernel_size"],
            strides=spec["strides"],
            padding=padding,
            output_padding=output_padding or None,
            use_bias=spec["use_bias"],
            name=f"{name}_deconv",
        )(x)
        if crop:
            x = keras.layers.Cropping2D(crop, name=f"{name}_crop")(x)
    else:
        conv = keras.layers.Conv2D(
            spec["filters"],
            spec["kernel_size"],
            strides=spec["strides"],
            padding=padding,
            use_bias=spec["use_bias"],
            name=f"{name}_conv",
        )
        if spec["spectral_norm"]:  # Miyato et al. 2018: the kernel divided by its largest singular value
            conv = keras.layers.SpectralNormalization(conv, name=f"{name}_sn")
        x = conv(x)
    for layer in (make_norm(spec["norm"], f"{name}_norm"), make_activation(spec["activation"], f"{name}_act")):
        if layer is not None:
            x = layer(x)
    if spec["pool"] == "max":
        x = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    elif spec["pool"] == "avg":
        x = keras.layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    elif spec["pool"] is not None:
        raise ValueError(f"{name}: unknown pool {spec['pool']!r}; use 'max', 'avg' or None")
    if spec["upsample"] and spec["upsample"] > 1:
        x = keras.layers.UpSampling2D(spec["upsample"], name=f"{name}_up")(x)
    return x


def dense_block(x, units: int, norm: str | None, activation: str | None, name: str):
    """Dense → optional norm → optional activation."""
    x = keras.layers.Dense(units, name=f"{name}_dense")(x)
    for layer in (make_norm(norm, f"{name}_norm"), make_activation(activation, f"{name}_act")):
        if layer is not None:
            x = layer(x)
    return x
