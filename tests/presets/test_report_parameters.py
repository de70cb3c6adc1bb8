"""Parameter counts of the report presets against the reports' own figures."""

import pytest

from tfface.presets import build_preset

# Report 002's Keras summaries (weights + batch-norm moving statistics).
REPORT_002 = {
    "r002_anime_vae": (13_802_688, 13_283_023, 27_085_711),
    "r002_iiitb_vae": (139_631_808, 10_776_207, 150_408_015),
}


@pytest.mark.parametrize("name", sorted(REPORT_002))
def test_report_002_vaes_have_the_summaries_parameter_counts(name):
    model = build_preset(name)
    counts = (model.encoder.count_params(), model.decoder.count_params(), model.count_params())
    assert counts == REPORT_002[name]


def test_report_002_non_trainable_counts_match_the_summaries():
    # Non-trainable = batch-norm moving mean and variance: 4,032 in the anime
    # encoder, 3,014 in its decoder (Keras summary, "Non-trainable params").
    model = build_preset("r002_anime_vae")
    assert sum(w.numpy().size for w in model.encoder.non_trainable_weights) == 4032
    assert sum(w.numpy().size for w in model.decoder.non_trainable_weights) == 3014


def test_report_001_decoder_output_matches_its_input():
    model = build_preset("r001_vae")
    assert model.encoder.input_shape[1:] == (64, 48, 3)
    assert model.decoder.output_shape[1:] == (64, 48, 3)
    # Table 1: eight conv layers; Table 2: eight transposed convs.
    assert sum(layer.name.endswith("_conv") for layer in model.encoder.layers) == 8
    assert sum(layer.name.endswith("_deconv") for layer in model.decoder.layers) == 8


def test_report_004_variants_follow_table_1():
    from tfface.presets.r004 import VARIANTS

    for variant, (latent, width) in VARIANTS.items():
        model = build_preset(f"r004_{variant}")
        assert model.latent_dim == latent
        assert model.encoder.get_layer("enc1_conv").filters == width
        assert model.encoder.get_layer("enc4_conv").filters == 8 * width
        assert model.decoder.output_shape[1:] == (256, 256, 3)
