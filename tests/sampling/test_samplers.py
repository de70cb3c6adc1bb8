import json

import numpy as np
import pytest
import tensorflow as tf

from tfface.presets import build_preset
from tfface.sampling import (
    SAMPLERS,
    GaussianMixtureSampler,
    LatentSampler,
    PriorSampler,
    fit_sampler,
    load_sampler,
    make_sampler,
    save_sampler,
)
from tfface.sampling.gmm import fit_gaussian_mixture

CENTRES = np.array([[-6.0, 0.0, 2.0], [6.0, 1.0, -2.0], [0.0, 8.0, 0.0]])


def clustered(n_per=300, seed=0):
    rng = np.random.default_rng(seed)
    scales = [0.5, 1.0, 0.3]
    return np.concatenate([rng.normal(c, s, (n_per, 3)) for c, s in zip(CENTRES, scales)]).astype(np.float32)


def test_registry_holds_the_five_samplers():
    assert SAMPLERS.names() == ["diagonal", "gaussian", "gmm", "prior", "two_stage"]
    with pytest.raises(KeyError, match="Did you mean 'gmm'"):
        make_sampler("gmn")


def test_gmm_recovers_clusters_weights_and_spreads():
    sampler = GaussianMixtureSampler(components=3, seed=0).fit(clustered())
    order = [int(np.argmin(np.linalg.norm(sampler.means - c, axis=1))) for c in CENTRES]
    assert sorted(order) == [0, 1, 2]
    np.testing.assert_allclose(sampler.means[order], CENTRES, atol=0.15)
    np.testing.assert_allclose(sampler.weights[order], [1 / 3] * 3, atol=0.02)
    stds = [np.sqrt(np.diag(sampler.scale_tril[k] @ sampler.scale_tril[k].T)).mean() for k in order]
    np.testing.assert_allclose(stds, [0.5, 1.0, 0.3], rtol=0.15)
    assert sampler.converged


def test_gmm_init_is_seeded_and_validated():
    x = clustered(50)
    a = fit_gaussian_mixture(x, 3, seed=4)
    b = fit_gaussian_mixture(x, 3, seed=4)
    np.testing.assert_array_equal(a.means, b.means)
    with pytest.raises(ValueError, match="components=500"):
        fit_gaussian_mixture(x, 500)
    diag = fit_gaussian_mixture(x, 3, covariance="diag")
    off_diagonal = diag.covariances * (1 - np.eye(3))
    assert np.all(off_diagonal == 0)


def test_gmm_fit_memory_does_not_grow_with_points_times_components_times_dims(monkeypatch):
    import tracemalloc

    from tfface.sampling import gmm

    n, k, d = 8000, 32, 32  # an n x k x d float64 array would be 66 MB
    x = np.random.default_rng(0).normal(size=(n, d))
    tracemalloc.start()  # numpy reports its array buffers to tracemalloc
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fit = fit_gaussian_mixture(x, k, max_iter=2, seed=3)
        peak = tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
    assert peak < n * k * d * 8 / 5, f"peak {peak / 2**20:.1f} MiB"

    def all_at_once(points, centres):  # the unchunked assignment
        return np.argmin(((points[:, None, :] - centres[None]) ** 2).sum(-1), axis=1)

    monkeypatch.setattr(gmm, "nearest_centre", all_at_once)
    reference = fit_gaussian_mixture(x[:3000], k, max_iter=2, seed=3)
    monkeypatch.undo()
    chunked = fit_gaussian_mixture(x[:3000], k, max_iter=2, seed=3)
    for name in ("weights", "means", "covariances"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(reference, name))
    assert chunked.log_likelihood == reference.log_likelihood and fit.iterations == 2


@pytest.mark.parametrize("kind", ["prior", "diagonal", "gaussian", "gmm"])
def test_samples_follow_the_seed_in_numpy_and_in_a_graph(kind):
    sampler = make_sampler(kind, **({"components": 3} if kind == "gmm" else {})).fit(clustered())
    a, b, c = sampler.sample(64, seed=7), sampler.sample(64, seed=7), sampler.sample(64, seed=8)
    assert a.shape == (64, 3) and a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)

    graph = tf.function(lambda n, s, t: sampler.tf_sample(n, s, t)).get_concrete_function(
        tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int64), tf.TensorSpec([], tf.float32)
    )
    from_graph = graph(tf.constant(64), tf.constant(7, tf.int64), tf.constant(1.0)).numpy()
    np.testing.assert_allclose(from_graph, a, atol=1e-5)
    again = graph(tf.constant(64), tf.constant(7, tf.int64), tf.constant(1.0)).numpy()
    np.testing.assert_array_equal(from_graph, again)


