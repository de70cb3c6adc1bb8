"""Exports serve in float32 whatever precision trained the model: the
SavedModel of a mixed_float16 or mixed_bfloat16 run holds no float16/bfloat16
node (the verification's dtype census refuses one that does), `model.keras`
computes in the loading process's policy (float32 by default), and
`precision="training"` keeps the mixed policy for GPU serving."""

import os

import keras
import numpy as np
import pytest

from tests.helpers import REPO, run_python, tiny_config
from tfface.config import ConfigError, apply_overrides, ExperimentConfig
from tfface.experiments import train
from tfface.export import ServingOptions, export_savedmodel
from tfface.export.savedmodel import compute_dtypes, serving_model
from tfface.export.verify import ExportVerificationError, verify_export
from tfface.presets import build_preset

POLICIES = ["mixed_float16", "mixed_bfloat16"]


def _mixed(policy, **kwargs):
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy(policy)
        return build_preset("vae_tiny", image_size=(16, 16), latent_dim=4, seed=0, **kwargs)
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.mark.parametrize("policy", POLICIES)
def test_serving_model_computes_in_float32_with_the_trained_weights(policy):
    model = _mixed(policy)
    low = keras.mixed_precision.Policy(policy).compute_dtype
    assert low in compute_dtypes(model)
    served = serving_model(model)
    assert compute_dtypes(served) == {"float32"} and type(served) is type(model)
    for trained, copy in zip(model.weights, served.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(trained), keras.ops.convert_to_numpy(copy))
    images = np.random.default_rng(0).random((2, 16, 16, 3), dtype=np.float32)
    exact, rounded = served(images, training=False), model(images, training=False)
    assert exact.dtype == "float32"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(exact), keras.ops.convert_to_numpy(rounded), atol=0.05)
    assert serving_model(model, "training") is model and serving_model(served) is served
    assert keras.mixed_precision.global_policy().name == "float32"


def test_precision_option_is_checked_in_the_serving_options_and_the_config(tmp_path):
    with pytest.raises(ValueError, match="precision must be one of"):
        ServingOptions(precision="float16")
    with pytest.raises(ConfigError, match="run.export_precision"):
        apply_overrides(ExperimentConfig(), ["run.export_precision='float16'"])
    assert tiny_config(tmp_path).run.export_precision == "float32"


@pytest.fixture(scope="module", params=POLICIES)
def mixed_run(request, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp(request.param)
    config = tiny_config(run_dir, f"train.mixed_precision='{request.param}'", "data.num_examples=8", "train.batch_size=4",
                         "data.validation_fraction=0.0", "data.validation_count=0", "run.sample_grid=false",
                         "run.reconstruction_grid=false", "run.tensorboard=false")  # fmt: skip
    return request.param, train(config)


@pytest.mark.slow
def test_export_of_a_mixed_run_computes_in_float32_and_verification_counts_dtypes(mixed_run, tmp_path):
    policy, result = mixed_run
    assert keras.mixed_precision.Policy(policy).compute_dtype in compute_dtypes(result.model)
    verification = verify_export(result.model, result.files["export"], show=False)
    assert verification.reduced_precision_nodes() == {}
    assert verification.dtypes["reconstruct"]["float32"] > 0
    assert "computes in float32" in verification.summary()
    # Kept in the training policy (GPU serving), the same census refuses it as a float32 export.
    kept = export_savedmodel(result.model, str(tmp_path / "kept" / "1"), options=ServingOptions(precision="training"))
    low = keras.mixed_precision.Policy(policy).compute_dtype
    with pytest.raises(ExportVerificationError, match=f"float32 export computes in float16/bfloat16: .*reconstruct has"):
        verify_export(result.model, kept, show=False)
    import json

    with open(os.path.join(kept, "assets.extra", "serving.json")) as handle:
        assert json.load(handle)["compute_dtypes"] == sorted({"float32", low})


@pytest.mark.slow
def test_model_keras_of_a_mixed_run_loads_in_float32_unless_the_loader_sets_a_policy(mixed_run):
    policy, result = mixed_run
    code = """
    import sys, tfface, keras
    from tfface.export.savedmodel import compute_dtypes
    print(sorted(compute_dtypes(keras.saving.load_model(sys.argv[1]))))
    keras.mixed_precision.set_global_policy(sys.argv[2])
    print(sorted(compute_dtypes(keras.saving.load_model(sys.argv[1]))))
    """
    done = run_python(code, result.files["model"], policy, env={"PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert done.returncode == 0, done.stderr[-3000:]
    default, mixed = done.stdout.strip().splitlines()[-2:]
    low = keras.mixed_precision.Policy(policy).compute_dtype
    assert default == "['float32']" and mixed == str(sorted({"float32", low}))
