"""`FusedBatchNormalization` computes what Keras' BatchNormalization does."""

import numpy as np
import pytest
import tensorflow as tf

import keras
from tfface.layers.norm import FusedBatchNormalization


def twin_layers(channels: int):
    rng = np.random.default_rng(0)
    gamma, beta = rng.uniform(0.5, 2.0, channels), rng.uniform(-1.0, 1.0, channels)
    layers = keras.layers.BatchNormalization(momentum=0.9), FusedBatchNormalization(momentum=0.9)
    for layer in layers:
        layer.build((None, 6, 6, channels))
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
    return layers


def test_training_step_matches_keras_batch_norm():
    x = tf.constant(np.random.default_rng(1).normal(2.0, 3.0, (4, 6, 6, 5)).astype("float32"))
    reference, fused = twin_layers(5)
    outputs, grads = [], []
    for layer in (reference, fused):
        for _ in range(3):  # moving statistics after several updates
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                loss = tf.reduce_sum(y**3)
        outputs.append(y)
        grads.append(tape.gradient(loss, [x, layer.gamma, layer.beta]))
    np.testing.assert_allclose(outputs[1], outputs[0], atol=1e-5)
    for got, want in zip(grads[1], grads[0]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
    # Keras averages the biased batch variance into the moving variance
    np.testing.assert_allclose(fused.moving_mean, reference.moving_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fused.moving_variance, reference.moving_variance, rtol=1e-5)
    np.testing.assert_allclose(fused(x, training=False), reference(x, training=False), atol=1e-5)


def test_conv_blocks_use_it_and_models_round_trip(tmp_path):
    from tfface.presets import build_preset

    model = build_preset("vae_tiny", image_size=(32, 32))
    norms = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    assert norms and all(isinstance(layer, FusedBatchNormalization) for layer in norms)
    model.compile(optimizer="adam")
    x = np.random.default_rng(2).random((8, 32, 32, 3), dtype=np.float32)
    model.fit(x, batch_size=4, epochs=1, verbose=0)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), atol=1e-6)


@pytest.mark.parametrize("kwargs", [{"epsilon": 1e-6}, {"renorm": True}])
def test_falls_back_to_keras_where_the_kernel_does_not_apply(kwargs):
    x = np.random.default_rng(3).random((4, 3, 3, 2), dtype=np.float32)
    reference = keras.layers.BatchNormalization(**kwargs)(x, training=True)
    np.testing.assert_allclose(FusedBatchNormalization(**kwargs)(x, training=True), reference, atol=1e-6)
