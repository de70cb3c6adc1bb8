import numpy as np
import pytest
import scipy.linalg

from tfface.metrics import InceptionFeatures, fid_from_features, frechet_distance, gaussian_statistics, kid_from_features


def random_covariance(d, rng):
    m = rng.normal(size=(d, d))
    return m @ m.T / d + 0.1 * np.eye(d)


def test_frechet_distance_of_a_set_with_itself_is_zero():
    x = np.random.default_rng(0).normal(size=(400, 16))
    assert abs(frechet_distance(*gaussian_statistics(x), *gaussian_statistics(x))) < 1e-8
    assert abs(fid_from_features(x, x)) < 1e-6
    wide = np.random.default_rng(1).normal(size=(50, 256))  # n < d: the low-rank path
    assert abs(fid_from_features(wide, wide)) < 1e-6


def test_frechet_distance_matches_the_closed_form():
    # 1-d: (μ1 − μ2)² + (σ1 − σ2)²
    assert frechet_distance([1.0], [[4.0]], [3.0], [[9.0]]) == pytest.approx(4.0 + 1.0)
    # diagonal: |μ1 − μ2|² + Σ (σ1ᵢ − σ2ᵢ)²
    s1, s2 = np.array([1.0, 4.0, 9.0]), np.array([4.0, 1.0, 1.0])
    mu1, mu2 = np.zeros(3), np.array([1.0, 2.0, 0.0])
    closed = 5.0 + np.sum((np.sqrt(s1) - np.sqrt(s2)) ** 2)
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(closed)
    # full, non-commuting covariances: tr(Σ1 + Σ2 − 2 (Σ1 Σ2)^½) via scipy's sqrtm
    rng = np.random.default_rng(2)
    c1, c2 = random_covariance(6, rng), random_covariance(6, rng)
    m1, m2 = rng.normal(size=6), rng.normal(size=6)
    reference = np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * np.real(scipy.linalg.sqrtm(c1 @ c2)))
    assert frechet_distance(m1, c1, m2, c2) == pytest.approx(reference, rel=1e-8)


def test_fid_of_samples_approaches_the_closed_form_and_both_paths_agree():
    rng = np.random.default_rng(3)
    c1, c2 = random_covariance(4, rng), random_covariance(4, rng)
    x = rng.multivariate_normal(np.zeros(4), c1, 20000)
    y = rng.multivariate_normal(np.ones(4), c2, 20000)
    assert fid_from_features(x, y) == pytest.approx(frechet_distance(np.zeros(4), c1, np.ones(4), c2), rel=0.03)
    small_x, small_y = rng.normal(size=(40, 64)), rng.normal(0.3, 1.5, size=(30, 64))
    low_rank = fid_from_features(small_x, small_y)  # 40 + 30 rows < 64 dims: the feature path
    assert low_rank == pytest.approx(frechet_distance(*gaussian_statistics(small_x), *gaussian_statistics(small_y)), rel=1e-6)


def test_kid_is_unbiased_near_zero_for_one_distribution_and_positive_for_a_shift():
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=(600, 32)), rng.normal(size=(600, 32))
    same, same_std = kid_from_features(a, b, subsets=30, subset_size=200)
    shifted, _ = kid_from_features(a, b + 0.5, subsets=30, subset_size=200)
    assert abs(same) < 3 * same_std + 1e-3 and shifted > 20 * (abs(same) + same_std)
    with pytest.raises(ValueError, match="at least 2 images"):
        kid_from_features(a[:1], b)


def test_inception_features_kid_and_fid_with_random_weights():
    """Random InceptionV3 at its smallest input (75²): no download, seconds."""
    extractor = InceptionFeatures(weights=None, input_size=75, batch_size=64)
    rng = np.random.default_rng(5)

    def faces(n, shift=0.0):
        return np.clip(rng.random((n, 32, 32, 3), dtype=np.float32) * 0.5 + 0.25 + shift, 0, 1)

    real, same, shifted = extractor(faces(64)), extractor(faces(64)), extractor(faces(64, 0.2))
    assert real.shape == (64, 2048) and np.isfinite(real).all()
    kid_same, kid_same_std = kid_from_features(real, same, subsets=20, subset_size=50)
    kid_shift, _ = kid_from_features(real, shifted, subsets=20, subset_size=50)
    assert kid_shift > 0 and kid_shift > 20 * (abs(kid_same) + kid_same_std)
    assert fid_from_features(real, shifted) > 10 * fid_from_features(real, same)
    # [-1, 1] input is mapped to [0, 1] first: the same features
    np.testing.assert_allclose(extractor(faces(4, 0) * 0 + 0.5), extractor(np.zeros((4, 32, 32, 3)), "-1_1"), rtol=1e-5)
    assert extractor.protocol == {"features": "InceptionV3 avg-pool 2048", "weights": "random", "inception_input_size": 75}


def test_inception_weights_are_checked():
    with pytest.raises(FileNotFoundError, match="weights file not found: /nowhere.h5"):
        InceptionFeatures(weights="/nowhere.h5")
    with pytest.raises(ValueError, match="input_size >= 75"):
        InceptionFeatures(weights=None, input_size=32)
