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


def _checked(tensor, endpoint: str, argument: str, dims) -> tf.Tensor:
    """`tensor` after a run-time check of its shape against `dims` (None =
    any). Serving signatures skip the Python-side check, so a wrong shape
    would otherwise fail deep inside the model with a matmul error."""
    shape = tf.shape(tensor)
    # Graph optimisation trusts the declared rank, so compare a padded and
    # truncated copy of the actual shape, and the element count.
    # One extra slot must stay padding (-2): it catches extra dimensions.
    padded = tf.concat([shape, tf.fill([len(dims) + 1], -2)], 0)[: len(dims) + 1]
    expected = tf.constant([-1 if d is None else d for d in dims] + [-2], tf.int32)
    dims_ok = tf.reduce_all(tf.logical_or(tf.equal(padded, expected), expected == -1))
    count_ok = tf.equal(tf.size(tensor, out_type=tf.int32), tf.reduce_prod(tf.maximum(padded[:-1], 0)))
    wanted = "[" + ", ".join("N" if d is None else str(d) for d in dims) + "]"
    check = tf.debugging.Assert(
        tf.logical_and(dims_ok, count_ok),
        [f"{endpoint}({argument}): expected float32 {wanted}, got shape", shape],
        name=f"check_{argument}",
    )
    with tf.control_dependencies([check]):
        return tf.identity(tensor)


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
        z = _checked(z, "generate", "z", (None, model.latent_dim))
        return _to_unit(model.decode(z, training=False), value_range)

    @tf.function(input_signature=[tf.TensorSpec([None, height, width, channels], tf.float32, name="images")])
    def reconstruct(images):
        images = _checked(images, "reconstruct", "images", (None, height, width, channels))
        # Convolutions reject an empty batch on CPU: answer it without the model.
        return tf.cond(
            tf.shape(images)[0] > 0,
            lambda: _to_unit(model(_from_unit(images, value_range), training=False), value_range),
            lambda: tf.zeros_like(images),
        )

    archive.add_endpoint("generate", generate)
    archive.add_endpoint("reconstruct", reconstruct)
    with atomic_path(path, is_dir=True) as tmp:
        archive.write_out(tmp, verbose=False)
    return path
