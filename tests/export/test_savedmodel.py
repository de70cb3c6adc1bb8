import numpy as np

from tests.helpers import random_images, run_python
from tfface.export import export_savedmodel
from tfface.presets import build_preset

LOAD_AND_RUN = """
import sys, numpy as np, tensorflow as tf
assert "tfface" not in sys.modules
loaded = tf.saved_model.load(sys.argv[1])
z = np.load(sys.argv[2]); x = np.load(sys.argv[3])
np.save(sys.argv[4], loaded.generate(tf.constant(z)).numpy())
np.save(sys.argv[5], loaded.reconstruct(tf.constant(x)).numpy())
print("modules:", "tfface" in sys.modules)
"""


def test_savedmodel_matches_keras_in_a_fresh_process(tmp_path):
    model = build_preset("vae_tiny", seed=0)
    model.compile(optimizer="adam")
    model.fit(random_images(16), epochs=1, batch_size=8, verbose=0)
    path = export_savedmodel(model, tmp_path / "export" / "1")
    z = np.random.default_rng(0).standard_normal((3, model.latent_dim)).astype("float32")
    x = random_images(2, seed=5)
    files = [str(tmp_path / f) for f in ("z.npy", "x.npy", "gen.npy", "rec.npy")]
    np.save(files[0], z)
    np.save(files[1], x)
    result = run_python(LOAD_AND_RUN, str(path), *files)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "modules: False" in result.stdout
    np.testing.assert_allclose(np.load(files[2]), np.asarray(model.decode(z)), atol=1e-5)
    np.testing.assert_allclose(np.load(files[3]), np.asarray(model(x)), atol=1e-5)


def test_export_maps_tanh_models_to_unit_range(tmp_path):
    import tensorflow as tf

    from tfface.layers import symmetric_trunks
    from tfface.models import VAE

    enc, dec = symmetric_trunks((32, 32), [8, 16], 4, output_activation="tanh")
    model = VAE(enc, dec, seed=0)
    path = export_savedmodel(model, tmp_path / "tanh")
    loaded = tf.saved_model.load(str(path))
    z = np.random.default_rng(1).standard_normal((2, 4)).astype("float32") * 5
    out = loaded.generate(tf.constant(z)).numpy()
    np.testing.assert_allclose(out, (np.asarray(model.decode(z)) + 1) / 2, atol=1e-6)
    assert out.min() >= 0.0 and out.max() <= 1.0
