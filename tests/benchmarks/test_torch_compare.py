"""The PyTorch twin of `benchmarks/torch_compare.py` computes what the
Keras model computes: same parameters, outputs and loss."""

import json
import os
import sys

import numpy as np
import pytest

from tests.helpers import REPO

sys.path.insert(0, os.path.join(REPO, "benchmarks"))


def odd_padding_vae():
    """A small VAE whose every conv needs TensorFlow's asymmetric SAME
    padding (5x5 and 3x3 at stride 2), forward and transposed."""
    from tfface.layers import Decoder, Encoder
    from tfface.models import VAE

    encoder = Encoder(image_shape=(16, 12, 3), latent_dim=4, norm="batch", activation="leaky_relu",
                      blocks=[{"filters": 6, "kernel_size": 5, "strides": 2},
                              {"filters": 8, "kernel_size": 3, "strides": 2}])  # fmt: skip
    decoder = Decoder(latent_dim=4, image_shape=(16, 12, 3), start_shape=(4, 3, 8), transpose=True, strides=2,
                      blocks=[{"filters": 6, "kernel_size": 3}, {"filters": 3, "kernel_size": 5, "activation": None}])  # fmt: skip
    return VAE(encoder, decoder, beta=0.5)


def residual_vae(decoder_sigma="learned_channel", **kwargs):
    """face_64's residual family at 16², with self-attention, group norm,
    (by default) a learned per-channel σ set away from its zero init, and a
    log-variance above the posterior's clip (so the KL depends on it)."""
    from tfface.layers import residual_trunks
    from tfface.models import VAE

    encoder, decoder = residual_trunks((16, 16), [8, 16], 4, attention=True, norm="group:4", **kwargs)
    model = VAE(encoder, decoder, beta=0.5, decoder_sigma=decoder_sigma)
    encoder.get_layer("z_log_var").bias.assign([9.0, 0.0, -1.0, 1.0])
    log_sigma = model.likelihood.log_sigma
    if log_sigma is not None:
        log_sigma.assign(np.linspace(-1.0, 2.0, int(np.prod(log_sigma.shape))).reshape(log_sigma.shape))
    return model


def merging_vae():
    """Skip connections joined by Concatenate (on channels and on flat
    features), Multiply, Subtract and Maximum, in both trunks."""
    import keras

    from tfface.models import VAE
    from tfface.value_range import ValueRange

    layers = keras.layers
    images = keras.Input((8, 6, 3))
    a = layers.Conv2D(4, 3, padding="same", activation="silu")(images)
    b = layers.Conv2D(2, 1)(a)
    x = layers.Concatenate()([a, b, images])
    x = layers.Conv2D(5, 3, strides=2, padding="same")(x)
    flat = layers.Flatten()(x)
    flat = layers.Concatenate()([flat, layers.Dense(7)(flat)])
    encoder = keras.Model(images, [layers.Dense(3, name="z_mean")(flat), layers.Dense(3, name="z_log_var")(flat)])
    encoder.latent_dim, encoder.image_shape, encoder.head = 3, (8, 6, 3), "gaussian"

    z = keras.Input((3,))
    h = layers.Reshape((4, 3, 4))(layers.Dense(48)(z))
    h = layers.Subtract()([layers.Conv2D(4, 3, padding="same")(h), h])
    h = layers.Maximum()([h, layers.Multiply()([h, layers.Conv2D(4, 1)(h)])])
    h = layers.UpSampling2D(2)(h)
    h = layers.Concatenate(axis=1)([layers.Cropping2D(((4, 0), (0, 0)))(h), layers.Cropping2D(((0, 4), (0, 0)))(h)])
    out = layers.Conv2D(3, 3, padding="same", activation="sigmoid")(h)
    decoder = keras.Model(z, out)
    decoder.latent_dim, decoder.image_shape, decoder.value_range = 3, (8, 6, 3), ValueRange.parse("0_1")
    return VAE(encoder, decoder, beta=2.0)


def import_torch():
    """torch, or a skip; a failure where CI promises torch (`.ci/run` sets TFFACE_REQUIRE_TORCH)."""
    if os.environ.get("TFFACE_REQUIRE_TORCH"):
        import torch  # CI installed PyTorch's CPU build: a missing torch fails here

        return torch
    return pytest.importorskip("torch")


def build(name):
    from tfface.presets import build_preset

    models = {"odd_padding": odd_padding_vae, "residual": residual_vae, "merging": merging_vae}
    return models[name]() if name in models else build_preset(name)


