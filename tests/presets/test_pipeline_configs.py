"""The report pipelines: every `pipelines/*.toml` loads, validates and matches
its preset's recipe; one config per report trains at tiny scale on CPU."""

import dataclasses
import glob
import json
import math
import os

import keras
import numpy as np
import pytest

from tests.helpers import REPO, load_json
from tfface.config import load_config
from tfface.data import SYNTHETIC_ATTRIBUTES
from tfface.presets import get_preset
from tfface.experiments import train
from tfface.experiments.sweep import check_presets, load_sweep
from tfface.training import build_model


def _name(path):
    return os.path.splitext(os.path.basename(path))[0]


CONFIGS = sorted(glob.glob(os.path.join(REPO, "pipelines", "*.toml")))
REPORT_CONFIGS = [path for path in CONFIGS if _name(path).startswith("r0")]
SWEEPS = sorted(glob.glob(os.path.join(REPO, "pipelines", "sweeps", "*.toml")))
RECIPE_KEYS = ("learning_rate", "batch_size", "epochs", "optimizer", "beta_1", "beta_2")


def test_every_report_preset_has_a_pipeline_config():
    configured = {load_config(path).model.preset for path in CONFIGS}
    required = {
        "r000_model1_classifier", "r000_model1", "r000_model2", "r000_model3_classifier", "r000_model3",
        "r000_model4", "r001_vae", "r002_dense_ae", "r002_conv_ae", "r002_denoising_ae", "r002_anime_vae",
        "r002_iiitb_vae", "r003_vae", "r004_ae_baseline",
    }  # fmt: skip
    from tfface.presets import load_all

    missing = {name for name in required & set(load_all().names())} - configured
    assert not missing, f"presets without a pipelines/ config: {sorted(missing)}"


def _holds(tree, key, value) -> bool:
    """Whether a serialized model config holds `key: value` at any depth."""
    if isinstance(tree, dict):
        if key in tree and (tree[key] == value or (isinstance(value, list) and list(tree[key] or ()) == value)):
            return True
        tree = list(tree.values())
    return isinstance(tree, list) and any(_holds(item, key, value) for item in tree)


@pytest.mark.parametrize("path", CONFIGS, ids=_name)
def test_config_builds_its_preset_with_every_argument_it_sets(path):
    """The model is built (at 32x32, or the native size of report 000's
    fixed architectures) and every `[model]` argument reaches it."""
    config = load_config(path)
    model_config = config.model
    if model_config.perceptual_weights:  # the VGG16 is built when training starts; never downloaded here
        model_config = dataclasses.replace(model_config, perceptual_weights="random")
    # encoder_from names a classifier run folder (report 000's two stages): see test_tiny_two_stage_run_of_report_000.
    model_config = dataclasses.replace(model_config, args={k: v for k, v in model_config.args.items() if k != "encoder_from"})
    size = None if model_config.preset.startswith("r000") else [32, 32]
    model = build_model(config.replace(model=model_config, data=dataclasses.replace(config.data, image_size=size)))
    assert model.built and model.count_params() > 0
    serialized = json.loads(json.dumps(keras.saving.serialize_keras_object(model), default=str))
    for key, value in model_config.preset_kwargs().items():
        assert _holds(serialized, key, value), f"model.{key} = {value!r} did not reach the model"


@pytest.mark.parametrize("path", REPORT_CONFIGS, ids=_name)
def test_report_config_matches_its_preset_recipe(path):
    config = load_config(path)
    preset = get_preset(config.model.preset)
    assert preset.report, f"{config.model.preset} names no report section"
    if config.data.value_range != "auto":
        assert config.data.value_range == preset.value_range
    if config.data.image_size is not None:
        assert tuple(config.data.image_size) == preset.image_size
    for key in RECIPE_KEYS:
        if key in preset.recipe:
            assert getattr(config.train, key) == pytest.approx(preset.recipe[key]), key
    for key, value in preset.recipe.get("early_stopping", {}).items():
        assert config.train.early_stopping.get(key) == value, f"train.early_stopping.{key}"
    if "keep_best" in preset.recipe:
        assert config.train.keep_best == preset.recipe["keep_best"]
    if "beta" in preset.recipe and config.model.beta is not None:
        assert config.model.beta == pytest.approx(preset.recipe["beta"])
    if "loss" in preset.recipe and config.model.reconstruction_loss is not None:
        assert config.model.reconstruction_loss == preset.recipe["loss"]
    assert config.run.dir == f"runs/{_name(path)}"