@pytest.mark.parametrize("kind", ["diagonal", "gaussian", "gmm"])
def test_tf_sample_matches_the_fitted_distribution(kind):
    x = clustered()
    sampler = make_sampler(kind, **({"components": 3} if kind == "gmm" else {})).fit(x)
    z = sampler.tf_sample(30000, tf.constant([3, 4]), 1.0).numpy()
    np.testing.assert_allclose(z.mean(axis=0), x.mean(axis=0), atol=0.12)
    np.testing.assert_allclose(z.std(axis=0), x.std(axis=0), rtol=0.05)
    if kind != "diagonal":
        np.testing.assert_allclose(np.corrcoef(z, rowvar=False), np.corrcoef(x, rowvar=False), atol=0.03)
    if kind == "gmm":
        # most draws land near a true centre: the mixture, not one broad Gaussian
        nearest = np.min(np.linalg.norm(z[:, None] - CENTRES[None], axis=-1), axis=1)
        assert np.mean(nearest < 3.0) > 0.97


def test_temperature_pulls_codes_to_the_centre():
    prior = PriorSampler(latent_dim=16)
    full, cold = prior.sample(5000, seed=0), prior.sample(5000, seed=0, temperature=0.5)
    np.testing.assert_allclose(cold, 0.5 * full, rtol=1e-6)
    assert abs(full.std() - 1.0) < 0.03
    diag = make_sampler("diagonal").fit(clustered())
    spread = diag.sample(5000, seed=0, temperature=0.25).std(axis=0)
    np.testing.assert_allclose(spread, 0.25 * diag.std, rtol=0.06)


def test_save_and_load_reproduce_the_samples(tmp_path):
    sampler = GaussianMixtureSampler(components=3, covariance="diag").fit(clustered())
    path = save_sampler(sampler, tmp_path)  # a folder → folder/sampler.json
    assert path == str(tmp_path / "sampler.json")
    config = json.loads((tmp_path / "sampler.json").read_text())
    assert config["kind"] == "gmm" and config["components"] == 3 and config["covariance"] == "diag"
    restored = load_sampler(tmp_path)
    assert isinstance(restored, GaussianMixtureSampler) and restored.get_config() == sampler.get_config()
    np.testing.assert_allclose(restored.sample(10, seed=2), sampler.sample(10, seed=2), atol=1e-6)
    assert LatentSampler.from_config(PriorSampler(5).get_config()).sample(2, 0).shape == (2, 5)


def test_bad_inputs_are_named(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        make_sampler("gaussian").sample(3)
    with pytest.raises(ValueError, match=r"shape \(n, latent_dim\)"):
        make_sampler("diagonal").fit(np.zeros(5))
    with pytest.raises(ValueError, match="NaN or inf in 1 of 2 rows"):
        make_sampler("diagonal").fit([[0.0, np.nan], [1.0, 1.0]])
    with pytest.raises(FileNotFoundError, match="no sampler at"):
        load_sampler(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json: not valid JSON"):
        load_sampler(tmp_path / "bad.json")
    with pytest.raises(TypeError, match="sampler 'gmm'.*componets"):
        make_sampler("gmm", componets=3)


def test_fit_sampler_encodes_a_dataset_with_the_model():
    model = build_preset("vae_tiny", latent_dim=6)
    images = np.random.default_rng(0).random((40, 32, 32, 3), dtype=np.float32)
    ds = tf.data.Dataset.from_tensor_slices((images, np.zeros((40, 2), np.float32))).batch(16)
    sampler = fit_sampler(model, ds, "diagonal")
    codes = model.encode(images).numpy()
    np.testing.assert_allclose(sampler.mean, codes.mean(axis=0), atol=1e-5)
    assert fit_sampler(model, None, "prior").sample(3, seed=0).shape == (3, 6)
    with pytest.raises(ValueError, match="pass the training data"):
        fit_sampler(model, None, "gmm")