def twin_of(model):
    import torch_compare

    arch, weights = torch_compare.describe_model(model)
    torch_compare.load_torch_classes()
    return torch_compare.TorchLatentAutoencoder(json.loads(json.dumps(arch)), weights)


def nchw(images):
    import torch

    return torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()


def sample_images(model, n=2, seed=0):
    images = np.random.default_rng(seed).random((n, *model.image_shape), dtype=np.float32)
    return images * 2 - 1 if model.value_range == "-1_1" else images


@pytest.mark.parametrize("name", ["odd_padding", "r001_vae", "face_64", "residual", "merging"])
def test_torch_twin_has_the_keras_parameters_outputs_and_loss(name):
    torch = import_torch()
    import keras

    model = build(name)
    twin = twin_of(model).eval()

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert sum(p.numel() for p in twin.parameters()) == trainable
    images = sample_images(model)
    with torch.no_grad():
        loss, outputs = twin.losses(nchw(images), training=False)
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    np.testing.assert_allclose(outputs.permute(0, 2, 3, 1).numpy(), expected, atol=1e-4)
    expected_loss = float(model.compute_losses(images, training=False)["loss"])
    assert float(loss) == pytest.approx(expected_loss, rel=1e-4)


def test_residual_trunks_are_graphs_of_merged_chains():
    import torch_compare

    arch, _ = torch_compare.describe_model(build("face_64"))
    nodes = arch["encoder"]["nodes"]
    # Each residual block: the block's input feeds two nodes (shortcut and body), joined by an Add.
    adds = [node for node in nodes if node["ops"][0]["op"] == "merge"]
    assert [node["ops"][0]["kind"] for node in adds] == ["add"] * 4
    assert all(len(node["inputs"]) == 2 for node in adds)
    assert arch["encoder"]["outputs"] == ["encoder.z_mean", "encoder.z_log_var"]
    # A chain of layers stays a single node.
    chain, _ = torch_compare.describe_model(build("r001_vae"))
    assert [node["name"] for node in chain["encoder"]["nodes"]] == ["encoder.flatten", "encoder.z_mean", "encoder.z_log_var"]


def test_torch_twin_trains_batch_norm_as_keras_does():
    """Training mode: batch statistics and the moving mean's update (momentum)."""
    torch = import_torch()
    import keras

    model = build("face_64")
    twin = twin_of(model).train()
    images = sample_images(model, n=4, seed=1)
    with torch.no_grad():
        mean, _ = twin.posterior(nchw(images))
    expected = keras.ops.convert_to_numpy(model.encoder(images, training=True)[0])
    np.testing.assert_allclose(mean.numpy(), expected, atol=1e-4)
    norm = model.encoder.get_layer("enc1_res1_norm1")
    twin_norms = [m for m in twin.encoder.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    np.testing.assert_allclose(twin_norms[0].running_mean.numpy(), keras.ops.convert_to_numpy(norm.moving_mean), atol=1e-5)
    assert np.abs(keras.ops.convert_to_numpy(norm.moving_mean)).max() > 1e-3  # the update happened


@pytest.mark.parametrize("sigma", ["optimal", "optimal_channel", "learned", "learned_channel"])
@pytest.mark.parametrize("error", [0.3, 1e-5])
def test_torch_twin_has_the_keras_sigma_vae_reconstruction(sigma, error):
    """The calibrated Gaussian decoder's NLL, with σ* clipped at
    exp(min_log_sigma) when the error is tiny (1e-5 → log σ* ≈ -11.5)."""
    torch = import_torch()
    import keras

    model = residual_vae(decoder_sigma=sigma)
    twin = twin_of(model)
    rng = np.random.default_rng(2)
    images = rng.random((3, *model.image_shape), dtype=np.float32)
    # A different error scale per channel, so per-channel and shared σ differ.
    outputs = (images + error * np.array([1.0, 2.0, 4.0], np.float32) * rng.standard_normal(images.shape)).astype(np.float32)
    expected = float(model.reconstruction_terms(images, outputs)["reconstruction_loss"])
    with torch.no_grad():
        got = float(twin.reconstruction(nchw(images), nchw(outputs)))
    assert got == pytest.approx(expected, rel=1e-5)


def test_untranslatable_layers_are_named():
    import keras

    import torch_compare

    layer = keras.layers.Lambda(lambda t: t * 2, name="doubling")
    x = keras.Input((4,))
    model = keras.Model(x, layer(x))
    with pytest.raises(ValueError, match="doubling: no PyTorch translation for Lambda"):
        torch_compare.describe_trunk(model, "encoder", {})
