"""The perceptual and adversarial terms of `LatentAutoencoder`: update
direction, adaptive weight, the start step, serialization and export."""

import re

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.harness import run_model_saving_test
from tests.helpers import random_images, tiny_config
from tfface.config import ConfigError
from tfface.export import export_savedmodel
from tfface.layers import PatchDiscriminator, symmetric_trunks
from tfface.losses import reconstruction_loss
from tfface.losses.adversarial import hinge_generator_loss
from tfface.losses.perceptual import PerceptualWeightsError
from tfface.models import VAE, Autoencoder
from tfface.models.adversarial import last_layer_kernel
from tfface.presets import check_model_config
from tfface.training import build_model

TINY_D = {"discriminator_layers": 2, "discriminator_width": 8}


def _autoencoder(**kwargs):
    encoder, decoder = symmetric_trunks((32, 32), [8, 16], 8, head="deterministic")
    model = Autoencoder(encoder, decoder, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def _as_numpy(weights):
    return [np.array(w) for w in weights]


def test_patch_discriminator_layout_and_round_trip(tmp_path):
    critic = PatchDiscriminator((32, 32, 3), num_layers=2, width=8, norm="group:4")
    assert tuple(critic(np.zeros((1, 32, 32, 3))).shape) == (1, 6, 6, 1)
    assert [layer.filters for layer in critic.layers if hasattr(layer, "filters")] == [8, 16, 32, 1]
    assert [layer.strides for layer in critic.layers if hasattr(layer, "filters")] == [(2, 2), (2, 2), (1, 1), (1, 1)]
    run_model_saving_test(critic, random_images(2), tmp_path)
    with pytest.raises(ValueError, match="num_layers"):
        PatchDiscriminator(num_layers=0)


def test_discriminator_step_widens_the_margin_between_real_and_fake():
    model = _autoencoder(adversarial_weight=1.0, discriminator_norm=None, **TINY_D)
    x = random_images(8, seed=3)
    fakes = model.predict(x, verbose=0)

    def margin():
        return float(np.mean(model.discriminator(x)) - np.mean(model.discriminator(fakes)))

    before = margin()
    critic_before = _as_numpy(model.discriminator.weights)
    logs = model.train_on_batch(x, return_dict=True)
    assert margin() > before + 1e-3, (before, margin())
    assert any(not np.array_equal(a, b) for a, b in zip(critic_before, model.discriminator.weights))
    assert int(model.discriminator_optimizer.iterations) == 1 and int(model.optimizer.iterations) == 1
    assert logs["discriminator_loss"] > 0 and logs["adversarial_weight_effective"] > 0


def test_reported_adaptive_weight_matches_a_hand_computation():
    model = _autoencoder(adversarial_weight=0.5, discriminator_norm=None, **TINY_D)
    x = random_images(8, seed=4)
    kernel = last_layer_kernel(model.decoder)
    assert kernel is model.decoder.layers[-2].kernel  # the output deconv, before the sigmoid
    with tf.GradientTape(persistent=True) as tape:
        outputs = model.decoder(model.encoder(x, training=True), training=True)
        rec = tf.reduce_mean(reconstruction_loss(x, outputs))
        gan = hinge_generator_loss(model.discriminator(outputs, training=True))
    rec_norm = tf.norm(tape.gradient(rec, kernel))
    gan_norm = tf.norm(tape.gradient(gan, kernel))
    expected = 0.5 * float(rec_norm / (gan_norm + 1e-4))
    logs = model.train_on_batch(x, return_dict=True)
    assert logs["adversarial_weight_effective"] == pytest.approx(expected, rel=1e-4)
    assert logs["adversarial_loss"] == pytest.approx(float(gan), rel=1e-4, abs=1e-6)


def test_term_is_off_before_the_start_step():
    x = random_images(8, seed=5)
    plain = _autoencoder()
    gan = _autoencoder(adversarial_weight=1.0, adversarial_start=2, **TINY_D)  # BatchNorm in D: stats must not move
    gan.encoder.set_weights(plain.encoder.get_weights())
    gan.decoder.set_weights(plain.decoder.get_weights())
    critic = _as_numpy(gan.discriminator.weights)
    for _ in range(2):
        logs = gan.train_on_batch(x, return_dict=True)
        plain.train_on_batch(x)
        assert logs["adversarial_weight_effective"] == 0.0 and logs["discriminator_loss"] == 0.0
    for a, b in zip(critic, gan.discriminator.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(gan.discriminator_optimizer.iterations) == 0
    for a, b in zip(plain.get_weights(), gan.encoder.get_weights() + gan.decoder.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    logs = gan.train_on_batch(x, return_dict=True)  # step 2: on
    assert logs["adversarial_weight_effective"] > 0 and int(gan.discriminator_optimizer.iterations) == 1


def test_generator_optimizer_leaves_the_discriminator_to_its_own_and_summary_counts_both():
    model = _autoencoder(adversarial_weight=1.0, **TINY_D)
    critic = {id(v) for v in model.discriminator.trainable_variables}
    assert len(model.weights) == len(model.encoder.weights) + len(model.decoder.weights) + len(model.discriminator.weights)
    # The discriminator is trainable (summary and trainable_weights say so) ...
    assert critic <= {id(v) for v in model.trainable_weights}
    lines = []
    model.summary(print_fn=lambda line, **_: lines.append(line))
    trainable = sum(int(np.prod(v.shape)) for part in (model.encoder, model.decoder, model.discriminator)
                    for v in part.trainable_weights)  # fmt: skip
    text = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(lines))
    assert re.search(rf"Trainable params: {trainable:,} ", text), text
    # ... but the model's optimizer, built by compile (before a checkpoint or
    # `.keras` file loads into it), holds no slot for it; a step leaves it to its own.
    autoencoder = len(model.encoder.trainable_weights) + len(model.decoder.trainable_weights)
    assert model.optimizer.built and len(model.optimizer.variables) == 2 + 2 * autoencoder  # iterations, rate, m, v
    model.fit(random_images(4, seed=2), epochs=1, batch_size=4, verbose=0)
    assert len(model.optimizer.variables) == 2 + 2 * autoencoder
    assert int(model.discriminator_optimizer.iterations) == 1


def test_round_trip_keeps_discriminator_and_both_optimizers(tmp_path):
    model = _autoencoder(adversarial_weight=0.1, adversarial_start=1, **TINY_D)
    x = random_images(8, seed=6)
    model.fit(x, epochs=1, batch_size=4, verbose=0)
    restored = run_model_saving_test(model, x, tmp_path)
    assert restored.get_config()["adversarial_start"] == 1
    for a, b in zip(model.get_weights(), restored.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(model.discriminator_optimizer.variables, restored.discriminator_optimizer.variables, strict=True):
        np.testing.assert_array_equal(np.array(a), np.array(b))
    assert int(restored.discriminator_optimizer.iterations) == 1
    assert restored.discriminator_optimizer.beta_1 == 0.5 and restored.discriminator_optimizer.beta_2 == 0.9


def test_export_serves_only_encoder_and_decoder(tmp_path):
    encoder, decoder = symmetric_trunks((32, 32), [8, 16], 8)
    model = VAE(encoder, decoder, adversarial_weight=1.0, **TINY_D)
    path = export_savedmodel(model, str(tmp_path / "export"))
    served = tf.saved_model.load(path)
    assert len(served.variables) == len(model.encoder.variables) + len(model.decoder.variables)
    z = np.zeros((2, 8), np.float32)
    np.testing.assert_allclose(served.signatures["decode"](z=z)["images"], model.decode(z), atol=1e-6)


def test_perceptual_term_enters_the_loss_and_is_reported():
    encoder, decoder = symmetric_trunks((32, 32), [8, 16], 8)
    model = VAE(encoder, decoder, perceptual_weight=2.0, perceptual_weights=None, seed=0)
    model.compile(optimizer="adam")
    x = random_images(8, seed=7)
    history = model.fit(x, epochs=1, batch_size=4, verbose=0).history
    assert history["perceptual_loss"][0] > 0
    logs = model.evaluate(x, batch_size=8, verbose=0, return_dict=True)
    expected = logs["reconstruction_loss"] + logs["kl_loss"] + 2.0 * logs["perceptual_loss"]
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    assert model.perceptual.network.name not in {layer.name for layer in model._flatten_layers()}


def test_perceptual_weights_that_cannot_be_had_fail_naming_the_option(tmp_path):
    model = _autoencoder(perceptual_weight=1.0, perceptual_weights=str(tmp_path / "missing.h5"))
    with pytest.raises(PerceptualWeightsError, match=r"perceptual_weights \(model\.perceptual_weights"):
        model.fit(random_images(4), epochs=1, verbose=0)
    # Loading and serving never need the VGG16 weights: only training builds it.
    model.save(tmp_path / "m.keras")
    assert keras.saving.load_model(tmp_path / "m.keras").perceptual is None


def test_negative_weights_are_refused():
    with pytest.raises(ValueError, match="adversarial_weight"):
        _autoencoder(adversarial_weight=-1.0)


def test_config_keys_switch_the_terms_on_for_presets_that_take_them(tmp_path):
    model = build_model(tiny_config(tmp_path, "model.adversarial_weight=0.25", "model.adversarial_start=7",
                                    "model.perceptual_weight=3.0", "model.perceptual_weights='random'",
                                    "model.args={discriminator_width=8, discriminator_norm='group:4'}"))  # fmt: skip
    assert (model.adversarial_weight, model.adversarial_start, model.perceptual_weight) == (0.25, 7, 3.0)
    assert model.discriminator.width == 8 and model.discriminator.norm == "group:4"
    assert "perceptual_loss" in model.metric_names() and "discriminator_loss" in model.metric_names()
    with pytest.raises(ConfigError, match=r"model\.adversarial_weight: preset 'r001_vae' takes no argument 'adversarial_weight'"):
        check_model_config(tiny_config(tmp_path, "model.preset='r001_vae'", "model.adversarial_weight=0.5").model)
    with pytest.raises(ConfigError, match=r"model\.args\.discriminator_widht: preset 'vae_tiny' takes no argument"):
        check_model_config(tiny_config(tmp_path, "model.args={discriminator_widht=8}").model)
    with pytest.raises(ConfigError, match=r"model\.perceptual_weight: must be >= 0"):
        tiny_config(tmp_path, "model.perceptual_weight=-1.0")
