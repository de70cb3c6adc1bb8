"""Shared building blocks: conv blocks and the encoder/decoder trunks."""

from tfface.layers.blocks import conv_block, dense_block, make_activation, make_norm, resolve_block
from tfface.layers.discriminator import PatchDiscriminator
from tfface.layers.likelihood import DECODER_SIGMAS, GaussianLikelihood
from tfface.layers.norm import FusedBatchNormalization
from tfface.layers.serialization import Configurable
from tfface.layers.residual import ResidualDecoder, ResidualEncoder, attention_block, residual_block, residual_trunks
from tfface.layers.trunks import Decoder, Encoder, symmetric_trunks

__all__ = [
    "Configurable",
    "DECODER_SIGMAS",
    "GaussianLikelihood",
    "Decoder",
    "Encoder",
    "FusedBatchNormalization",
    "PatchDiscriminator",
    "ResidualDecoder",
    "ResidualEncoder",
    "attention_block",
    "conv_block",
    "dense_block",
    "make_activation",
    "make_norm",
    "residual_block",
    "residual_trunks",
    "resolve_block",
    "symmetric_trunks",
]
