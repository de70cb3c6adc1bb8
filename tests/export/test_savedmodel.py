import json
import os
import subprocess

import numpy as np
import pytest

from tests.helpers import random_images, run_python
from tfface.export import (
    SIGNATURES,
    ExportVerificationError,
    ServingOptions,
    export_savedmodel,
    verify_export,
)
from tfface.export.verify import saved_model_cli
from tfface.presets import build_preset
from tfface.sampling import fit_sampler

# Every signature of every export, called the way a server does (by
# signature name, keyword inputs) in a process where tfface cannot load.
LOAD_AND_RUN = """
import sys, json, numpy as np
sys.modules["tfface"] = None  # any tfface import fails here
import tensorflow as tf
calls = json.loads(sys.argv[2])
arrays = np.load(sys.argv[1])
out = {}
for export, signatures in calls.items():
    loaded = tf.saved_model.load(export)
    for signature, inputs in signatures.items():
        result = loaded.signatures[signature](**{k: tf.constant(arrays[v]) for k, v in inputs.items()})
        out.update({f"{export}|{signature}|{k}": v.numpy() for k, v in result.items()})
np.savez(sys.argv[3], **out)
print("signatures:", sorted(loaded.signatures))
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A VAE with a fitted mixture sampler, exported with float32 and with
    uint8 images."""
    tmp = tmp_path_factory.mktemp("export")
    model = build_preset("vae_tiny", seed=0)
    sampler = fit_sampler(model, random_images(40, seed=3), "gmm", components=2)
    paths = {
        dtype: export_savedmodel(model, tmp / dtype / "1", sampler=sampler, options=ServingOptions(image_dtype=dtype))
        for dtype in ("float32", "uint8")
    }
    return model, sampler, paths, tmp


def _unit_to_pixels(x):
    return np.round(np.clip(np.asarray(x), 0, 1) * 255).astype(np.uint8)


def test_every_signature_matches_keras_in_a_fresh_process(exported):
    model, sampler, paths, tmp = exported
    rng = np.random.default_rng(0)
    x = random_images(3, seed=5)
    arrays = {
        "z": rng.standard_normal((4, model.latent_dim)).astype("float32"),
        "x": x,
        "pixels": _unit_to_pixels(x),
        "count": np.int32(5),
        "seed": np.int64(11),
        "other_seed": np.int64(12),
        "temperature": np.float32(0.7),
    }
    np.savez(tmp / "in.npz", **arrays)
    common = {"generate": {"z": "z"}, "decode": {"z": "z"}, "sample": {"count": "count", "seed": "seed", "temperature": "temperature"}}
    float_calls = {**common, "encode": {"images": "x"}, "reconstruct": {"images": "x"}}
    uint8_calls = {**common, "encode": {"images": "pixels"}, "reconstruct": {"images": "pixels"}}
    calls = {paths["float32"]: float_calls, paths["uint8"]: uint8_calls}
    # the same seed again, and another seed, through a second signature entry
    calls[paths["float32"] + os.sep] = {"sample": {"count": "count", "seed": "other_seed", "temperature": "temperature"}}
    result = run_python(LOAD_AND_RUN, str(tmp / "in.npz"), json.dumps(calls), str(tmp / "out.npz"))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "signatures: ['decode', 'encode', 'generate', 'reconstruct', 'sample', 'serving_default']" in result.stdout
    out = dict(np.load(tmp / "out.npz"))

    def got(export, signature, key):
        return out[f"{export}|{signature}|{key}"]

    decoded = np.asarray(model.decode(arrays["z"]))
    z = sampler.sample(5, seed=11, temperature=0.7)
    sampled = np.asarray(model.decode(z))
    posterior = model.posterior(x)
    f32 = paths["float32"]
    np.testing.assert_allclose(got(f32, "generate", "images"), decoded, atol=1e-5)
    np.testing.assert_allclose(got(f32, "decode", "images"), decoded, atol=1e-5)
    np.testing.assert_allclose(got(f32, "sample", "z"), z, atol=1e-6)  # same seed, same codes as in Python
    np.testing.assert_allclose(got(f32, "sample", "images"), sampled, atol=1e-5)
    assert not np.allclose(got(f32 + os.sep, "sample", "z"), z)  # another seed, other codes
    np.testing.assert_allclose(got(f32, "encode", "mean"), np.asarray(posterior.mean), atol=1e-5)
    np.testing.assert_allclose(got(f32, "encode", "log_variance"), np.asarray(posterior.log_var), atol=1e-5)
    np.testing.assert_allclose(got(f32, "reconstruct", "images"), np.asarray(model(x)), atol=1e-5)

    u8 = paths["uint8"]
    for signature, reference in (("generate", decoded), ("sample", sampled)):
        pixels = got(u8, signature, "images")
        assert pixels.dtype == np.uint8
        assert np.abs(pixels.astype(int) - _unit_to_pixels(reference)).max() <= 1
    np.testing.assert_allclose(got(u8, "decode", "images"), decoded, atol=1e-5)  # decode stays float32
    as_float = arrays["pixels"].astype("float32") / 255
    np.testing.assert_allclose(got(u8, "encode", "mean"), np.asarray(model.encode(as_float)), atol=1e-5)
    recon = got(u8, "reconstruct", "images")
    assert recon.dtype == np.uint8 and np.abs(recon.astype(int) - _unit_to_pixels(model(as_float))).max() <= 1


