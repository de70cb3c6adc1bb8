"""From a trained model and data to latent codes, samplers and images."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tfface.sampling.samplers import LatentSampler, make_sampler


def _batches(data, batch_size: int):
    """Yields (images, attributes or None) numpy batches from an array, a
    tuple of arrays or a batched `tf.data.Dataset` of images, (images, y)
    or dicts with "image" / "attributes"."""
    if isinstance(data, tf.data.Dataset):
        for batch in data.as_numpy_iterator():
            if isinstance(batch, dict):
                yield batch["image"], batch.get("attributes")
            elif isinstance(batch, tuple):
                yield batch[0], (batch[1] if len(batch) > 1 else None)
            else:
                yield batch, None
        return
    if isinstance(data, tuple):
        images, attributes = np.asarray(data[0]), (np.asarray(data[1]) if len(data) > 1 else None)
    else:
        images, attributes = np.asarray(data), None
    for start in range(0, len(images), batch_size):
        yield images[start : start + batch_size], (None if attributes is None else attributes[start : start + batch_size])


def to_numpy(tensor) -> np.ndarray:
    """A float32 numpy array from any Keras/TF tensor."""
    return np.asarray(keras.ops.convert_to_numpy(keras.ops.cast(tensor, "float32")))


def encode_dataset(model, data, batch_size: int = 256, limit: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Posterior means of every image: (latents (n, d), attributes (n, k) or None).

    Args:
        model: a `LatentAutoencoder` (anything with `encode(images, training=False)`).
        data: array of images in the model's value range, a tuple
            (images, attributes), or a batched `tf.data.Dataset` of images,
            (images, attributes) or dicts.
        batch_size: int. Batch size for arrays. Defaults to 256.
        limit: int or None. Stop after this many images. Defaults to None.
    """
    latents, attributes, seen = [], [], 0
    for images, attrs in _batches(data, batch_size):
        if limit is not None and seen >= limit:
            break
        if limit is not None:
            images = images[: limit - seen]
            attrs = None if attrs is None else attrs[: limit - seen]
        latents.append(to_numpy(model.encode(images, training=False)))
        if attrs is not None:
            attributes.append(np.asarray(attrs, dtype=np.float32))
        seen += len(images)
    if not latents:
        raise ValueError("no images to encode: the dataset is empty")
    codes = np.concatenate(latents)
    return codes, (np.concatenate(attributes) if len(attributes) == len(latents) else None)


def fit_sampler(model, data=None, kind: str = "gmm", *, limit: int | None = None, **kwargs: Any) -> LatentSampler:
    """Encodes `data` (posterior means) and fits a sampler of `kind` on the codes.

    The prior needs no data: `fit_sampler(model, None, "prior")`.

    Args:
        model: a trained `LatentAutoencoder`.
        data: images or a dataset, see `encode_dataset`; usually the
            training split.
        kind: str. A registered sampler: "prior", "diagonal", "gaussian",
            "gmm". Defaults to "gmm".
        limit: int or None. Encode at most this many images.
        **kwargs: the sampler's constructor arguments, e.g. `components=10`.

    Example:

    >>> from tfface.presets import build_preset
    >>> model = build_preset("vae_tiny")
    >>> images = np.random.default_rng(0).random((64, 32, 32, 3), dtype=np.float32)
    >>> sampler = fit_sampler(model, images, "gmm", components=2)
    >>> sampler.sample(5, seed=0).shape
    (5, 8)
    """
    if data is None:
        if kind != "prior":
            raise ValueError(f"the {kind!r} sampler is fitted on latent codes: pass the training data")
        return make_sampler(kind, latent_dim=model.latent_dim, **kwargs)
    sampler = make_sampler(kind, **kwargs)
    latents, _ = encode_dataset(model, data, limit=limit)
    return sampler.fit(latents)


def decode(model, latents, batch_size: int = 256) -> np.ndarray:
    """Decodes codes in inference mode, as float32 numpy in the model's range."""
    latents = np.asarray(latents, dtype=np.float32)
    out = [to_numpy(model.decode(latents[i : i + batch_size], training=False)) for i in range(0, len(latents), batch_size)]
    return np.concatenate(out) if out else np.zeros((0, *model.image_shape), np.float32)


def generate(model, sampler: LatentSampler, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """`n` generated images (float32, model's value range) from a sampler."""
    if sampler.latent_dim != model.latent_dim:
        raise ValueError(f"sampler latent_dim {sampler.latent_dim} != model latent_dim {model.latent_dim}")
    return decode(model, sampler.sample(n, seed=seed, temperature=temperature))
