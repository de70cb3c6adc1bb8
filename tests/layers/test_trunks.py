import numpy as np
import pytest

from tfface.layers import Decoder, Encoder, symmetric_trunks


def test_symmetric_trunks_shapes_and_config_round_trip():
    encoder, decoder = symmetric_trunks((32, 48), [8, 16], latent_dim=6)
    z_mean, z_log_var = encoder(np.zeros((2, 32, 48, 3), np.float32))
    assert z_mean.shape == (2, 6) and z_log_var.shape == (2, 6)
    assert decoder(np.zeros((2, 6), np.float32)).shape == (2, 32, 48, 3)
    for trunk in (encoder, decoder):
        clone = type(trunk).from_config(trunk.get_config())
        assert clone.count_params() == trunk.count_params()
        assert clone.get_config() == trunk.get_config()


def test_decoder_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(16, 16, 3\).*\(32, 32, 3\)"):
        Decoder(latent_dim=4, output_shape=(32, 32, 3), start_shape=(8, 8, 8), strides=2, transpose=True,
                blocks=[{"filters": 3, "activation": None}])


def test_indivisible_size_is_rejected():
    with pytest.raises(ValueError, match="divisible"):
        symmetric_trunks((30, 32), [8, 16], latent_dim=4)


def test_instance_norm_normalises_each_sample_independently():
    encoder = Encoder(input_shape=(8, 8, 3), blocks=[{"filters": 4, "norm": "instance", "activation": None}],
                      latent_dim=2)
    norm_layer = encoder.get_layer("enc1_norm")
    conv = encoder.get_layer("enc1_conv")
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    x[1] *= 10.0
    y = np.asarray(norm_layer(conv(x)))
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-4)
    np.testing.assert_allclose(y.std(axis=(1, 2)), 1.0, atol=1e-2)


def test_unknown_block_key_is_named():
    with pytest.raises(ValueError, match="kernal"):
        Encoder(input_shape=(8, 8, 3), blocks=[{"filters": 4, "kernal": 3}])
