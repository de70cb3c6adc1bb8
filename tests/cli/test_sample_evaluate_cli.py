import json

import numpy as np

from tfface.cli.main import main
from tfface.sampling import load_sampler


def png_shape(path):
    import tensorflow as tf

    return tuple(tf.io.decode_png(tf.io.read_file(str(path))).shape)


def test_sample_grid_from_a_fitted_mixture(tiny_run, capsys):
    args = ["sample", str(tiny_run), "--sampler", "gmm", "--components", "2", "--count", "9", "--temperature", "0.7"]
    assert main(args) == 0
    out = tiny_run / "samples" / "samples_gmm_t0.7_s0.png"
    assert str(out) in capsys.readouterr().out and png_shape(out) == (3 * 32 + 4 * 2, 3 * 32 + 4 * 2, 3)
    sampler = load_sampler(tiny_run)
    assert sampler.kind == "gmm" and sampler.components == 2 and sampler.latent_dim == 8
    first = out.read_bytes()
    assert main(args) == 0 and out.read_bytes() == first  # same seed, same faces


def test_sample_actions(tiny_run, capsys):
    samples = tiny_run / "samples"
    assert main(["sample", str(tiny_run), "fit", "--sampler", "diagonal", "--refit"]) == 0
    assert json.loads((tiny_run / "sampler.json").read_text())["kind"] == "diagonal"
    assert main(["sample", str(tiny_run), "interpolate", "--count", "2", "--steps", "4", "--method", "linear"]) == 0
    assert png_shape(samples / "interpolation_linear.png")[:2] == (2 * 32 + 3 * 2, 6 * 32 + 7 * 2)
    assert main(["sample", str(tiny_run), "interpolate", "--from-samples", "--count", "1", "--steps", "5"]) == 0
    assert png_shape(samples / "interpolation_slerp_samples.png")[:2] == (32 + 4, 5 * 32 + 6 * 2)
    assert main(["sample", str(tiny_run), "traverse", "--dims", "0", "3", "--steps", "5"]) == 0
    assert png_shape(samples / "traversal.png")[:2] == (2 * 32 + 3 * 2, 5 * 32 + 6 * 2)
    assert main(["sample", str(tiny_run), "edit", "--edits", "Smiling", "--remove", "Eyeglasses", "--count", "3"]) == 0
    assert png_shape(samples / "edits_Smiling_minus_Eyeglasses.png")[:2] == (4 * 32 + 5 * 2, 3 * 32 + 4 * 2)
    directions = json.loads((samples / "attribute_directions.json").read_text())
    assert directions["names"][0] == "Bald" and len(directions["directions"][0] or []) in (0, 8)
    assert main(["sample", str(tiny_run), "directions", "--fit-count", "24"]) == 0  # where export and explore find them
    fitted = json.loads((tiny_run / "attribute_directions.json").read_text())
    assert fitted["names"] == directions["names"] and sum(fitted["with_count"]) > 0
    out = capsys.readouterr().out
    assert "edit:" in out and "traverse:" in out and "`tfface export` carries them to the explorer" in out
    # errors name the problem: a VAE with an 8-d latent is not an attribute classifier
    assert main(["sample", str(tiny_run), "attributes", "--attrs", "Male,Smiling"]) == 2
    assert main(["sample", str(tiny_run), "edit", "--edits", "Smilng"]) == 2
    assert main(["sample", str(tiny_run), "sideways"]) == 2
    err = capsys.readouterr().err
    assert "classifier-encoder" in err and "Did you mean 'Smiling'" in err and "unknown sample action 'sideways'" in err


def test_evaluate_command(tiny_run, capsys):
    assert main(["evaluate", str(tiny_run), "--count", "6", "--swd", "--generated", "10"]) == 0
    out = capsys.readouterr().out
    assert "| psnr |" in out and "metrics.json" in out and "| swd_avg |" in out
    stored = json.loads((tiny_run / "metrics.json").read_text())
    assert stored["protocol"]["images"] == 6 and np.isfinite(stored["metrics"]["ssim"])
    assert stored["options"]["swd"] is True and stored["protocol"]["swd_generated_images"] == 10
    assert main(["evaluate", str(tiny_run / "missing")]) == 2
    assert "run folder not found" in capsys.readouterr().err
