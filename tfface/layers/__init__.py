"""Shared building blocks: conv blocks and the encoder/decoder trunks."""

from tfface.layers.blocks import conv_block, dense_block, make_activation, make_norm, resolve_block
from tfface.layers.serialization import Configurable
from tfface.layers.trunks import Decoder, Encoder, symmetric_trunks

__all__ = [
    "Configurable",
    "Decoder",
    "Encoder",
    "conv_block",
    "dense_block",
    "make_activation",
    "make_norm",
    "resolve_block",
    "symmetric_trunks",
]
