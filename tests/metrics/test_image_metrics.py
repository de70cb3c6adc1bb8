import numpy as np
import pytest

from tfface.metrics import mse, psnr, psnr_from_mse, ssim


def test_mse_and_psnr_against_hand_computed_values():
    a = np.zeros((2, 4, 4, 3), np.float32)
    b = np.stack([np.full((4, 4, 3), 0.1), np.full((4, 4, 3), 0.5)]).astype(np.float32)
    np.testing.assert_allclose(mse(a, b).numpy(), [0.01, 0.25], rtol=1e-5)
    # PSNR = 10·log10(1/MSE): 20 dB and 10·log10(4) = 6.0206 dB
    np.testing.assert_allclose(psnr(a, b).numpy(), [20.0, 6.0206], atol=1e-3)
    np.testing.assert_allclose(float(psnr_from_mse(0.02841)), 15.465, atol=1e-3)  # report 004's best row


def test_the_data_range_convention_is_6_02_db_below_for_minus_one_to_one():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 8, 8, 3)).astype(np.float32)
    y = np.clip(x + rng.normal(0, 0.1, x.shape), -1, 1).astype(np.float32)
    unit = psnr(x, y, "-1_1").numpy()
    data = psnr(x, y, "-1_1", scale="data").numpy()
    np.testing.assert_allclose(unit - data, 10 * np.log10(4.0), atol=1e-3)
    np.testing.assert_allclose(mse(x, y, "-1_1", scale="data").numpy(), 4 * mse(x, y, "-1_1").numpy(), rtol=1e-5)
    np.testing.assert_allclose(mse(x, y, "-1_1", scale="data").numpy(), np.mean((x - y) ** 2, axis=(1, 2, 3)), rtol=1e-5)
    with pytest.raises(ValueError, match="scale must be 'unit'"):
        mse(x, y, scale="pixels")


def test_ssim_against_hand_computed_values():
    # Constant images: σ = 0, so SSIM = (2μaμb + C1)/(μa² + μb² + C1) with C1 = (0.01·1)²
    a = np.full((1, 16, 16, 3), 0.5, np.float32)
    b = np.full((1, 16, 16, 3), 0.25, np.float32)
    c1 = 0.01**2
    expected = (2 * 0.5 * 0.25 + c1) / (0.5**2 + 0.25**2 + c1)
    np.testing.assert_allclose(ssim(a, b).numpy(), [expected], rtol=5e-4)
    noise = np.random.default_rng(1).random((2, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(ssim(noise, noise).numpy(), [1.0, 1.0], atol=1e-5)
    # the same pair in [-1, 1] gives the same SSIM (measured on [0, 1])
    np.testing.assert_allclose(ssim(a * 2 - 1, b * 2 - 1, "-1_1").numpy(), [expected], rtol=5e-4)
    assert ssim(noise[:1], 1 - noise[:1]).numpy()[0] < 0
