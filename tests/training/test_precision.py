"""Mixed precision and XLA switches of `train.*`: bfloat16 trains with float32
outputs, grids and exports; float16 scales the loss and skips overflowing
steps; XLA gives the same losses as the plain graph."""

import dataclasses
import json
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import random_images, tiny_config
from tfface.config import TrainConfig
from tfface.presets import build_preset
from tfface.experiments import train
from tfface.training import precision
from tfface.training.precision import Device, choose_precision, precision_for
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


T4 = Device("gpu", "Tesla T4", (7, 5), 1)
CPU_AVX512_BF16 = Device("cpu", "Intel Xeon (AVX512-BF16, no AMX)", cpu_flags=frozenset({"avx2", "avx512f", "avx512_bf16"}))


@pytest.mark.parametrize("capability, expected", [((6, 1), "float32"), ((7, 5), "mixed_float16"), ((8, 0), "mixed_bfloat16"),
                                                  ((8, 9), "mixed_bfloat16"), (None, "float32")])  # fmt: skip
def test_auto_precision_on_gpus_float16_on_7x_bfloat16_from_8_0(capability, expected):
    choice = choose_precision("auto", Device("gpu", "GPU", capability, 1))
    assert choice.policy == precision_for("gpu", capability) == expected
    assert choice.requested == "auto" and str(capability[0] if capability else "unknown") in choice.reason
    assert choose_precision("float32", Device("gpu", "GPU", capability, 1)).policy == "float32"  # pinned


@pytest.fixture
def probe(monkeypatch, tmp_path):
    """The CPU probe measures `probe.speedup` (and counts its calls); its cache lives in tmp_path."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    class Probe:
        speedup, calls = 1.0, 0

        def __call__(self, seconds=precision.PROBE_SECONDS):
            self.calls += 1
            return self.speedup

    fake = Probe()
    monkeypatch.setattr(precision, "measure_bfloat16_speedup", fake)
    return fake


@pytest.mark.parametrize("speedup, expected", [(1.35, "mixed_bfloat16"), (0.59, "float32")])
def test_auto_precision_on_a_bfloat16_cpu_follows_the_cached_probe(probe, speedup, expected, tmp_path):
    probe.speedup = speedup
    choice = choose_precision("auto", CPU_AVX512_BF16)
    assert (choice.policy, probe.calls) == (expected, 1)
    assert f"{speedup:.2f}x" in choice.reason and "cached" not in choice.reason
    cache = json.loads((tmp_path / "tfface" / precision.PROBE_CACHE).read_text())
    assert [entry["speedup"] for entry in cache.values()] == [speedup]
    again = choose_precision("auto", CPU_AVX512_BF16)  # cache hit: no second probe
    assert (again.policy, probe.calls) == (expected, 1) and "cached probe" in again.reason
    other = dataclasses.replace(CPU_AVX512_BF16, name="AMD EPYC 9654 (Zen 4)")
    choose_precision("auto", other)  # another CPU model: measured on its own
    assert probe.calls == 2


def test_auto_precision_on_cpus_without_the_probe_float32_without_bfloat16_bfloat16_with_amx(probe):
    plain = choose_precision("auto", Device("cpu", "Intel Xeon", cpu_flags=frozenset({"avx2", "avx512f"})))
    assert plain.policy == "float32" and "without bfloat16" in plain.reason
    amx = choose_precision("auto", Device("cpu", "Intel Xeon", cpu_flags=frozenset({"avx512_bf16", "amx_bf16"})))
    assert amx.policy == "mixed_bfloat16" and "AMX" in amx.reason
    arm = choose_precision("auto", Device("cpu", "Neoverse-V1", cpu_flags=frozenset({"asimd", "bf16"})))
    assert arm.policy == "float32" and "probe" in arm.reason  # probe.speedup 1.0 < 1.1
    assert probe.calls == 1


def test_cpu_probe_measures_both_policies_within_its_time_bound():
    start = time.perf_counter()
    speedup = precision.measure_bfloat16_speedup(seconds=1.0)
    assert 0.05 < speedup < 50
    assert time.perf_counter() - start < 15  # two traces, then stops at the bound


def test_detect_device_reads_the_cpu_model_and_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9654\nflags\t\t: fpu avx512f avx512_bf16\n\n"
                       "processor\t: 1\nmodel name\t: AMD EPYC 9654\nflags\t\t: fpu avx512f avx512_bf16\n")
    device = precision.detect_device(str(cpuinfo))  # no GPU on the test machines
    assert (device.kind, device.name, device.count) == ("cpu", "AMD EPYC 9654", 0)
    assert {"avx512f", "avx512_bf16"} <= device.cpu_flags
    assert precision.detect_device(str(tmp_path / "missing")).cpu_flags == frozenset()


def test_auto_precision_run_records_auto_and_the_policy_it_trained_under(tmp_path):
    expected = choose_precision("auto")
    result = train(tiny_config(tmp_path / "run", "train.mixed_precision='auto'", *QUIET))
    assert json.loads((tmp_path / "run" / "config.json").read_text())["train"]["mixed_precision"] == "auto"
    (segment,) = json.loads((tmp_path / "run" / "precision.json").read_text())["segments"]
    assert segment == {"from_epoch": 0, **expected.to_dict()}
    assert result.model.encoder.get_layer("enc1_conv").compute_dtype == keras.mixed_precision.Policy(expected.policy).compute_dtype
    resumed = train(tiny_config(tmp_path / "run", "train.mixed_precision='auto'", "train.epochs=2", *QUIET))
    assert len(resumed.history["loss"]) == 2
    assert len(json.loads((tmp_path / "run" / "precision.json").read_text())["segments"]) == 1  # same device: one segment
