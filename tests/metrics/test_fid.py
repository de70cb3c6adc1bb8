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
    assert extractor.protocol["network"] == "keras-inception-v3" and extractor.protocol["weights"] == "random"
    assert extractor.protocol["inception_input_size"] == 75 and "not papers" in extractor.protocol["comparable_with"]


def test_inception_weights_are_checked():
    with pytest.raises(FileNotFoundError, match="weights file not found: /nowhere.h5"):
        InceptionFeatures(weights="/nowhere.h5")
    with pytest.raises(ValueError, match="input_size >= 75"):
        InceptionFeatures(weights=None, input_size=32)


def test_fid_is_invariant_to_rotation_and_translation_and_scales_quadratically():
    """Known answers: FID is a squared distance between Gaussians, so an
    orthogonal map and a shift applied to both sets leave it unchanged and a
    scale c multiplies it by c² (both the covariance and the low-rank path)."""
    rng = np.random.default_rng(6)
    rotation, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    shift = rng.normal(size=8)
    for n in (500, 3):  # 500 rows: covariance path; 3 + 3 rows < 8 dims: feature path
        x, y = rng.normal(size=(n, 8)), rng.normal(0.5, 2.0, size=(n, 8))
        base = fid_from_features(x, y)
        assert fid_from_features(x @ rotation + shift, y @ rotation + shift) == pytest.approx(base, rel=1e-9)
        assert fid_from_features(3 * x, 3 * y) == pytest.approx(9 * base, rel=1e-9)


def test_kid_equals_the_unbiased_mmd_written_out():
    """MMD²_u = 1/(m(m−1)) Σ_{i≠j} k(xi, xj) + 1/(n(n−1)) Σ_{i≠j} k(yi, yj) − 2/(mn) Σ k(xi, yj),
    k(a, b) = (aᵀb/d + 1)³, summed by loops; one subset of all rows has no spread."""
    x = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0]])
    y = np.array([[1.0, 1.0], [0.0, -1.0], [3.0, 0.5]])

    def k(a, b):
        return (a @ b / 2 + 1) ** 3

    within = sum(k(p[i], p[j]) for p in (x, y) for i in range(3) for j in range(3) if i != j) / 6
    across = sum(k(a, b) for a in x for b in y) / 9
    mean, std = kid_from_features(x, y, subsets=1, subset_size=3)
    assert mean == pytest.approx(within - 2 * across, rel=1e-12) and std == 0.0


@pytest.fixture(scope="module", params=[True, False], ids=["callable", "default_signature"])
def standin_module(request, tmp_path_factory):
    from tests.metrics.standin_inception import save_standin_inception

    return save_standin_inception(tmp_path_factory.mktemp("inception") / "module", callable_root=request.param)


def test_tfgan_network_feeds_the_module_uint8_bilinear_299_in_minus_one_to_one(standin_module):
    import tensorflow as tf

    from tfface.metrics import TFGANInceptionFeatures

    extractor = TFGANInceptionFeatures(module=standin_module, batch_size=3)
    seen = []
    model = extractor.model
    if callable(model):
        extractor.model = lambda batch: (seen.append(np.asarray(batch)), model(batch))[1]
    images = np.random.default_rng(7).integers(0, 256, (4, 20, 16, 3)).astype(np.float32) / 255.0
    images[0] = 0.0
    images[1] = 1.0
    features = extractor(images)
    assert features.shape == (4, 2048) and features.dtype == np.float64
    if seen:  # what the module received: 299² in [-1, 1], extremes exact, in batches of 3
        assert [b.shape for b in seen] == [(3, 299, 299, 3), (1, 299, 299, 3)]
        assert seen[0][0].min() == seen[0][0].max() == -1.0 and seen[0][1].min() == seen[0][1].max() == 1.0
    # the standard protocol, written out: uint8 → bilinear 299² (no antialias) → [-1, 1] → pool_3
    quantised = np.round(images * 255).astype(np.uint8).astype(np.float32) / 255
    resized = tf.image.resize(quantised, (299, 299), method="bilinear") * 2 - 1
    reference = tf.saved_model.load(standin_module).signatures["default"](images=resized)["pool_3"]
    np.testing.assert_allclose(features, np.reshape(reference, (4, 2048)), rtol=1e-5, atol=1e-6)
    # uint8 quantisation: less than half a grey level changes nothing; [-1, 1] data is mapped first
    np.testing.assert_array_equal(extractor(images + 0.4 / 255), features)
    np.testing.assert_allclose(extractor(images * 2 - 1, "-1_1"), features, rtol=1e-6, atol=1e-7)
    assert extractor.protocol["network"] == "tfgan-inception" and extractor.protocol["module"] == "module"
    assert "RAE 40.95" in extractor.protocol["comparable_with"]


def test_fid_network_resolution_local_copy_env_fallback_and_errors(tmp_path, monkeypatch):
    import sys
    import warnings

    from tests.metrics.standin_inception import save_standin_inception

    from tfface.metrics import InceptionFeatures, TFGANInceptionFeatures, fid_network
    from tfface.metrics.fid import FIDFallbackWarning, FIDNetworkUnavailable

    standin_module = save_standin_inception(tmp_path / "module")
    monkeypatch.setitem(sys.modules, "tensorflow_hub", None)  # not installed: no download possible
    monkeypatch.setenv("TFFACE_INCEPTION_MODULE", standin_module)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the local copy needs no fallback
        chosen = fid_network("auto", weights="none", input_size=75)
    assert isinstance(chosen, TFGANInceptionFeatures) and chosen.module == standin_module
    monkeypatch.delenv("TFFACE_INCEPTION_MODULE")
    with pytest.raises(FIDNetworkUnavailable, match=r"needs tensorflow_hub .*--inception-module DIR or \$TFFACE_INCEPTION_MODULE"):
        fid_network("tfgan-inception")
    with pytest.warns(FIDFallbackWarning, match="not comparable with papers.*needs tensorflow_hub"):
        fallback = fid_network("auto", weights="none", input_size=75)
    assert isinstance(fallback, InceptionFeatures) and fallback.protocol["network"] == "keras-inception-v3"
    with pytest.raises(FileNotFoundError, match=f"TF-GAN Inception module not found: {tmp_path / 'nowhere'}"):
        fid_network("tfgan-inception", module=str(tmp_path / "nowhere"))
    with pytest.raises(KeyError, match="unknown FID network 'inception'"):
        fid_network("inception")
