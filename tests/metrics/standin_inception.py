"""A stand-in for TF-GAN's Inception module, made offline: same call
signature (float32 (n, 299, 299, 3) in [-1, 1] → {"pool_3", "logits"}), a
fixed random projection of 8×8 area-pooled pixels instead of the 2015 graph."""

import numpy as np
import tensorflow as tf


class StandInInception(tf.Module):
    def __init__(self):
        super().__init__()
        rng = np.random.default_rng(0)
        self.projection = tf.Variable(rng.normal(size=(8 * 8 * 3, 2048)).astype(np.float32) / 8.0, trainable=False)

    def features(self, images):
        pooled = tf.reshape(tf.image.resize(images, (8, 8), method="area"), (-1, 8 * 8 * 3))
        pool_3 = tf.reshape(tf.tanh(pooled @ self.projection), (-1, 1, 1, 2048))  # the TF1 graph's 4-d pool_3
        return {"pool_3": pool_3, "logits": tf.zeros((tf.shape(images)[0], 1008))}

    @tf.function(input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32)])
    def __call__(self, images):
        return self.features(images)

    @tf.function(input_signature=[tf.TensorSpec([None, 299, 299, 3], tf.float32, name="images")])
    def default(self, images):
        return self.features(images)


def save_standin_inception(path, callable_root: bool = True) -> str:
    """Saves the stand-in to `path`: a callable root (TF2 `hub.load` style) or,
    with `callable_root=False`, only a "default" signature (a TF1 Hub module
    loaded by `tf.saved_model.load`)."""
    module = StandInInception()
    if callable_root:
        tf.saved_model.save(module, str(path), signatures={"default": module.__call__})
    else:
        bare = tf.Module()
        bare.projection = module.projection
        tf.saved_model.save(bare, str(path), signatures={"default": module.default})
    return str(path)
