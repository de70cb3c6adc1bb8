import numpy as np
import pytest

from tests.harness import run_serialization_test
from tfface.layers import Decoder, Encoder, symmetric_trunks
from tfface.value_range import ValueRange


def test_symmetric_trunks_shapes_and_config_round_trip():
    encoder, decoder = symmetric_trunks((32, 48), [8, 16], latent_dim=6)
    z_mean, z_log_var = encoder(np.zeros((2, 32, 48, 3), np.float32))
    assert z_mean.shape == (2, 6) and z_log_var.shape == (2, 6)
    assert decoder(np.zeros((2, 6), np.float32)).shape == (2, 32, 48, 3)
    for trunk in (encoder, decoder):
        clone = run_serialization_test(trunk)
        assert clone.count_params() == trunk.count_params()


def test_decoder_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(16, 16, 3\).*\(32, 32, 3\)"):
        Decoder(latent_dim=4, image_shape=(32, 32, 3), start_shape=(8, 8, 8), strides=2, transpose=True,
                blocks=[{"filters": 3, "activation": None}])


def test_indivisible_size_is_rejected():
    with pytest.raises(ValueError, match="divisible"):
        symmetric_trunks((30, 32), [8, 16], latent_dim=4)


def test_instance_norm_normalises_each_sample_independently():
    encoder = Encoder(image_shape=(8, 8, 3), blocks=[{"filters": 4, "norm": "instance", "activation": None}],
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
        Encoder(image_shape=(8, 8, 3), blocks=[{"filters": 4, "kernal": 3}])


def _deconv(padding, kernel_size=4, output_padding=0, size=5):
    import keras

    from tfface.layers.blocks import conv_block, resolve_block

    spec = resolve_block({"filters": 2, "kernel_size": kernel_size, "strides": 2, "transpose": True,
                          "padding": padding, "output_padding": output_padding, "activation": None}, {})
    x = keras.Input((size, size, 3))
    return keras.Model(x, conv_block(x, spec, "b"))


def test_pytorch_style_transposed_padding_matches_same_for_4x4_stride_2():
    explicit, same = _deconv(1), _deconv("same")
    same.set_weights(explicit.get_weights())
    x = np.random.default_rng(0).random((2, 5, 5, 3)).astype("float32")
    np.testing.assert_allclose(np.asarray(explicit(x)), np.asarray(same(x)), atol=1e-6)


@pytest.mark.parametrize("kernel_size, padding", [(3, 1), (5, 2)])
def test_transposed_output_padding_gives_pytorch_sizes(kernel_size, padding):
    # PyTorch: (n - 1)·s - 2p + k + output_padding.
    model = _deconv(padding, kernel_size, output_padding=1, size=4)
    assert model.output_shape == (None, 8, 8, 2)
    assert _deconv(padding, kernel_size, size=4).output_shape == (None, 7, 7, 2)


def test_output_padding_needs_an_integer_transposed_padding():
    with pytest.raises(ValueError, match="output_padding"):
        _deconv("same", output_padding=1)


def test_configs_of_older_versions_load_with_their_shape_keys():
    encoder, decoder = symmetric_trunks((16, 16), [8], latent_dim=4)
    for trunk, old_key in ((encoder, "input_shape"), (decoder, "output_shape")):
        config = trunk.get_config()
        assert config["image_shape"] == [16, 16, 3] and trunk.image_shape == (16, 16, 3)
        config[old_key] = config.pop("image_shape")
        assert type(trunk).from_config(config).get_config() == trunk.get_config()


def test_decoder_stores_its_value_range_as_the_type_and_the_config_as_the_string():
    _, decoder = symmetric_trunks((16, 16), [8], latent_dim=4, output_activation="tanh")
    assert decoder.value_range is ValueRange.MINUS_ONE_ONE
    assert type(decoder.get_config()["value_range"]) is str and decoder.get_config()["value_range"] == "-1_1"
    with pytest.raises(ValueError, match="value_range must be"):
        Decoder(latent_dim=4, image_shape=(4, 4, 3), start_shape=(4, 4, 3), output_activation=None, value_range="0_255")
