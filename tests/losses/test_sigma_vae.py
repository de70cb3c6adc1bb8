"""The calibrated Gaussian decoder (σ-VAE): the NLL on known cases, the
analytic σ at the likelihood's optimum, gradient directions, and a VAE
that learns with it."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from tfface.layers import GaussianLikelihood, symmetric_trunks
from tfface.losses import gaussian_nll, optimal_log_sigma
from tfface.models import VAE


def test_nll_matches_the_gaussian_log_density():
    rng = np.random.default_rng(0)
    x, y = rng.random((2, 3, 4, 2)), rng.random((2, 3, 4, 2))
    sigma = np.array([0.3, 0.7])
    expected = -np.sum(-np.log(sigma) - 0.5 * np.log(2 * np.pi) - (x - y) ** 2 / (2 * sigma**2), axis=(1, 2, 3))
    np.testing.assert_allclose(np.asarray(gaussian_nll(x, y, np.log(sigma))), expected, rtol=1e-5)


@pytest.mark.parametrize("per_channel", [False, True])
def test_analytic_sigma_is_the_mse_optimum(per_channel):
    rng = np.random.default_rng(1)
    x = rng.random((4, 5, 5, 3)).astype("float32")
    y = (x + rng.normal(0, [0.05, 0.1, 0.2], x.shape)).astype("float32")
    log_sigma = np.asarray(optimal_log_sigma(x, y, per_channel=per_channel))
    mse = ((x - y) ** 2).mean(axis=(0, 1, 2) if per_channel else None)
    np.testing.assert_allclose(np.exp(2 * log_sigma), mse, rtol=1e-5)

    def batch_nll(shift):
        return float(np.mean(gaussian_nll(x, y, log_sigma + shift)))

    best = batch_nll(0.0)
    assert best < batch_nll(0.05) and best < batch_nll(-0.05)


def test_gradients_pull_outputs_to_targets_and_sigma_to_the_error():
    x = np.zeros((1, 2, 2, 1), np.float32)
    outputs = tf.Variable(np.full((1, 2, 2, 1), 0.2, np.float32))
    likelihood = GaussianLikelihood("learned", channels=1)  # log σ = 0: σ far above the error
    with tf.GradientTape() as tape:
        nll, _ = likelihood(x, outputs)
    d_outputs, d_log_sigma = tape.gradient(nll, [outputs, likelihood.log_sigma])
    assert np.all(np.asarray(d_outputs) > 0)  # descent moves outputs down, towards x = 0
    assert float(d_log_sigma) > 0  # descent shrinks σ towards the 0.2 error
    np.testing.assert_allclose(np.asarray(d_outputs), 0.2, rtol=1e-2)  # (x̂ − x) / σ² with σ ≈ 1


def test_analytic_sigma_gradient_equals_the_fixed_sigma_gradient():
    rng = np.random.default_rng(2)
    x = rng.random((2, 4, 4, 3)).astype("float32")
    outputs = tf.Variable(x + rng.normal(0, 0.1, x.shape).astype("float32"))
    with tf.GradientTape(persistent=True) as tape:
        analytic = tf.reduce_mean(GaussianLikelihood("optimal")(x, outputs)[0])
        fixed = tf.reduce_mean(gaussian_nll(x, outputs, optimal_log_sigma(x, tf.constant(outputs))))
    np.testing.assert_allclose(tape.gradient(analytic, outputs), tape.gradient(fixed, outputs), rtol=1e-4)


def test_unknown_sigma_mode_and_bce_are_rejected():
    with pytest.raises(ValueError, match="learnt"):
        GaussianLikelihood("learnt")
    encoder, decoder = symmetric_trunks((16, 16), [4], latent_dim=2)
    with pytest.raises(ValueError, match="reconstruction_loss must be 'mse'"):
        VAE(encoder, decoder, reconstruction_loss="bce", decoder_sigma="optimal")


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_a_reduction_set_with_a_calibrated_decoder_is_rejected_not_ignored(reduction):
    encoder, decoder = symmetric_trunks((16, 16), [4], latent_dim=2)
    with pytest.raises(ValueError, match=rf"reconstruction_reduction='{reduction}' does not apply to decoder_sigma='optimal'"):
        VAE(encoder, decoder, reconstruction_reduction=reduction, decoder_sigma="optimal")
    model = VAE(encoder, decoder, decoder_sigma="optimal")  # unset: the likelihood decides
    assert keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(model)).decoder_sigma == "optimal"


def two_factor_images(n: int, size: int = 16) -> np.ndarray:
    """Images a x/size + b y/size for random a, b: a two-dimensional family."""
    a, b = np.random.default_rng(0).random((2, n, 1, 1, 1)).astype("float32")
    ramp = np.linspace(0, 1, size, dtype="float32")
    return 0.5 * (a * ramp[None, :, None, None] + b * ramp[None, None, :, None]) * np.ones((1, 1, 1, 3), "float32")


@pytest.mark.parametrize("sigma", ["optimal", "learned"])
def test_sigma_vae_learns_and_reports_log_sigma(sigma):
    keras.utils.set_random_seed(0)
    encoder, decoder = symmetric_trunks((16, 16), [8, 16], latent_dim=4)
    model = VAE(encoder, decoder, decoder_sigma=sigma, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    images = two_factor_images(64)
    history = model.fit(images, epochs=10, batch_size=16, verbose=0).history
    assert set(history) == {"loss", "reconstruction_loss", "kl_loss", "log_sigma"}
    assert history["loss"][-1] < history["loss"][0] - 100
    assert history["log_sigma"][-1] < history["log_sigma"][0] - 0.3
    if sigma == "learned":
        assert float(model.likelihood.log_sigma) < -0.1  # the weight itself moved down from 0
