import os

import numpy as np
import tensorflow as tf

from tests.helpers import random_images
from tfface.callbacks import LossCurves, ReconstructionGrid, SampleGrid
from tfface.presets import build_preset


def read_png(path):
    return tf.io.decode_png(tf.io.read_file(str(path))).numpy()


def test_sample_grids_at_begin_and_end_of_every_epoch(tmp_path):
    model = build_preset("vae_tiny", seed=0)
    model.compile(optimizer="adam")
    grids = SampleGrid(str(tmp_path), rows=5, seed=7)
    originals = random_images(6, seed=1)
    recon = ReconstructionGrid(str(tmp_path), originals)
    curves = LossCurves(str(tmp_path / "curves.png"))
    model.fit(random_images(16), epochs=2, batch_size=8, verbose=0, callbacks=[grids, recon, curves])

    names = sorted(f for f in os.listdir(tmp_path) if f.startswith("samples_"))
    assert names == ["samples_e001_begin.png", "samples_e001_end.png", "samples_e002_begin.png", "samples_e002_end.png"]
    # 5 x 5 faces of 32 px with a 2-px border around and between them: 5*32 + 6*2 = 172.
    for name in names:
        assert read_png(tmp_path / name).shape == (172, 172, 3)
    # Same latents every time: the grid changes only because training did.
    assert not np.array_equal(read_png(tmp_path / names[0]), read_png(tmp_path / names[1]))
    assert np.load(tmp_path / "sample_latents.npy").shape == (25, model.latent_dim)
    # Originals above reconstructions: 2 rows (2*32 + 3*2 = 70) of 6 (6*32 + 7*2 = 206).
    pairs = read_png(tmp_path / "reconstructions_e002.png")
    assert pairs.shape == (70, 206, 3)
    for i, image in enumerate(originals):
        left = 2 + i * 34
        assert np.abs(pairs[2:34, left:left + 32].astype(int) - np.round(image * 255)).max() <= 1, i
    assert read_png(tmp_path / "curves.png").shape[0] > 100


def test_sample_grid_latents_follow_the_seed(tmp_path):
    model = build_preset("vae_tiny", seed=0)
    a, b, c = (SampleGrid(str(tmp_path / n), seed=s) for n, s in (("a", 3), ("b", 3), ("c", 4)))
    for cb in (a, b, c):
        cb.set_model(model)
        cb.save(0, "end")
    assert np.array_equal(read_png(tmp_path / "a" / "samples_e001_end.png"), read_png(tmp_path / "b" / "samples_e001_end.png"))
    assert not np.array_equal(read_png(tmp_path / "a" / "samples_e001_end.png"), read_png(tmp_path / "c" / "samples_e001_end.png"))


def test_fitted_sampler_grid_decodes_from_the_sampler_refitted_on_fixed_codes(tmp_path):
    from tfface.sampling import fit_sampler

    model = build_preset("vae_tiny", seed=0)
    model.compile(optimizer="adam")
    fit_images = random_images(40, seed=2)
    gmm = SampleGrid(str(tmp_path), seed=7, sampler="gmm", fit_images=fit_images, sampler_args={"components": 2})
    prior = SampleGrid(str(tmp_path), seed=7, sampler="prior", name="prior_samples")
    diagonal = SampleGrid(str(tmp_path / "diag"), seed=7, sampler="diagonal", fit_images=fit_images, at_begin=False)
    seen = []
    probe = tf.keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((diagonal.latents_used.copy(), diagonal.fitted.mean, diagonal.fitted.std)))
    model.fit(random_images(16), epochs=2, batch_size=8, verbose=0, callbacks=[gmm, prior, diagonal, probe])

    # the grid's codes are those of a GMM fitted on the fixed images' codes with the final weights
    expected = fit_sampler(model, fit_images, "gmm", components=2).sample(25, seed=7)
    np.testing.assert_allclose(gmm.latents_used, expected, rtol=1e-5, atol=1e-6)
    assert gmm.fitted.components == 2
    codes = np.asarray(model.encode(fit_images))
    # the prior's codes are far wider than the codes the GMM (and the served sampler) draws near
    assert np.std(gmm.latents_used) < 0.5 * np.std(prior.latents_used)
    assert abs(np.std(gmm.latents_used) - np.std(codes)) < 0.5 * np.std(codes)
    a, b = read_png(tmp_path / "samples_e002_end.png"), read_png(tmp_path / "prior_samples_e002_end.png")
    assert not np.array_equal(a, b)
    assert sorted(f for f in os.listdir(tmp_path) if f.endswith(".png")) == [
        "prior_samples_e001_begin.png", "prior_samples_e001_end.png", "prior_samples_e002_begin.png",
        "prior_samples_e002_end.png", "samples_e001_begin.png", "samples_e001_end.png", "samples_e002_begin.png",
        "samples_e002_end.png"]  # fmt: skip
    # the same 25 draws every epoch: the standardised codes are identical while the fit moved
    (first, mean1, std1), (second, mean2, std2) = seen
    assert not np.allclose(mean1, mean2)
    np.testing.assert_allclose((first - mean1) / std1, (second - mean2) / std2, rtol=1e-4, atol=1e-4)


def test_a_run_that_fits_a_sampler_shows_that_kind_in_its_grids(tmp_path):
    from tests.helpers import tiny_config
    from tfface.training import train_run

    config = tiny_config(tmp_path, "run.fit_sampler='gmm'", "run.sampler_args={components=2}", "run.sampler_fit_images=24",
                         "run.tensorboard=false", "run.export=false")  # fmt: skip
    result = train_run(config, extra_callbacks=[])
    grids = sorted(os.listdir(result.run_dir.grids))
    assert "samples_e001_end.png" in grids and "prior_samples_e001_end.png" in grids and "prior_samples_latents.npy" in grids
