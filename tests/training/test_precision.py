"""Mixed precision and XLA switches of `train.*`: bfloat16 trains with float32
outputs, grids and exports; float16 scales the loss and skips overflowing
steps; XLA gives the same losses as the plain graph."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import random_images, tiny_config
from tfface.config import TrainConfig
from tfface.presets import build_preset
from tfface.experiments import train
from tfface.training.precision import precision_for, resolve_precision
from tfface.training.runtime import resolve_jit_compile

QUIET = ("run.export=false", "run.sample_grid=false", "run.reconstruction_grid=false", "run.save_model=false")


@pytest.fixture(autouse=True)
def _float32_policy():
    yield
    keras.mixed_precision.set_global_policy("float32")


def test_bfloat16_trains_with_finite_losses_and_float32_outputs_grids_and_export(tmp_path):
    result = train(tiny_config(tmp_path / "run", "train.mixed_precision='mixed_bfloat16'", "train.epochs=2"))
    assert keras.mixed_precision.global_policy().name == "float32"  # restored after the run
    model = result.model
    assert model.encoder.get_layer("enc1_conv").compute_dtype == "bfloat16"
    losses = result.history["loss"]
    assert all(np.isfinite(v) for key in result.history for v in result.history[key])
    assert losses[1] < losses[0]
    images = random_images(4)
    assert model(images).dtype == "float32"
    assert model.decode(np.zeros((2, model.latent_dim), "float32")).dtype == "float32"
    assert all(v.dtype == "float32" for v in model.weights if "seed" not in v.path)
    assert (tmp_path / "run" / "grids" / "samples_e002_end.png").exists()
    exported = tf.saved_model.load(result.files["export"])
    reconstructed = exported.reconstruct(tf.constant(images))["images"]
    assert reconstructed.dtype == tf.float32 and np.isfinite(reconstructed.numpy()).all()


def test_float16_policy_trains_through_a_loss_scale_optimizer(tmp_path):
    steps = 4
    config = tiny_config(tmp_path / "run", "train.mixed_precision='mixed_float16'",
                         f"train.steps_per_epoch={steps}", "data.validation_fraction=0.0", *QUIET)
    result = train(config)
    model, optimizer = result.model, result.model.optimizer
    assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.encoder.get_layer("enc1_conv").compute_dtype == "float16"
    assert model(random_images(2)).dtype == "float32"
    assert all(np.isfinite(result.history["loss"]))
    # Steps whose float16 gradients overflow are skipped and halve the scale.
    skipped = steps - int(optimizer.iterations)
    assert float(optimizer.dynamic_scale) == 2.0 ** (15 - skipped)


def _sgd_update(precision, **scaling):
    keras.mixed_precision.set_global_policy(precision)
    keras.utils.set_random_seed(0)
    model = build_preset("ae_demo", image_size=(32, 32), widths=(8, 16), seed=0)
    optimizer = keras.optimizers.SGD(1e-4)
    model.compile(optimizer=keras.optimizers.LossScaleOptimizer(optimizer, **scaling) if scaling else optimizer)
    before = [np.array(w) for w in model.trainable_weights]
    model.train_on_batch(random_images(8), return_dict=True)
    update = np.concatenate([(np.array(w) - w0).ravel() for w, w0 in zip(model.trainable_weights, before)])
    return model.optimizer, update


def test_float16_loss_scale_is_applied_and_removed_so_updates_match_float32():
    optimizer, update16 = _sgd_update("mixed_float16", initial_scale=2.0**8)
    assert int(optimizer.iterations) == 1 and float(optimizer.dynamic_scale) == 2.0**8
    _, update32 = _sgd_update("float32")
    assert np.linalg.norm(update32) > 0
    # float16 rounding: a few per cent; a missing scale or unscale is off by 256x.
    assert np.linalg.norm(update16 - update32) < 0.05 * np.linalg.norm(update32)


def test_float16_step_that_overflows_is_skipped_and_the_scale_halved():
    keras.mixed_precision.set_global_policy("mixed_float16")
    model = build_preset("vae_tiny", image_size=(32, 32), seed=0)
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1e-3), initial_scale=2.0**120)
    model.compile(optimizer=optimizer)
    before = [np.array(w) for w in model.trainable_weights]
    logs = model.train_on_batch(random_images(8), return_dict=True)
    assert np.isfinite(logs["loss"])  # the loss is float32; its float16 gradients overflow
    assert int(optimizer.iterations) == 0
    assert float(optimizer.dynamic_scale) == 2.0**119
    for weight, old in zip(model.trainable_weights, before):
        np.testing.assert_array_equal(np.array(weight), old)


def test_xla_step_gives_the_same_losses_as_the_graph_step(tmp_path):
    runs = {}
    for switch in ("on", "off"):
        # An autoencoder: the VAE's sampling noise differs under XLA.
        config = tiny_config(tmp_path / switch, "model.preset='ae_demo'", "model.args={widths=[8, 16]}",
                             f"train.jit_compile='{switch}'", *QUIET)
        result = train(config)
        assert result.model.jit_compile is (switch == "on")
        runs[switch] = result.history
    for key in runs["off"]:
        np.testing.assert_allclose(runs["on"][key], runs["off"][key], rtol=2e-3, err_msg=key)


def test_auto_xla_is_off_on_cpu_and_with_op_determinism():
    strategy = tf.distribute.get_strategy()
    assert resolve_jit_compile(TrainConfig(jit_compile="auto"), strategy) is False
    assert resolve_jit_compile(TrainConfig(jit_compile="on"), strategy) is True
    assert resolve_jit_compile(TrainConfig(jit_compile="auto", deterministic=True), strategy) is False


def test_adversarial_and_perceptual_terms_under_float16_loss_scaling(tmp_path):
    # The summed loss overflows float16 at the initial scale 2**15: the first
    # steps of the autoencoder's optimizer are skipped while its scale halves.
    steps = 16  # 2 epochs of 96 / 12
    config = tiny_config(tmp_path / "run", "train.mixed_precision='mixed_float16'", "train.epochs=2",
                         "data.num_examples=96", "data.validation_fraction=0.0", "model.adversarial_weight=0.5", "model.perceptual_weight=1.0",
                         "model.perceptual_weights='random'", "model.args={discriminator_layers=2, discriminator_width=8}",
                         *QUIET)  # fmt: skip
    result = train(config)
    model = result.model
    assert isinstance(model.discriminator_optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.discriminator.get_layer("disc2_conv").compute_dtype == "float16"
    assert all(np.isfinite(v) for values in result.history.values() for v in values)
    # Each optimizer scales its own loss: each stepped, and each skipped only
    # the steps that overflowed (every skip halves its scale from 2**15).
    for optimizer in (model.optimizer, model.discriminator_optimizer):
        assert int(optimizer.iterations) >= 1, optimizer.name
        assert float(optimizer.dynamic_scale) == 2.0 ** (15 - (steps - int(optimizer.iterations))), optimizer.name
    assert result.history["perceptual_loss"][0] > 0


X86_BF16 = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16 amx_bf16\n\nprocessor\t: 1\nflags\t\t: fpu avx512f\n"
X86_PLAIN = "processor\t: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n"
ARM_BF16 = "processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n"


@pytest.mark.parametrize("cpuinfo, expected", [(X86_BF16, "mixed_bfloat16"), (X86_PLAIN, "float32"),
                                               (ARM_BF16, "mixed_bfloat16"), (None, "float32")])  # fmt: skip
def test_auto_precision_picks_bfloat16_only_on_cpus_with_bfloat16_instructions(tmp_path, cpuinfo, expected):
    path = tmp_path / "cpuinfo"
    if cpuinfo is not None:
        path.write_text(cpuinfo)
    assert resolve_precision("auto", cpuinfo=str(path)) == expected  # no GPU on the test machines
    assert resolve_precision("float32", cpuinfo=str(path)) == "float32"
    assert resolve_precision("mixed_float16", cpuinfo=str(path)) == "mixed_float16"


def test_auto_precision_on_gpus_needs_tensor_cores():
    assert precision_for("gpu", (7, 5)) == precision_for("gpu", (8, 0)) == "mixed_float16"
    assert precision_for("gpu", (6, 1)) == precision_for("gpu", None) == "float32"
    assert precision_for("gpu", (6, 1), native_bfloat16=True) == "float32"


def test_auto_precision_run_records_and_resumes_with_the_resolved_policy(tmp_path):
    expected = resolve_precision("auto")
    config = tiny_config(tmp_path / "run", "train.mixed_precision='auto'", *QUIET)
    result = train(config)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["train"]["mixed_precision"] == expected != "auto"
    assert result.model.encoder.get_layer("enc1_conv").compute_dtype == ("bfloat16" if "bfloat16" in expected else "float32")
    resumed = train(tiny_config(tmp_path / "run", "train.mixed_precision='auto'", "train.epochs=2", *QUIET))
    assert len(resumed.history["loss"]) == 2  # resumed: the recorded policy equals what "auto" resolves to