@pytest.mark.parametrize("path", SWEEPS, ids=_name)
def test_sweep_presets_are_registered(path):
    check_presets(load_sweep(path, ["data.path='/data/x'"]))


# One config per report, shrunk: synthetic faces, two steps, no validation,
# checkpoints or export (graph tracing is most of the time).
TINY = {
    "r001_vae": "data.image_size=[32, 16]",
    "r002_anime_vae": "data.image_size=32",
    "r003_vae": "data.image_size=32",
    "r004_ae_baseline": "data.image_size=32",
}


def tiny_overrides(run_dir, *extra):
    return [
        "data.source='synthetic'",
        "data.num_examples=20",
        "data.validation_fraction=0.2",
        "data.face_crop=false",
        "data.cache=true",
        "train.epochs=1",
        "train.batch_size=8",
        "run.verbose=0",
        "run.export=false",
        "run.sample_grid=true",
        "run.grid_rows=2",
        "run.reconstruction_grid=false",
        "run.checkpoint_every=0",
        f"run.dir='{run_dir}'",
        *extra,
    ]


class InitialWeights(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights = [np.array(w) for w in self.model.trainable_weights]


@pytest.mark.parametrize("name", sorted(TINY))
def test_tiny_run_of_a_report_config_trains_and_saves_that_model(name, tmp_path):
    overrides = tiny_overrides(tmp_path / "run", TINY[name], "data.validation_fraction=0.0", "data.validation_count=0")
    start = InitialWeights()
    result = train(load_config(os.path.join(REPO, "pipelines", f"{name}.toml"), overrides), extra_callbacks=[start])
    assert math.isfinite(result.final("loss")) and "val_loss" not in result.history
    model = result.model
    assert any(not np.array_equal(a, np.array(b)) for a, b in zip(start.weights, model.trainable_weights)), "no update"
    # model.keras is the trained model: the same reconstructions.
    images = np.random.default_rng(0).random((2, *model.image_shape), dtype=np.float32)
    images = model.value_range.from_unit(images)
    reloaded = keras.saving.load_model(result.files["model"])
    np.testing.assert_allclose(reloaded(images), model(images), atol=1e-5)
    # The 2x2 sample grid of this run's image size, 2-px borders: 2*h + 3*2 by 2*w + 3*2.
    import tensorflow as tf

    grid = tf.io.decode_png(tf.io.read_file(os.path.join(result.files["grids"], "samples_e001_end.png"))).numpy()
    h, w = model.image_shape[:2]
    assert grid.shape == (2 * h + 6, 2 * w + 6, 3) and grid.std() > 0


def test_tiny_two_stage_run_of_report_000(tmp_path):
    """Classifier pre-training (resumed for a second epoch), then the
    autoencoder on its encoder — report 000's Model 1 pipeline."""
    stage1 = os.path.join(REPO, "pipelines", "r000_model1_classifier.toml")
    classifier = train(load_config(stage1, tiny_overrides(tmp_path / "cls", "run.checkpoint_every=1")))
    assert set(classifier.history) >= {"loss", "attribute_accuracy", "val_loss", "val_attribute_accuracy"}
    assert os.path.exists(classifier.files["model"]) and "export" not in classifier.files
    resumed = train(load_config(stage1, tiny_overrides(tmp_path / "cls", "run.checkpoint_every=1", "train.epochs=2")))
    assert resumed.initial_epoch == 1 and len(resumed.history["loss"]) == 2
    from tfface.metrics import evaluate_run

    evaluation = evaluate_run(str(tmp_path / "cls"), batch_size=8)
    assert evaluation["protocol"]["split"] == "test"  # report 000 quotes CelebA test accuracies
    assert set(evaluation["metrics"]) == {"attribute_accuracy"}  # no reconstruction metrics
    assert set(evaluation["attribute_accuracy"]) == set(SYNTHETIC_ATTRIBUTES)

    stage2 = os.path.join(REPO, "pipelines", "r000_model1.toml")
    overrides = tiny_overrides(tmp_path / "ae", f"model.args.encoder_from='{tmp_path / 'cls'}'")
    config = load_config(stage2, overrides)
    autoencoder = train(config)
    assert math.isfinite(autoencoder.final("val_loss"))
    assert os.listdir(autoencoder.files["grids"])
    # Generation from the codes' mean and standard deviation (report 000 §5.3):
    # the export's `sample` signature and `tfface sample` default to "diagonal".
    from tfface.sampling import sampler_for_run
    from tfface.run import load_run
    from tfface.training.runner import export_sampler

    exported = export_sampler(config, autoencoder.model)
    assert exported.kind == "diagonal" and exported.latent_dim == 40
    assert sampler_for_run(load_run(str(tmp_path / "ae")), save=False).kind == "diagonal"


@pytest.mark.parametrize("name", ["face_64", "face_64_celeba_gpu"])
def test_tiny_run_of_a_face_recipe_fits_its_sampler(name, tmp_path):
    extra = ["data.image_size=32", "train.mixed_precision='float32'", "run.sampler_args={components=2}"]
    config = load_config(os.path.join(REPO, "pipelines", f"{name}.toml"), tiny_overrides(tmp_path / "run", *extra))
    if name == "face_64_celeba_gpu":  # its loss terms need the perceptual/adversarial options and VGG weights
        config = config.replace(model=type(config.model)(preset="face_64", args={
            k: v for k, v in config.model.args.items() if not k.startswith(("perceptual", "adversarial"))}))  # fmt: skip
    result = train(config)
    assert math.isfinite(result.final("loss")) and "log_sigma" in result.history
    assert load_json(result.files["sampler"])["kind"] == config.run.fit_sampler == "gmm"
    if name == "face_64":  # the CPU recipe's PatchGAN: built from the start, on from its start step
        assert result.model.discriminator is not None and result.model.adversarial_start == 1500


@pytest.mark.slow
def test_the_gpu_recipe_trains_as_written_float16_perceptual_and_patchgan(tmp_path):
    """pipelines/face_64_celeba_gpu.toml as written (the wide residual σ-VAE, VGG16 perceptual term,
    PatchGAN, mixed_float16 through loss-scale optimizers) on CPU; only the data (synthetic, 32x32),
    the steps, the adversarial start (within those steps), the VGG16 weights (a stand-in file: no
    download) and what the run writes are overridden."""
    import keras
    import numpy as np

    vgg = keras.applications.VGG16(include_top=False, weights=None, input_shape=(32, 32, 3))
    weights = str(tmp_path / "vgg16_standin.weights.h5")
    vgg.save_weights(weights)
    steps = 3
    overrides = [
        "data.source='synthetic'", "data.num_examples=20", "data.image_size=32", "data.validation_fraction=0.2",
        "train.epochs=1", f"train.steps_per_epoch={steps}", "train.batch_size=4",
        f"model.args.perceptual_weights='{weights}'", "model.args.adversarial_start=1",
        "run.verbose=0", "run.export=false", "run.sample_grid=false", "run.reconstruction_grid=false",
        "run.checkpoint_every=0", "run.sampler_args={components=2}", f"run.dir='{tmp_path / 'run'}'",
    ]  # fmt: skip
    written = load_config(os.path.join(REPO, "pipelines", "face_64_celeba_gpu.toml"))
    config = load_config(os.path.join(REPO, "pipelines", "face_64_celeba_gpu.toml"), overrides)
    assert config.train == type(config.train)(**{**vars(written.train), "epochs": 1, "steps_per_epoch": steps, "batch_size": 4})
    assert {k: v for k, v in config.model.args.items() if k not in ("perceptual_weights", "adversarial_start")} == {
        k: v for k, v in written.model.args.items() if k not in ("perceptual_weights", "adversarial_start")}
    assert config.train.mixed_precision == "mixed_float16"
    result = train(config)
    model = result.model
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in (model.optimizer, model.discriminator_optimizer))
    assert model.encoder.get_layer("enc_conv_in").compute_dtype == "float16"
    assert {layer.compute_dtype for layer in model.discriminator.layers if isinstance(layer, keras.layers.Conv2D)} == {"float16"}
    not_finite = {key: values for key, values in result.history.items() if not all(np.isfinite(v) for v in values)}
    assert not not_finite, not_finite
    assert result.final("perceptual_loss") > 0 and "discriminator_loss" in result.history and "log_sigma" in result.history
    # Every step was either applied or skipped on a float16 overflow (halving the scale).
    optimizer = model.optimizer
    skipped = round(math.log2(optimizer.initial_scale / float(optimizer.dynamic_scale)))
    assert int(optimizer.iterations) + skipped == steps
    assert load_json(result.files["sampler"])["kind"] == "gmm"
