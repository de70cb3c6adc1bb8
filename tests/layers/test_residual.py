"""The residual trunk family: shapes, config round-trips, the residual
path, attention, and a VAE built on it saved and reloaded."""

import doctest
import importlib

import numpy as np
import pytest

from tests.harness import run_model_saving_test
from tests.helpers import random_images
from tfface.layers import ResidualDecoder, ResidualEncoder, residual_block, residual_trunks
from tfface.models import VAE, Autoencoder


@pytest.mark.parametrize("name", ["tfface.layers.residual", "tfface.layers.likelihood"])
def test_examples_run(name):
    result = doctest.testmod(importlib.import_module(name), extraglobs={"np": np}, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("attention", [False, True])
def test_trunk_shapes_and_config_round_trip(attention):
    encoder, decoder = residual_trunks((32, 48), [8, 16], latent_dim=6, norm="group:4", attention=attention)
    z_mean, z_log_var = encoder(np.zeros((2, 32, 48, 3), np.float32))
    assert z_mean.shape == (2, 6) and z_log_var.shape == (2, 6)
    assert decoder(np.zeros((2, 6), np.float32)).shape == (2, 32, 48, 3)
    assert any("attn" in layer.name for layer in encoder.layers) == attention
    assert any("attn" in layer.name for layer in decoder.layers) == attention
    for trunk in (encoder, decoder):
        clone = type(trunk).from_config(trunk.get_config())
        assert clone.get_config() == trunk.get_config()
        assert clone.count_params() == trunk.count_params()


def test_levels_downsample_by_strided_conv_and_upsample_by_nearest_neighbour():
    encoder = ResidualEncoder(image_shape=(16, 16, 3), widths=[4, 8], blocks_per_level=2, latent_dim=2, norm="group:2")
    assert [encoder.get_layer(f"enc{i}_down").strides for i in (1, 2)] == [(2, 2), (2, 2)]
    assert encoder.get_layer("enc2_res2_add").output.shape[1:] == (4, 4, 8)
    decoder = ResidualDecoder(latent_dim=2, image_shape=(16, 16, 1), widths=[4, 8], norm=None, output_activation="tanh")
    assert decoder.value_range == "-1_1"
    assert decoder.get_layer("dec1_up").interpolation == "nearest"


def test_residual_block_is_the_identity_when_its_last_conv_is_zero():
    import keras

    inputs = keras.Input((8, 8, 4))
    block = keras.Model(inputs, residual_block(inputs, 4, "group:2", "silu", "b"))
    conv = block.get_layer("b_conv2")
    conv.set_weights([np.zeros_like(w) for w in conv.get_weights()])
    x = random_images(2, (8, 8, 4))
    np.testing.assert_allclose(np.asarray(block(x)), x, atol=1e-6)
    # a width change adds a 1x1 projection on the shortcut
    wider = keras.Model(inputs, residual_block(inputs, 6, None, "silu", "w"))
    assert wider.get_layer("w_shortcut").kernel_size == (1, 1)


def test_bad_sizes_and_heads_are_named():
    with pytest.raises(ValueError, match="divisible by 2\\*\\*3"):
        ResidualEncoder(image_shape=(20, 20, 3), widths=[4, 8, 16])
    with pytest.raises(ValueError, match="head"):
        ResidualEncoder(image_shape=(8, 8, 3), widths=[4], head="spherical")
    with pytest.raises(ValueError, match="widths"):
        ResidualDecoder(latent_dim=2, image_shape=(8, 8, 3), widths=[])


@pytest.mark.parametrize("head", ["gaussian", "deterministic"])
def test_models_on_residual_trunks_save_and_reload(head, tmp_path):
    encoder, decoder = residual_trunks((16, 16), [4, 8], latent_dim=3, head=head, norm="batch", attention=True)
    model = (VAE if head == "gaussian" else Autoencoder)(encoder, decoder, decoder_sigma="learned_channel")
    restored = run_model_saving_test(model, random_images(2, (16, 16, 3)), tmp_path)
    assert isinstance(restored.encoder, ResidualEncoder) and restored.decoder_sigma == "learned_channel"
