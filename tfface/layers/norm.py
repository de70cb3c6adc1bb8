"""Batch normalization on TensorFlow's fused kernel.

Keras 3's `BatchNormalization` computes a training batch's statistics with
`tf.nn.moments` and normalises with `tf.nn.batch_normalization`: about ten
element-wise ops forward and as many in the gradient, each a pass over the
activation. On the 64² BN/LeakyReLU family that was about a fifth of a
training step on CPU (see benchmarks/README.md, "Where the time goes").
TensorFlow's `FusedBatchNormV3` (oneDNN's batch norm on x86) does the
statistics, the normalisation and its gradient in one op each.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

# FusedBatchNormV3 rejects a smaller epsilon.
FUSED_MIN_EPSILON = 1.001e-5


@keras.saving.register_keras_serializable(package="tfface")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """`keras.layers.BatchNormalization` whose training step runs TensorFlow's
    fused batch-norm kernel: the same maths (normalisation by the batch's
    biased variance, moving averages updated with it), the same weights,
    config and checkpoints, to float rounding (outputs agree to ~1e-6).

    Inference, and every case the fused kernel does not cover (inputs that
    are not 4-D channels-last, masks, `synchronized` statistics across
    replicas, batch renormalisation, an epsilon below 1.001e-5, a frozen
    layer), run Keras' own path.

    Args:
        **kwargs: the arguments of `keras.layers.BatchNormalization`.

    Example:

    >>> layer = FusedBatchNormalization(momentum=0.9)
    >>> x = np.random.rand(4, 8, 8, 3).astype("float32")
    >>> y = layer(x, training=True)
    >>> bool(np.allclose(np.mean(y, axis=(0, 1, 2)), 0.0, atol=1e-5))
    True
    """

    def _fused(self, inputs, training, mask) -> bool:
        return bool(
            training
            and self.trainable
            and mask is None
            and not self.synchronized
            # `renorm` arrived after Keras 3.13 (our floor), `synchronized` is in every Keras 3.
            and not getattr(self, "renorm", False)
            and self.epsilon >= FUSED_MIN_EPSILON
            and len(inputs.shape) == 4
            and self.axis in (-1, 3)
        )

    def call(self, inputs, training=None, mask=None):
        if not self._fused(inputs, training, mask):
            return super().call(inputs, training=training, mask=mask)
        x = tf.cast(inputs, "float32")  # as Keras: statistics in float32 under mixed precision
        channels = x.shape[-1]
        gamma = ops.cast(self.gamma, "float32") if self.scale else tf.ones((channels,), "float32")
        beta = ops.cast(self.beta, "float32") if self.center else tf.zeros((channels,), "float32")
        y, mean, variance = tf.compat.v1.nn.fused_batch_norm(
            x, gamma, beta, epsilon=self.epsilon, data_format="NHWC", is_training=True
        )
        # The kernel returns the unbiased (Bessel-corrected) variance; Keras
        # normalises and averages with the biased one, and so does y here.
        count = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), "float32")
        variance = variance * ((count - 1.0) / tf.maximum(count, 1.0))
        momentum = self.momentum
        self.moving_mean.assign(ops.cast(self.moving_mean, "float32") * momentum + mean * (1.0 - momentum))
        self.moving_variance.assign(ops.cast(self.moving_variance, "float32") * momentum + variance * (1.0 - momentum))
        return ops.cast(y, self.compute_dtype)
