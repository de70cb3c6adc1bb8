"""Generation and exploration outside the model classes: latent samplers
(prior, ex-post Gaussians, Gaussian mixture, two-stage VAE), interpolation, traversal and
attribute directions."""

from tfface.sampling.attributes import (
    DIRECTIONS_FILE,
    AttributeDirections,
    attribute_directions,
    attribute_vector,
    edit_images,
    generate_from_attributes,
)
from tfface.sampling.interpolation import INTERPOLATIONS, interpolate, interpolation_strip, traversal_grid, traverse
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
from tfface.sampling.run import (
    attribute_faces,
    default_sampler_kind,
    interpolation_grid,
    run_sampler_kind,
    fit_run_directions,
    run_directions,
    sample_grid,
    sampler_for_run,
)
from tfface.sampling.two_stage import TwoStageVAESampler

__all__ = [
    "DIRECTIONS_FILE",
    "INTERPOLATIONS",
    "AttributeDirections",
    "attribute_directions",
    "attribute_faces",
    "attribute_vector",
    "default_sampler_kind",
    "run_sampler_kind",
    "edit_images",
    "generate_from_attributes",
    "interpolate",
    "interpolation_grid",
    "interpolation_strip",
    "fit_run_directions",
    "run_directions",
    "sample_grid",
    "sampler_for_run",
    "traversal_grid",
    "traverse",
    "SAMPLERS",
    "SAMPLER_FILE",
    "DiagonalGaussianSampler",
    "GaussianMixtureSampler",
    "GaussianSampler",
    "LatentSampler",
    "PriorSampler",
    "TwoStageVAESampler",
    "decode",
    "encode_dataset",
    "fit_sampler",
    "generate",
    "load_sampler",
    "make_sampler",
    "save_sampler",
    "seed_pair",
]
