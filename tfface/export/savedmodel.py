"""Export a trained model as a SavedModel with named serving signatures.

Serving signatures speak **float32 images in [0, 1]** whatever the model's
internal range (sigmoid or tanh), so clients need not know the preset.
"""

from __future__ import annotations

import os

import keras
import tensorflow as tf

from tfface.io import atomic_path


def _to_unit(images, value_range: str):
    images = tf.cast(images, tf.float32)
    return (images + 1.0) / 2.0 if value_range == "-1_1" else images


def _from_unit(images, value_range: str):
    return images * 2.0 - 1.0 if value_range == "-1_1" else images


def export_savedmodel(model, path: str | os.PathLike) -> str:
    """Writes a SavedModel with `generate` and `reconstruct` endpoints.

    - `generate(z: float32 [N, latent_dim]) → float32 [N, H, W, 3]` in [0, 1].
    - `reconstruct(images: float32 [N, H, W, 3] in [0, 1]) → float32 [N, H, W, 3]`
      in [0, 1] (deterministic: the posterior mean is decoded).

    The folder is written under a temporary name and renamed into place, so
    an interrupted export leaves any previous export intact. The result
    loads with `tf.saved_model.load(path)` without tfface installed.

    Args:
        model: a built `LatentAutoencoder`.
        path: str. Output folder.

    Returns:
        The path written.
    """
    path = os.fspath(path)
    value_range = model.value_range
    height, width, channels = model.image_shape

    archive = keras.export.ExportArchive()
    archive.track(model)

    @tf.function(input_signature=[tf.TensorSpec([None, model.latent_dim], tf.float32, name="z")])
    def generate(z):
        return _to_unit(model.decode(z, training=False), value_range)

    @tf.function(input_signature=[tf.TensorSpec([None, height, width, channels], tf.float32, name="images")])
    def reconstruct(images):
        return _to_unit(model(_from_unit(images, value_range), training=False), value_range)

    archive.add_endpoint("generate", generate)
    archive.add_endpoint("reconstruct", reconstruct)
    with atomic_path(path, is_dir=True) as tmp:
        archive.write_out(tmp, verbose=False)
    return path
