import json

import numpy as np
import pytest

from tests.helpers import tiny_config
from tfface.config import save_config
from tfface.metrics import attribute_accuracy, evaluate_run
from tfface.run import RunDir, load_run


def test_attribute_accuracy_per_label_and_mean():
    result = attribute_accuracy([[0.9, 0.1, 0.6], [0.2, 0.8, 0.4]], [[1, 0, 0], [0, 0, 0]], ["a", "b", "c"])
    assert result["per_attribute"] == {"a": 1.0, "b": 0.5, "c": 0.5}
    assert result["mean"] == pytest.approx(4 / 6) and result["count"] == 2
    with pytest.raises(ValueError, match=r"must both be \(n, 3\)"):
        attribute_accuracy([[0.1]], [[1]], ["a", "b", "c"])


def test_evaluate_run_writes_metrics_with_protocol(tiny_run):
    results = evaluate_run(
        tiny_run, fid=True, fid_network="keras-inception-v3", inception_weights="none", inception_size=75, generated=12, kid_subsets=4, kid_subset_size=8
    )
    stored = json.loads((tiny_run / "metrics.json").read_text())
    assert stored["metrics"] == pytest.approx(results["metrics"])
    metrics = stored["metrics"]
    for key in ("mse", "psnr", "ssim", "mse_data_range", "psnr_data_range", "fid", "kid", "kid_std"):
        assert np.isfinite(metrics[key]), key
    # [0, 1] data: the data-range convention equals the unit one; PSNR of the mean MSE ≤ mean PSNR (Jensen)
    assert metrics["mse_data_range"] == pytest.approx(metrics["mse"], rel=1e-6)
    assert metrics["psnr_data_range"] == pytest.approx(10 * np.log10(1 / metrics["mse"]), rel=1e-5)
    assert metrics["psnr_data_range"] <= metrics["psnr"] + 1e-6
    assert "attribute_accuracy" not in metrics  # a VAE does not predict attributes
    protocol = stored["protocol"]
    assert protocol["split"] == "validation" and protocol["images"] == 12 and protocol["image_size"] == "32x32"
    assert protocol["fid_generated_images"] == 12 and protocol["fid_weights"] == "random"
    assert protocol["fid_inception_input_size"] == 75 and protocol["sampler"] == "prior"
    assert stored["history"]["loss"] > 0 and stored["options"]["generated"] == 12
    md = (tiny_run / "metrics.md").read_text()
    assert "| psnr |" in md and "- fid_inception_input_size: 75" in md and "6.02 dB" in md
    assert "Synthetic faces" in md
    assert protocol["fid_network"] == "keras-inception-v3" and "(not papers)" in md


def test_evaluate_cli_fid_on_a_local_tfgan_inception_records_the_network(tiny_run, tmp_path, capsys):
    from tests.metrics.standin_inception import save_standin_inception
    from tfface.cli.main import main

    module = save_standin_inception(tmp_path / "inception_1")
    assert main(["evaluate", str(tiny_run), "--fid", "--inception-module", module, "--generated", "12",
                 "--kid-subsets", "4", "--kid-subset-size", "8"]) == 0  # fmt: skip
    stored = json.loads((tiny_run / "metrics.json").read_text())
    protocol = stored["protocol"]
    assert protocol["fid_network"] == "tfgan-inception" and protocol["fid_module"] == "inception_1"
    assert protocol["fid_inception_input_size"] == 299 and "uint8" in protocol["fid_preprocessing"]
    assert "fid_fallback" not in protocol and np.isfinite(stored["metrics"]["fid"])
    assert stored["options"]["fid_network"] == "auto" and stored["options"]["inception_module"] == module
    assert any("comparable with TTUR, pytorch-fid" in note for note in stored["notes"])


def test_evaluate_run_reports_swd_of_generated_against_split_images(tiny_run):
    from tfface.metrics import sliced_wasserstein_distance
    from tfface.sampling.latents import generate
    from tfface.sampling.run import sampler_for_run

    results = evaluate_run(tiny_run, swd=True, generated=12, seed=3, write=False)
    metrics, protocol = results["metrics"], results["protocol"]
    assert {"swd_32", "swd_16", "swd_avg"} <= set(metrics) and "fid" not in metrics
    assert metrics["swd_avg"] == pytest.approx((metrics["swd_32"] + metrics["swd_16"]) / 2)
    assert protocol["swd_levels"] == "32/16" and protocol["swd_generated_images"] == 12 and protocol["swd_seed"] == 3
    assert protocol["swd_patch_size"] == 7 and protocol["swd_directions"] * protocol["swd_repeats"] == 512
    assert any("sliced Wasserstein" in note for note in results["notes"])
    # the same figure as the metric on the run's own generated and validation images
    loaded = load_run(tiny_run)
    generated = generate(loaded.model, sampler_for_run(loaded), 12, seed=3)
    from tfface.metrics.swd import SWDOptions

    direct = sliced_wasserstein_distance(loaded.images("validation", 12), generated, options=SWDOptions(seed=3))
    assert metrics["swd_avg"] == pytest.approx(direct.average, rel=1e-6)


