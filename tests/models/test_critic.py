"""The discriminator's options (`tfface.models.critic`): DiffAugment, LeCam,
lazy R1, spectral normalisation, feature matching, an update every k steps."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.harness import run_model_saving_test
from tests.helpers import random_images
from tfface.config import ConfigError, ModelConfig
from tfface.layers import symmetric_trunks
from tfface.layers.augment import DiffAugment
from tfface.models import Autoencoder
from tfface.models.critic import discriminator_loss, feature_matching_loss, update_schedule
from tfface.presets import check_model_config

TINY_D = {"adversarial_weight": 0.5, "discriminator_layers": 2, "discriminator_width": 8, "discriminator_norm": None}


def _autoencoder(**kwargs):
    encoder, decoder = symmetric_trunks((32, 32), [8, 16], 8, head="deterministic")
    model = Autoencoder(encoder, decoder, seed=0, **{**TINY_D, **kwargs})
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


@pytest.mark.parametrize("value_range", ["0_1", "-1_1"])
def test_diff_augment_draws_per_image_is_seeded_and_passes_gradients(value_range):
    low, high = (0.0, 1.0) if value_range == "0_1" else (-1.0, 1.0)
    centre = (low + high) / 2
    x = np.full((8, 32, 32, 3), high, np.float32)
    cut = np.asarray(DiffAugment("cutout", value_range, seed=1)(x, training=True))
    holes = (cut == centre).all(axis=-1).sum(axis=(1, 2))
    assert holes.max() <= 16 * 16 and holes.mean() > 16 * 16 / 4 and len(set(holes.tolist())) > 1
    assert set(np.unique(cut).tolist()) == {centre, high}
    shifted = np.asarray(DiffAugment("translation", value_range, seed=1)(x, training=True))
    filled = (shifted == centre).all(axis=-1).sum(axis=(1, 2))  # the border the shift uncovered
    assert filled.max() <= 32 * 32 - 28 * 28 and filled.max() > 0
    color = np.asarray(DiffAugment("color", value_range, seed=1)(random_images(8, value_range=value_range), training=True))
    assert len(set(np.round(color.mean(axis=(1, 2, 3)), 4).tolist())) == 8  # one draw per image
    again = np.asarray(DiffAugment("color", value_range, seed=1)(random_images(8, value_range=value_range), training=True))
    np.testing.assert_array_equal(color, again)
    np.testing.assert_array_equal(np.asarray(DiffAugment(seed=1)(x)), x)  # inference: unchanged
    variable = tf.Variable(random_images(2, value_range=value_range))
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(DiffAugment(seed=2, value_range=value_range)(variable, training=True))
    assert float(tf.reduce_sum(tf.abs(tape.gradient(total, variable)))) > 0
    with pytest.raises(ValueError, match="unknown DiffAugment policy 'colour'"):
        DiffAugment("colour")


def test_update_schedule_updates_the_discriminator_every_k_steps_and_r1_lazily():
    model = _autoencoder(adversarial_start=4, discriminator_every=2, r1_weight=1.0, r1_every=3)
    schedule = [tuple(bool(b) for b in update_schedule(model, tf.constant(step, "int64"))) for step in range(18)]
    assert [d for d, _ in schedule] == [False] * 4 + [True, False] * 7
    assert [step for step, (_, r1) in enumerate(schedule) if r1] == [4, 10, 16]
    assert not any(r1 for _, r1 in (update_schedule(_autoencoder(discriminator_every=2), s) for s in range(6)))


def test_a_step_without_the_discriminator_update_leaves_it_and_the_lecam_anchors_as_they_were():
    # discriminator_every=2: step 0 updates it, step 1 only computes its loss (the decision in the graph)
    model = _autoencoder(discriminator_every=2, lecam_weight=0.1, discriminator_norm="batch",
                         discriminator_augment="color")  # fmt: skip
    x = random_images(4, seed=7)
    model.fit(x, epochs=1, batch_size=4, verbose=0)
    # (its BatchNorm statistics move with the generator's pass through it, as on every step)
    state = [np.array(v) for v in (*model.discriminator.trainable_weights, *model.lecam.weights)]
    model.fit(x, epochs=1, batch_size=4, verbose=0)
    assert int(model.discriminator_optimizer.iterations) == 1
    for before, variable in zip(state, (*model.discriminator.trainable_weights, *model.lecam.weights), strict=True):
        np.testing.assert_array_equal(np.array(variable), before, err_msg=variable.path)
    model.fit(x, epochs=1, batch_size=4, verbose=0)  # step 2: updated again
    assert int(model.discriminator_optimizer.iterations) == 2
    assert float(model.lecam.real.numpy()) != state[-2] and not np.array_equal(model.discriminator.trainable_weights[0], state[0])


def test_lazy_r1_penalty_is_averaged_over_the_steps_with_it():
    model = _autoencoder(r1_weight=1.0, r1_every=2)  # R1 on steps 0 and 2 of 0-3
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["r1_penalty"]))
    model.fit(random_images(16, seed=8), epochs=1, batch_size=4, shuffle=False, verbose=0, callbacks=[record])
    assert seen[0] > 0 and seen[1] == seen[0] and seen[2] != seen[1] and seen[3] == seen[2]


def test_training_with_every_option_updates_d_every_other_step_and_reports_each_term(tmp_path):
    model = _autoencoder(discriminator_augment="color,translation,cutout", discriminator_spectral_norm=True,
                         discriminator_every=2, lecam_weight=0.1, r1_weight=1.0, r1_every=2,
                         feature_matching_weight=1.0)  # fmt: skip
    x = random_images(16, seed=4)
    logs = model.fit(x, epochs=2, batch_size=4, verbose=0).history
    assert int(model.optimizer.iterations) == 8 and int(model.discriminator_optimizer.iterations) == 4
    # decided in the graph: one trace (the term is on from step 0) takes every step's decisions
    assert model.train_function is not None and not hasattr(model, "train_functions")
    for name in ("lecam_loss", "r1_penalty", "feature_matching_loss", "discriminator_loss"):
        assert np.all(np.isfinite(logs[name])) and logs[name][-1] > 0, name
    assert float(model.lecam.real.numpy()) != 0.0 and float(model.lecam.fake.numpy()) != 0.0
    # spectral normalisation: every conv's largest singular value is ~1 after training calls
    for layer in model.discriminator.layers:
        if isinstance(layer, keras.layers.SpectralNormalization):
            kernel = np.asarray(layer.kernel.numpy()).reshape(-1, layer.kernel.shape[-1])
            assert np.linalg.svd(kernel, compute_uv=False)[0] < 1.3, layer.name
    restored = run_model_saving_test(model, x[:2], tmp_path)
    assert restored.lecam is not None and float(restored.lecam.real.numpy()) == float(model.lecam.real.numpy())


def test_r1_penalty_is_the_squared_input_gradient_of_the_summed_real_logits():
    model = _autoencoder(r1_weight=2.0, r1_every=4)
    x, fakes = random_images(4, seed=1), random_images(4, seed=2)
    _, _, _, terms = discriminator_loss(model, x, fakes, r1=True)
    inputs = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        total = tf.reduce_sum(model.discriminator(inputs, training=True))
    expected = tf.reduce_mean(tf.reduce_sum(tape.gradient(total, inputs) ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(float(terms["r1_penalty"]), float(expected), rtol=1e-4)
    plain, _, _, _ = discriminator_loss(model, x, fakes)
    penalised, _, _, _ = discriminator_loss(model, x, fakes, r1=True)
    np.testing.assert_allclose(float(penalised) - float(plain), 0.5 * 2.0 * 4 * float(expected), rtol=1e-3)


def test_feature_matching_is_zero_for_perfect_reconstructions_and_trains_the_decoder():
    model = _autoencoder(feature_matching_weight=1.0)
    x = random_images(4, seed=5)
    assert float(feature_matching_loss(model, x, x)) == 0.0
    assert float(feature_matching_loss(model, x, random_images(4, seed=6))) > 0.0
    z = model.encode(x)
    with tf.GradientTape() as tape:
        loss = feature_matching_loss(model, x, model.decode(z, training=True))
    grads = tape.gradient(loss, model.decoder.trainable_weights)
    assert all(g is not None for g in grads) and sum(float(tf.reduce_sum(tf.abs(g))) for g in grads) > 0


def test_options_need_the_discriminator_and_are_typed_config_keys():
    with pytest.raises(ValueError, match="lecam_weight needs the adversarial term"):
        _autoencoder(adversarial_weight=0.0, lecam_weight=0.1)
    with pytest.raises(ValueError, match="discriminator_every"):
        _autoencoder(discriminator_every=0)
    config = ModelConfig(preset="face_64", adversarial_weight=0.5, discriminator_augment="color,cutout", lecam_weight=0.3,
                         r1_weight=0.1, r1_every=8, discriminator_spectral_norm=True, feature_matching_weight=2.0,
                         discriminator_every=2)  # fmt: skip
    check_model_config(config)
    assert config.preset_kwargs()["discriminator_every"] == 2 and config.preset_kwargs()["r1_every"] == 8
    with pytest.raises(ConfigError, match="model.discriminator_every"):
        ModelConfig(discriminator_every=0)
    with pytest.raises(ConfigError, match="model.lecam_weight: preset 'r003_vae' takes no argument"):
        check_model_config(ModelConfig(preset="r003_vae", lecam_weight=0.1))


MIRRORED = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
import json
import keras, numpy as np
from tfface.callbacks import EMAWeights
from tfface.layers import symmetric_trunks
from tfface.models import Autoencoder
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
with strategy.scope():
    encoder, decoder = symmetric_trunks((32, 32), [8, 16], 8, head="deterministic")
    model = Autoencoder(encoder, decoder, adversarial_weight=0.5, discriminator_layers=2, discriminator_width=8,
                        discriminator_norm=None, discriminator_augment="color,translation,cutout",
                        discriminator_spectral_norm=True, discriminator_every=2, lecam_weight=0.1, r1_weight=1.0,
                        r1_every=2, feature_matching_weight=1.0, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3, use_ema=True))
images = np.random.default_rng(0).random((16, 32, 32, 3), dtype=np.float32)
ema = EMAWeights(images, batch_size=8)  # BatchNorm statistics recalibrated for the average, across replicas' variables
history = model.fit(images, epochs=1, batch_size=8, verbose=0, callbacks=[ema, ema.swap_back]).history
from tfface.callbacks.ema import batch_norm_layers
assert batch_norm_layers(model), "the trunks have BatchNorm"
print("REPORT", json.dumps({"history": {k: [float(x) for x in v] for k, v in history.items()},
                            "d_steps": int(model.discriminator_optimizer.iterations.numpy()), "anchor": float(model.lecam.real.numpy())}))
"""


@pytest.mark.slow
def test_every_option_and_the_weight_average_train_under_mirrored_strategy():
    import json

    from tests.helpers import REPO, run_python

    done = run_python(MIRRORED, env={"PYTHONPATH": REPO}, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("REPORT "))[7:])
    assert report["d_steps"] == 1 and report["anchor"] != 0.0  # 2 steps, D on the first
    for name in ("lecam_loss", "r1_penalty", "feature_matching_loss", "discriminator_loss"):
        assert np.isfinite(report["history"][name][0]) and report["history"][name][0] > 0, name
