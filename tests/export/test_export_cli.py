"""`tfface export RUN OUT` on a tiny trained run: verified version folders in
TF Serving's layout, and exports that reopen for more training."""

import dataclasses
import json
import os

import numpy as np

from tfface.cli.main import main
from tfface.sampling import sampler_for_run
from tfface.run import load_run
from tfface.training import make_optimizer


def test_export_command_writes_verified_versions_that_reload_for_training(exported_run, tmp_path, capsys):
    import tensorflow as tf

    run_dir = exported_run
    # training's own export: every signature, and the files to reopen it
    loaded = tf.saved_model.load(str(run_dir / "export" / "1"))
    assert sorted(loaded.signatures) == ["decode", "encode", "generate", "reconstruct", "sample", "serving_default"]
    extra = run_dir / "export" / "1" / "assets.extra"
    assert sorted(os.listdir(extra)) == ["config.json", "model.keras", "sampler.json", "serving.json"]
    assert (extra / "model.keras").read_bytes() == (run_dir / "model.keras").read_bytes()

    out = tmp_path / "serving" / "faces"
    assert main(["export", str(run_dir), str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"exported:     {out / '1'}" in printed
    assert "every signature matches the Keras model" in printed
    assert "sample.images" in printed and "bad inputs refused with InvalidArgument" in printed
    assert "signature_def['reconstruct']:" in printed and "shape: (-1, 32, 32, 3)" in printed  # saved_model_cli show
    assert f"-v {out}:/models/faces -e MODEL_NAME=faces tensorflow/serving" in printed

    assert main(["export", str(run_dir), str(out), "--uint8", "--version", "7", "--sampler", "none", "--no-verify"]) == 0
    assert "every signature matches" not in capsys.readouterr().out
    assert sorted(os.listdir(out)) == ["1", "7"]  # no temporary folders left
    serving = json.loads((out / "7" / "assets.extra" / "serving.json").read_text())
    assert serving["image_dtype"] == "uint8" and "sample" not in serving["signatures"]
    assert main(["export", str(run_dir), str(out), "--version", "7"]) == 2
    assert "already exists: pick another --version (next free: 8) or pass --force" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "missing"), str(out)]) == 2
    assert "run folder not found" in capsys.readouterr().err

    # an export reopens like the run: the base path gives the newest version
    original, run = load_run(run_dir), load_run(out)
    assert run.run_dir.root == str(out / "7" / "assets.extra")
    assert run.config == original.config
    for a, b in zip(run.model.get_weights(), original.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert sampler_for_run(load_run(out / "1"), save=False).kind == "prior"  # the exported sampler
    data = run.dataset("train", batch_size=12)
    run.model.compile(optimizer=make_optimizer(dataclasses.replace(run.config.train, learning_rate=3e-3)))
    before = run.model.evaluate(data, verbose=0, return_dict=True)["loss"]
    run.model.fit(data, epochs=6, verbose=0)
    after = run.model.evaluate(data, verbose=0, return_dict=True)["loss"]
    assert after < 0.97 * before, (before, after)
