import math

import numpy as np
import pytest

from tfface.losses import gaussian_kl, reconstruction_loss


def kl_by_sigma(mu, sigma):
    """KL(N(mu, sigma^2) || N(0, 1)) = log(1/sigma) + (sigma^2 + mu^2)/2 - 1/2, per dimension."""
    return math.log(1.0 / sigma) + (sigma**2 + mu**2) / 2.0 - 0.5


def test_gaussian_kl_matches_closed_form():
    means = np.array([[1.0, 0.0, -2.0], [0.0, 0.0, 0.0]], np.float32)
    sigmas = np.array([[1.0, 2.0, 0.5], [1.0, 1.0, 1.0]], np.float32)
    log_vars = np.log(sigmas**2)
    expected = [sum(kl_by_sigma(m, s) for m, s in zip(row_m, row_s)) for row_m, row_s in zip(means, sigmas)]
    got = np.asarray(gaussian_kl(means, log_vars))
    np.testing.assert_allclose(got, expected, rtol=1e-5)
    assert got[1] == pytest.approx(0.0, abs=1e-7)  # the prior itself
    np.testing.assert_allclose(np.asarray(gaussian_kl(means, log_vars, "mean")), np.array(expected) / 3, rtol=1e-5)


def test_gaussian_kl_rejects_unknown_reduction():
    with pytest.raises(ValueError, match="reduction"):
        gaussian_kl(np.zeros((1, 2)), np.zeros((1, 2)), "max")


def test_mse_reductions_sum_and_mean_over_pixels():
    targets = np.zeros((2, 2, 2, 3), np.float32)
    outputs = np.zeros_like(targets)
    outputs[0] = 0.5  # 12 values of 0.25
    outputs[1, 0, 0, 0] = 1.0  # one value of 1
    np.testing.assert_allclose(np.asarray(reconstruction_loss(targets, outputs, "mse", "sum")), [3.0, 1.0])
    np.testing.assert_allclose(np.asarray(reconstruction_loss(targets, outputs, "mse", "mean")), [0.25, 1 / 12])


def test_bce_matches_hand_values_and_maps_symmetric_range():
    t = np.array([[[[1.0, 0.0, 1.0]]]], np.float32)
    p = np.array([[[[0.9, 0.2, 0.5]]]], np.float32)
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.5))
    assert float(reconstruction_loss(t, p, "bce", "sum")[0]) == pytest.approx(expected, rel=1e-5)
    # The same images in [-1, 1] give the same BCE.
    assert float(reconstruction_loss(t * 2 - 1, p * 2 - 1, "bce", "sum", value_range="-1_1")[0]) == pytest.approx(
        expected, rel=1e-5
    )


def test_unknown_reconstruction_loss_is_named():
    with pytest.raises(ValueError, match="'l1'"):
        reconstruction_loss(np.zeros((1, 2, 2, 3)), np.zeros((1, 2, 2, 3)), "l1")
