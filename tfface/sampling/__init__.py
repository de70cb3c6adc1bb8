"""Generation and exploration outside the model classes: latent samplers
(prior, ex-post Gaussians, Gaussian mixture), interpolation, traversal and
attribute directions."""

from tfface.sampling.latents import decode, encode_dataset, fit_sampler, generate
from tfface.sampling.samplers import (
    SAMPLER_FILE,
    SAMPLERS,
    DiagonalGaussianSampler,
    GaussianMixtureSampler,
    GaussianSampler,
    LatentSampler,
    PriorSampler,
    load_sampler,
    make_sampler,
    save_sampler,
    seed_pair,
)

__all__ = [
    "SAMPLERS",
    "SAMPLER_FILE",
    "DiagonalGaussianSampler",
    "GaussianMixtureSampler",
    "GaussianSampler",
    "LatentSampler",
    "PriorSampler",
    "decode",
    "encode_dataset",
    "fit_sampler",
    "generate",
    "load_sampler",
    "make_sampler",
    "save_sampler",
    "seed_pair",
]
