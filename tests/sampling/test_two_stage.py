"""The two-stage VAE sampler: fitted on a known distribution, saved and
loaded, and served by an exported `sample` signature."""

import doctest

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import random_images
from tfface.export import export_savedmodel
from tfface.presets import build_preset
from tfface.sampling import SAMPLERS, TwoStageVAESampler, fit_sampler, load_sampler, make_sampler, save_sampler
from tfface.sampling import two_stage


def banana(n: int, seed: int = 0) -> np.ndarray:
    """x ~ N(0, 1), y = x² + small noise, shifted and scaled: a curved density
    no Gaussian fits."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return np.stack([2.0 * x + 3.0, x**2 + 0.1 * rng.normal(size=n) - 1.0], axis=1)


@pytest.fixture(scope="module")
def fitted():
    return TwoStageVAESampler(hidden_units=(64, 64), epochs=60, batch_size=128).fit(banana(2000))


def test_docstring_example_runs():
    result = doctest.testmod(two_stage, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0


def test_registered_beside_the_gmm():
    assert SAMPLERS.get("two_stage") is TwoStageVAESampler
    assert make_sampler("two_stage", epochs=3).epochs == 3


def test_samples_follow_the_fitted_curved_density(fitted):
    codes, z = banana(4000, seed=1), fitted.sample(4000, seed=1)
    np.testing.assert_allclose(z.mean(axis=0), codes.mean(axis=0), atol=0.25)
    np.testing.assert_allclose(z.std(axis=0), codes.std(axis=0), rtol=0.3)
    # the curve: y tracks ((x - 3) / 2)² as in the data, which a Gaussian cannot do
    x = (z[:, 0] - 3.0) / 2.0
    assert np.corrcoef(z[:, 1], x**2)[0, 1] > 0.8
    # lower temperature pulls codes towards the centre of the latent prior
    assert fitted.sample(4000, seed=1, temperature=0.3)[:, 0].std() < 0.6 * z[:, 0].std()


def test_save_load_gives_the_same_codes(fitted, tmp_path):
    path = save_sampler(fitted, tmp_path / "sampler.json")
    loaded = load_sampler(path)
    assert isinstance(loaded, TwoStageVAESampler) and loaded.hidden_units == [64, 64]
    np.testing.assert_allclose(loaded.sample(16, seed=5), fitted.sample(16, seed=5), atol=1e-6)
    assert not np.allclose(fitted.sample(16, seed=6), fitted.sample(16, seed=5))


def test_graph_sampling_equals_the_keras_decoder():
    codes = banana(256)
    sampler = TwoStageVAESampler(hidden_units=(8,), epochs=1).fit(codes)
    vae = sampler.second_stage(2)  # same architecture, given the fitted decoder weights
    dense = [layer for layer in vae.decoder.layers if layer.__class__.__name__ == "Dense"]
    for layer, kernel, bias in zip(dense, sampler.kernels, sampler.biases):
        layer.set_weights([kernel, bias])
    u = tf.random.stateless_normal([5, 2], seed=tf.constant([7, 0], tf.int64))
    expected = sampler.mean + sampler.std * np.asarray(vae.decode(u)).reshape(5, 2)
    np.testing.assert_allclose(sampler.sample(5, seed=7), expected, atol=1e-4)


def test_exported_sample_signature_serves_it(tmp_path):
    model = build_preset("vae_tiny", seed=0)
    sampler = fit_sampler(model, random_images(64, seed=2), "two_stage", hidden_units=(16,), epochs=2)
    path = export_savedmodel(model, tmp_path / "1", sampler=sampler)
    served = tf.saved_model.load(path).signatures["sample"](
        count=tf.constant(4), seed=tf.constant(3, tf.int64), temperature=tf.constant(0.8)
    )
    z = sampler.sample(4, seed=3, temperature=0.8)
    np.testing.assert_allclose(served["z"].numpy(), z, atol=1e-5)
    np.testing.assert_allclose(served["images"].numpy(), np.asarray(model.decode(z)), atol=1e-5)
    assert load_sampler(tmp_path / "1" / "assets.extra" / "sampler.json").kind == "two_stage"


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="epochs"):
        TwoStageVAESampler(epochs=0)
    with pytest.raises(ValueError, match="not fitted"):
        TwoStageVAESampler().sample(2)