def test_saved_model_cli_runs_generate_on_an_npy_input(exported, tmp_path):
    model, _, paths, _ = exported
    z = np.random.default_rng(2).standard_normal((2, model.latent_dim)).astype("float32")
    np.save(tmp_path / "z.npy", z)
    command = [*saved_model_cli(), "run", "--dir", paths["float32"], "--tag_set", "serve", "--signature_def",
               "generate", "--inputs", f"z={tmp_path / 'z.npy'}", "--outdir", str(tmp_path / "out")]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-3000:]
    np.testing.assert_allclose(np.load(tmp_path / "out" / "images.npy"), np.asarray(model.decode(z)), atol=1e-5)


def test_export_folder_describes_itself_and_reloads_as_keras(exported):
    import keras

    model, sampler, paths, _ = exported
    extra = os.path.join(paths["uint8"], "assets.extra")
    serving = json.load(open(os.path.join(extra, "serving.json")))
    assert serving["image_dtype"] == "uint8" and serving["sampler"] == "gmm"
    assert list(serving["signatures"]) == ["generate", "decode", "sample", "encode", "reconstruct"] == list(SIGNATURES)
    assert serving["signatures"]["reconstruct"]["inputs"]["images"] == {"dtype": "uint8", "shape": ["N", 32, 32, 3], "values": "[0, 255]"}
    assert serving["signatures"]["sample"]["inputs"]["count"]["values"] == "[0, 256]"
    restored = keras.saving.load_model(os.path.join(extra, "model.keras"))
    z = np.zeros((1, model.latent_dim), "float32")
    np.testing.assert_array_equal(np.asarray(restored.decode(z)), np.asarray(model.decode(z)))
    assert json.load(open(os.path.join(extra, "sampler.json")))["components"] == 2


def test_verification_refuses_an_export_of_other_weights(exported):
    model, sampler, paths, _ = exported
    other = build_preset("vae_tiny", seed=1)
    # other weights whatever the global seed state: the preset's seed does not
    # set the initial weights, and a fresh keras seed would rebuild the same ones
    other.set_weights([w + 0.05 for w in model.get_weights()])
    with pytest.raises(ExportVerificationError) as error:
        verify_export(other, paths["float32"], sampler, show=False)
    message = str(error.value)
    assert "generate.images: export differs from the Keras model by" in message
    assert "encode.mean" in message and "bad input" not in message


def test_autoencoders_return_a_point_mass_and_have_no_default_sampler(tmp_path):
    import tensorflow as tf

    model = build_preset("ae_demo", image_size=(32, 32), seed=0)
    loaded = tf.saved_model.load(export_savedmodel(model, tmp_path / "ae" / "1"))
    assert "sample" not in loaded.signatures
    x = random_images(2)
    codes = loaded.signatures["encode"](images=tf.constant(x))
    np.testing.assert_allclose(codes["mean"].numpy(), np.asarray(model.encode(x)), atol=1e-5)
    assert np.all(codes["log_variance"].numpy() == -30.0)


def test_export_maps_tanh_models_to_unit_range(tmp_path):
    import tensorflow as tf

    from tfface.layers import symmetric_trunks
    from tfface.models import VAE

    enc, dec = symmetric_trunks((32, 32), [8, 16], 4, output_activation="tanh")
    model = VAE(enc, dec, seed=0)
    path = export_savedmodel(model, tmp_path / "tanh")
    loaded = tf.saved_model.load(str(path))
    z = np.random.default_rng(1).standard_normal((2, 4)).astype("float32") * 5
    out = loaded.generate(tf.constant(z))["images"].numpy()
    np.testing.assert_allclose(out, (np.asarray(model.decode(z)) + 1) / 2, atol=1e-6)
    assert out.min() >= 0.0 and out.max() <= 1.0
    x = random_images(2)  # clients send [0, 1]; the model sees [-1, 1]
    recon = loaded.reconstruct(tf.constant(x))["images"].numpy()
    np.testing.assert_allclose(recon, (np.asarray(model(x * 2 - 1)) + 1) / 2, atol=1e-5)


def test_serving_guide_table_lists_every_signature_tensor():
    import re

    from tests.helpers import REPO
    from tfface.export import signature_docs

    section = open(os.path.join(REPO, "docs", "guides", "serving.md"), encoding="utf-8").read()
    rows, signature = set(), None
    for line in section.splitlines():
        match = re.match(r"\| (`(\w+)`)? *\| (in|out) `(\w+)` \|", line)
        if match:
            signature = match.group(2) or signature
            rows.add((signature, match.group(3), match.group(4)))
    docs = signature_docs(build_preset("vae_tiny"))
    expected = {(name, role, arg) for name, doc in docs.items()
                for role, tensors in (("in", doc.inputs), ("out", doc.outputs)) for arg in tensors}  # fmt: skip
    assert rows == expected
