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


def import_torch():
    """torch, or a skip; a failure where CI promises torch (`.ci/run` sets TFFACE_REQUIRE_TORCH)."""
    if os.environ.get("TFFACE_REQUIRE_TORCH"):
        import torch  # CI installed PyTorch's CPU build: a missing torch fails here

        return torch
    return pytest.importorskip("torch")


@pytest.mark.parametrize("name", ["odd_padding", "r001_vae"])
def test_torch_twin_has_the_keras_parameters_outputs_and_loss(name, tmp_path):
    torch = import_torch()
    import keras

    import torch_compare
    from tfface.presets import build_preset

    model = odd_padding_vae() if name == "odd_padding" else build_preset(name)
    arch, weights = torch_compare.describe_model(model)
    torch_compare.load_torch_classes()
    twin = torch_compare.TorchLatentAutoencoder(json.loads(json.dumps(arch)), weights).eval()

    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert sum(p.numel() for p in twin.parameters()) == trainable
    images = np.random.default_rng(0).random((2, *model.image_shape), dtype=np.float32)
    if model.value_range == "-1_1":
        images = images * 2 - 1
    with torch.no_grad():
        loss, outputs = twin.losses(torch.from_numpy(images).permute(0, 3, 1, 2).contiguous(), training=False)
    expected = keras.ops.convert_to_numpy(model(images, training=False))
    np.testing.assert_allclose(outputs.permute(0, 2, 3, 1).numpy(), expected, atol=1e-4)
    expected_loss = float(model.compute_losses(images, training=False)["loss"])
    assert float(loss) == pytest.approx(expected_loss, rel=1e-4)