def test_evaluate_run_reports_attribute_accuracy_for_classifier_encoders(tmp_path):
    import keras

    from tfface.data.synthetic import SYNTHETIC_ATTRIBUTES
    from tfface.layers import Decoder, Encoder
    from tfface.models import Autoencoder

    k = len(SYNTHETIC_ATTRIBUTES)
    encoder = Encoder(image_shape=(32, 32, 3), blocks=[8], latent_dim=k, head="deterministic",
                      latent_activation="sigmoid", strides=2)
    decoder = Decoder(latent_dim=k, image_shape=(32, 32, 3), start_shape=(16, 16, 8), blocks=[{"filters": 3}],
                      strides=2, transpose=True)
    model = Autoencoder(encoder, decoder)
    run = RunDir(tmp_path).create()
    save_config(tiny_config(tmp_path), run.config)
    model.save(run.model)
    keras.backend.clear_session()
    results = evaluate_run(tmp_path, count=10)
    assert results["protocol"]["images"] == 10
    per = results["attribute_accuracy"]
    assert list(per) == list(SYNTHETIC_ATTRIBUTES) and all(0 <= v <= 1 for v in per.values())
    assert results["metrics"]["attribute_accuracy"] == pytest.approx(np.mean(list(per.values())))
    assert "## Attribute accuracy" in (tmp_path / "metrics.md").read_text()


def test_load_run_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="run folder not found"):
        load_run(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="config.json not found"):
        load_run(tmp_path)
    with pytest.raises(ValueError, match="unknown evaluate option 'splt'.*did you mean 'split'"):
        from tfface.metrics import EvaluationOptions

        EvaluationOptions.from_dict({"splt": "test"})


def test_evaluate_run_on_minus_one_to_one_data_reports_both_psnr_conventions(tmp_path):
    import keras

    from tfface.layers import symmetric_trunks
    from tfface.models import Autoencoder

    encoder, decoder = symmetric_trunks((32, 32), [8], 4, head="deterministic", output_activation="tanh")
    run = RunDir(tmp_path).create()
    save_config(tiny_config(tmp_path), run.config)
    Autoencoder(encoder, decoder).save(run.model)
    keras.backend.clear_session()
    results = evaluate_run(tmp_path, count=12)
    metrics = results["metrics"]
    assert results["protocol"]["value_range"] == "-1_1"
    assert metrics["mse_data_range"] == pytest.approx(4 * metrics["mse"], rel=1e-5)
    assert metrics["psnr_data_range"] == pytest.approx(10 * np.log10(1 / metrics["mse_data_range"]), rel=1e-5)
    assert 10 * np.log10(1 / metrics["mse"]) - metrics["psnr_data_range"] == pytest.approx(6.0206, abs=1e-3)


def test_a_perfect_reconstruction_writes_standard_json_and_reads_back(tiny_run):
    from tfface.metrics.report import read_metrics
    from tfface.run import LoadedRun

    class Identity:  # the trained model, but reconstructing every image exactly
        def __init__(self, model):
            self.model = model

        def __getattr__(self, name):
            return getattr(self.model, name)

        def __call__(self, images, training=False):
            return images

    loaded = load_run(tiny_run)
    results = evaluate_run(LoadedRun(loaded.run_dir, loaded.config, Identity(loaded.model)), count=8)
    assert results["metrics"]["psnr"] == float("inf") and results["metrics"]["mse"] == 0.0

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    text = (tiny_run / "metrics.json").read_text()
    stored = json.loads(text, parse_constant=refuse)  # no Infinity/NaN tokens
    assert stored["metrics"]["psnr"] is None and stored["metrics"]["psnr_data_range"] is None
    assert stored["non_finite"] == {"metrics.psnr": "inf", "metrics.psnr_data_range": "inf"}
    assert any("metrics.psnr = inf" in note for note in stored["notes"])
    back = read_metrics(str(tiny_run / "metrics.json"))
    assert back["metrics"]["psnr"] == float("inf") and back["metrics"]["mse"] == 0.0
    assert "| psnr | inf |" in (tiny_run / "metrics.md").read_text()
