"""`tfface export RUN OUT` on a tiny trained run: verified version folders in
TF Serving's layout, and exports that reopen for more training."""

import dataclasses
import json
import os

import numpy as np
import pytest

from tests.helpers import tiny_config
from tfface.cli.main import main
from tfface.training import load_run, make_optimizer, train


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("run")
    train(tiny_config(path, "run.sample_grid=false", "run.reconstruction_grid=false"))
    return path


def test_training_exports_every_signature_with_its_files(tiny_run):
    import tensorflow as tf

    version = tiny_run / "export" / "1"
    loaded = tf.saved_model.load(str(version))
    assert sorted(loaded.signatures) == ["decode", "encode", "generate", "reconstruct", "sample", "serving_default"]
    extra = version / "assets.extra"
    assert sorted(os.listdir(extra)) == ["config.json", "model.keras", "sampler.json", "serving.json"]
    assert (extra / "model.keras").read_bytes() == (tiny_run / "model.keras").read_bytes()


def test_export_command_writes_verified_versions(tiny_run, tmp_path, capsys):
    out = tmp_path / "serving" / "faces"
    assert main(["export", str(tiny_run), str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"exported:     {out / '1'}" in printed
    assert "every signature matches the Keras model" in printed
    assert "sample.images" in printed and "bad inputs refused with InvalidArgument" in printed
    assert "signature_def['reconstruct']:" in printed and "shape: (-1, 32, 32, 3)" in printed  # saved_model_cli show
    assert f"-v {out}:/models/faces -e MODEL_NAME=faces tensorflow/serving" in printed

    assert main(["export", str(tiny_run), str(out), "--uint8", "--no-verify"]) == 0
    assert "every signature matches" not in capsys.readouterr().out
    assert main(["export", str(tiny_run), str(out), "--version", "7", "--no-verify", "--sampler", "none"]) == 0
    assert sorted(os.listdir(out)) == ["1", "2", "7"]  # no temporary folders left
    assert json.loads((out / "2" / "assets.extra" / "serving.json").read_text())["image_dtype"] == "uint8"
    assert "sample" not in json.loads((out / "7" / "assets.extra" / "serving.json").read_text())["signatures"]

    assert main(["export", str(tiny_run), str(out), "--version", "2", "--no-verify"]) == 2
    assert "already exists: pick another --version (next free: 8) or pass --force" in capsys.readouterr().err
    assert main(["export", str(tiny_run / "missing"), str(out)]) == 2
    assert "run folder not found" in capsys.readouterr().err


def test_an_export_reloads_for_more_training(tiny_run, tmp_path):
    assert main(["export", str(tiny_run), str(tmp_path / "m"), "--no-verify", "--version", "3"]) == 0
    original = load_run(tiny_run)
    run = load_run(tmp_path / "m")  # the base path: newest version
    assert run.run_dir.root == str(tmp_path / "m" / "3" / "assets.extra")
    assert run.config == original.config
    for a, b in zip(run.model.get_weights(), original.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    from tfface.sampling import sampler_for_run

    assert sampler_for_run(run, save=False).kind == "prior"  # the exported sampler
    data = run.dataset("train", batch_size=12)
    run.model.compile(optimizer=make_optimizer(dataclasses.replace(run.config.train, learning_rate=3e-3)))
    before = run.model.evaluate(data, verbose=0, return_dict=True)["loss"]
    run.model.fit(data, epochs=6, verbose=0)
    after = run.model.evaluate(data, verbose=0, return_dict=True)["loss"]
    assert after < 0.97 * before, (before, after)
