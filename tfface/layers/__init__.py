"""Shared building blocks: conv blocks and the encoder/decoder trunks."""

from tfface.layers.blocks import conv_block, dense_block, make_activation, make_norm, resolve_block
from tfface.layers.discriminator import PatchDiscriminator
from tfface.layers.trunks import Decoder, Encoder, symmetric_trunks

__all__ = [
    "Decoder",
    "Encoder",
    "PatchDiscriminator",
    "conv_block",
    "dense_block",
    "make_activation",
    "make_norm",
    "resolve_block",
    "symmetric_trunks",
]
