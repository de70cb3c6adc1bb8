"""`run.fit_sampler`: a run fits its sampler at the end of training, saves
it as RUN/sampler.json and serves it from its own export's `sample`
signature and from `export_run` with no sampler argument."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from tests.helpers import tiny_config
from tfface.config import ConfigError
from tfface.export import export_run
from tfface.sampling import load_sampler
from tfface.experiments import train


def test_run_fits_saves_and_serves_its_sampler(tmp_path):
    config = tiny_config(tmp_path / "run", "run.fit_sampler='two_stage'",
                         "run.sampler_args={hidden_units=[8], epochs=2}")  # fmt: skip
    result = train(config)
    sampler = load_sampler(tmp_path / "run")
    assert sampler.kind == "two_stage" and sampler.hidden_units == [8]
    assert result.files["sampler"] == os.path.join(str(tmp_path / "run"), "sampler.json")
    own = os.path.join(result.files["export"], "assets.extra")
    assert json.load(open(os.path.join(own, "serving.json")))["sampler"] == "two_stage"
    z = sampler.sample(3, seed=4)
    for path in (result.files["export"], export_run(tmp_path / "run", tmp_path / "out", verify=False).path):
        served = tf.saved_model.load(path).signatures["sample"](
            count=tf.constant(3), seed=tf.constant(4, tf.int64), temperature=tf.constant(1.0)
        )
        np.testing.assert_allclose(served["z"].numpy(), z, atol=1e-5)


@pytest.mark.parametrize(
    "overrides, message",
    [(["run.fit_sampler='two_stages'"], "Did you mean 'two_stage'"),
     (["run.fit_sampler='gmm'", "run.sampler_args={components_=3}"], "components_")],
)  # fmt: skip
def test_bad_sampler_settings_fail_before_training(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        train(tiny_config(tmp_path / "run", *overrides))
    assert not os.path.exists(tmp_path / "run" / "history.json")
