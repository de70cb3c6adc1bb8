import doctest

import numpy as np
import pytest
import scipy.ndimage
import skimage.data

from tfface.metrics import swd as swd_module
from tfface.metrics.swd import (
    SWDOptions,
    laplacian_pyramid,
    normalize_descriptors,
    pyramid_down,
    pyramid_up,
    sliced_wasserstein,
    sliced_wasserstein_distance,
    wasserstein_1d,
)


def test_docstring_examples_run():
    result = doctest.testmod(swd_module, extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 6 and result.failed == 0


def test_wasserstein_1d_against_hand_computed_values():
    # Equal sizes: mean |sorted a - sorted b| = (|0-1| + |2-2| + |5-3|) / 3 = 1
    np.testing.assert_allclose(wasserstein_1d(np.array([[5.0], [0.0], [2.0]]), np.array([[3.0], [1.0], [2.0]])), [1.0])
    # {0, 1} against {0, 1, 2}: quantiles differ on t in (1/3, 1/2] by 1 and on (2/3, 1] by 1: 1/6 + 1/3 = 1/2
    np.testing.assert_allclose(wasserstein_1d(np.array([[0.0], [1.0]]), np.array([[0.0], [1.0], [2.0]])), [0.5])
    # a point mass at 0 against {1, 2, 3, 4}: the mean distance, 2.5; one column per distribution
    a, b = np.zeros((1, 2)), np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0], [4.0, 0.0]])
    np.testing.assert_allclose(wasserstein_1d(a, b), [2.5, 0.0])
    np.testing.assert_allclose(wasserstein_1d(b, a), [2.5, 0.0])


def test_sliced_wasserstein_against_hand_computed_values():
    # 1-D descriptors: every unit direction is ±1, so SWD = W1 = mean(|0-0|, |1-3|) = 1.
    assert sliced_wasserstein(np.array([[0.0], [1.0]]), np.array([[0.0], [3.0]]), seed=3) == pytest.approx(1.0)
    # Two point masses a unit apart in 2-D: |cos θ| averaged over directions is 2/π.
    value = sliced_wasserstein(np.zeros((1, 2)), np.array([[1.0, 0.0]]), directions=4096, repeats=16)
    assert value == pytest.approx(2 / np.pi, abs=0.01)


def test_descriptors_are_normalised_per_channel():
    rng = np.random.default_rng(0)
    descriptors = rng.normal([1.0, -5.0, 30.0], [2.0, 0.5, 10.0], size=(500, 7, 7, 3))
    flat = normalize_descriptors(descriptors).reshape(500, 7, 7, 3)
    np.testing.assert_allclose(flat.mean(axis=(0, 1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(flat.std(axis=(0, 1, 2)), 1.0, atol=1e-4)


def test_pyramid_matches_progans_scipy_filters():
    # ProGAN: scipy.ndimage.convolve with the 5x5 binomial kernel, mode "mirror" (cv2.pyrDown/pyrUp).
    kernel = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]).astype(np.float32) / 256.0
    images = np.random.default_rng(1).random((2, 16, 16, 3)).astype(np.float32) * 255
    down = scipy.ndimage.convolve(images, kernel[None, :, :, None], mode="mirror")[:, ::2, ::2]
    np.testing.assert_allclose(pyramid_down(images), down, rtol=1e-5, atol=1e-3)
    spread = np.zeros_like(images)
    spread[:, ::2, ::2] = images[:, :8, :8]
    up = scipy.ndimage.convolve(spread, 4 * kernel[None, :, :, None], mode="mirror")
    np.testing.assert_allclose(pyramid_up(images[:, :8, :8]), up, rtol=1e-5, atol=1e-3)
    levels = laplacian_pyramid(images, 2)
    np.testing.assert_allclose(levels[0] + pyramid_up(levels[1]), images, atol=1e-3)


def _photo_crops(count: int, size: int = 64, seed: int = 0) -> np.ndarray:
    """Random crops of skimage's bundled photographs (no CelebA), [0, 1]."""
    photos = [skimage.data.astronaut(), skimage.data.coffee(), skimage.data.chelsea(), skimage.data.rocket()]
    rng = np.random.default_rng(seed)
    crops = []
    for index in range(count):
        photo = photos[index % len(photos)]
        top = rng.integers(0, photo.shape[0] - 2 * size)
        left = rng.integers(0, photo.shape[1] - 2 * size)
        crops.append(photo[top : top + 2 * size : 2, left : left + 2 * size : 2])  # 2x subsampled: more detail
    return np.stack(crops).astype(np.float32) / 255.0


def test_a_blurred_copy_scores_worse_than_other_real_photos():
    real = _photo_crops(64)
    other = _photo_crops(64, seed=1)
    shuffled = real[np.random.default_rng(2).permutation(len(real))]
    blurred = scipy.ndimage.gaussian_filter(real, sigma=(0, 1, 1, 0))
    blur = sliced_wasserstein_distance(real, blurred)
    same = sliced_wasserstein_distance(real, shuffled)
    fresh = sliced_wasserstein_distance(real, other)  # other crops of the same photos
    assert list(blur.per_level) == [64, 32, 16]
    # measured: blur 36 (64²: 69), shuffled 19 (64²: 23), other crops 37 (64²: 26, 16²: 55)
    assert blur.average > 1.5 * same.average
    assert blur.per_level[64] > 2.5 * max(fresh.per_level[64], same.per_level[64])
    # the [-1, 1] version of the same images gives the same scores
    signed = sliced_wasserstein_distance(real * 2 - 1, blurred * 2 - 1, "-1_1")
    assert signed.average == pytest.approx(blur.average, rel=1e-6)


def test_fixed_seeds_make_it_deterministic_and_the_seed_matters():
    rng = np.random.default_rng(0)
    a, b = rng.random((12, 32, 32, 3)), rng.random((20, 32, 32, 3))
    first = sliced_wasserstein_distance(a, b)
    assert sliced_wasserstein_distance(a, b).metrics() == first.metrics()
    assert set(first.metrics()) == {"swd_32", "swd_16", "swd_avg"}
    assert first.protocol["swd_generated_images"] == 20 and first.protocol["swd_levels"] == "32/16"
    assert sliced_wasserstein_distance(a, b, options=SWDOptions(seed=1)).average != first.average


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="smaller than the coarsest level"):
        sliced_wasserstein_distance(np.zeros((2, 8, 8, 3)), np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="real images are"):
        sliced_wasserstein_distance(np.zeros((2, 32, 32, 3)), np.zeros((2, 16, 16, 3)))
    with pytest.raises(ValueError, match="must be divisible by 4"):
        sliced_wasserstein_distance(np.zeros((2, 66, 64, 3)), np.zeros((2, 66, 64, 3)))
    with pytest.raises(ValueError, match="RGB images"):
        sliced_wasserstein_distance(np.zeros((2, 32, 32)), np.zeros((2, 32, 32)))
    with pytest.raises(ValueError, match="patch_size must be odd"):
        SWDOptions(patch_size=6)
