"""RUN/tensorboard/: the loss terms, learning rate and grids of every epoch,
read back from the event files; a resumed run appends without a step twice."""

import glob
import os
from collections import Counter

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import AtBatch, load_json, tiny_config
from tfface.experiments import train


class Interrupted(Exception):
    pass


def read_events(log_dir):
    """{run: Counter((tag, step))} and {run: {tag: {step: value}}} of every event file under log_dir."""
    counts, values = {}, {}
    for path in glob.glob(os.path.join(log_dir, "**", "*tfevents*"), recursive=True):
        run = os.path.relpath(os.path.dirname(path), log_dir)
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                kind = value.metadata.plugin_data.plugin_name
                counts.setdefault(run, Counter())[(value.tag, event.step)] += 1
                tensor = tf.make_ndarray(value.tensor)
                values.setdefault(run, {}).setdefault(value.tag, {})[event.step] = (
                    float(tensor) if kind == "scalars" else tensor
                )
    return counts, values


def test_tensorboard_logs_scalars_and_grids_and_a_resume_appends_without_duplicate_steps(tmp_path):
    run_dir = tmp_path / "run"
    settings = ["train.epochs=4", "run.checkpoint_every=2", "run.export=false", "train.learning_rate=0.002"]
    stop = AtBatch(4, 1, lambda model: (_ for _ in ()).throw(Interrupted()))  # dies as epoch 4 starts
    with pytest.raises(Interrupted):
        train(tiny_config(run_dir, *settings), extra_callbacks=[stop])
    # epoch 3 was logged (and its epoch-4 begin grid) but the last checkpoint is after epoch 2
    counts, _ = read_events(run_dir / "tensorboard")
    assert counts["grids"][("samples_begin", 3)] == 1 and counts["grids"][("reconstructions", 2)] == 1
    result = train(tiny_config(run_dir, *settings))
    assert result.initial_epoch == 2

    counts, values = read_events(run_dir / "tensorboard")
    assert set(counts) == {"train", "validation", "grids"}
    for run, tags in {"train": ("epoch_loss", "epoch_reconstruction_loss", "epoch_kl_loss", "epoch_learning_rate"),
                      "validation": ("epoch_loss", "epoch_reconstruction_loss", "epoch_kl_loss"),
                      "grids": ("samples_begin", "samples_end", "reconstructions")}.items():  # fmt: skip
        for tag in tags:
            assert [counts[run][(tag, step)] for step in range(4)] == [1, 1, 1, 1], (run, tag, counts[run])
    assert max(step for _, step in counts["train"]) == 3  # nothing beyond the last epoch
    history = load_json(run_dir / "history.json")
    np.testing.assert_allclose([values["train"]["epoch_loss"][s] for s in range(4)], history["loss"], rtol=1e-5)
    np.testing.assert_allclose([values["validation"]["epoch_loss"][s] for s in range(4)], history["val_loss"], rtol=1e-5)
    assert values["train"]["epoch_loss"][3] < values["train"]["epoch_loss"][0]  # it learned
    assert values["train"]["epoch_learning_rate"][3] == pytest.approx(0.002)
    grid = tf.io.decode_png(values["grids"]["samples_end"][3][2]).numpy()  # [width, height, png, ...]
    saved = tf.io.decode_png(tf.io.read_file(str(run_dir / "grids" / "samples_e004_end.png"))).numpy()
    np.testing.assert_array_equal(grid, saved[..., :3])


def test_tensorboard_off_writes_nothing(tmp_path):
    train(tiny_config(tmp_path / "run", "run.tensorboard=false", "run.export=false"))
    assert not (tmp_path / "run" / "tensorboard").exists()
