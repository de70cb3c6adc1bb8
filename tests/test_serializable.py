"""The Keras way: in a fresh process, `import tfface` (nothing else) then
`keras.saving.load_model(RUN/model.keras)` restores the model, its optimizer
and the optimizer's state, for every model family (the GAN recipe's
discriminator optimizer included), with Keras imported after tfface or
before it; the import hook reaches every registered class."""

import ast
import os
import sys

import keras
import numpy as np
import pytest

from tests.helpers import REPO, run_python
from tests.presets.test_pipeline_configs import tiny_overrides
from tfface.config import ExperimentConfig, apply_overrides, load_config
from tfface.experiments import train

TINY = ("run.sample_grid=false", "data.num_examples=8", "train.batch_size=4", "run.tensorboard=false", "data.validation_fraction=0.0", "data.validation_count=0")

#: family → (pipeline config or None for tiny_overrides alone, overrides)
FAMILIES = {
    "vae": (None, ["model.preset='vae_tiny'", "data.image_size=32"]),
    "autoencoder": (None, ["model.preset='ae_demo'", "data.image_size=32", "model.args={widths=[8, 16], latent_dim=8}"]),
    "denoising": ("r002_denoising_ae", ["data.image_size=32", "model.args={widths=[8, 16], latent_dim=8}"]),
    "classifier": ("r000_model1_classifier", []),
    "pretrained": ("r000_model1", []),  # its encoder from the classifier run (report 000's two stages)
    "gan": ("face_64", ["data.image_size=32", "train.mixed_precision='float32'", "run.sampler_args={components=2}",
                        "model.args={widths=[8, 16], latent_dim=8, adversarial_weight=0.5, adversarial_start=1, "
                        "discriminator_width=8, discriminator_layers=2}"]),
}  # fmt: skip

LOADER = """
import sys
{imports}
import numpy as np
for path, out in zip(sys.argv[1::2], sys.argv[2::2]):
    model = keras.saving.load_model(path)
    inputs = np.load(out + ".in.npy")
    state = {{"out": keras.ops.convert_to_numpy(model(inputs, training=False)),
              "iterations": np.asarray(int(model.optimizer.iterations))}}
    for i, v in enumerate(model.weights):
        state[f"w{{i}}:" + v.path] = keras.ops.convert_to_numpy(v)
    for i, v in enumerate(model.optimizer.variables):
        state[f"o{{i}}:" + v.path] = keras.ops.convert_to_numpy(v)
    discriminator = getattr(model, "discriminator_optimizer", None)
    for i, v in enumerate(discriminator.variables if discriminator is not None else []):
        state[f"d{{i}}:" + v.path] = keras.ops.convert_to_numpy(v)
    state["classes"] = np.asarray([type(model).__name__, type(model.optimizer).__name__])
    np.savez(out, **state)
"""


def _state(model, inputs):
    state = {"out": keras.ops.convert_to_numpy(model(inputs, training=False)),
             "iterations": np.asarray(int(model.optimizer.iterations))}  # fmt: skip
    state.update({f"w{i}:" + v.path: keras.ops.convert_to_numpy(v) for i, v in enumerate(model.weights)})
    state.update({f"o{i}:" + v.path: keras.ops.convert_to_numpy(v) for i, v in enumerate(model.optimizer.variables)})
    discriminator = getattr(model, "discriminator_optimizer", None)
    if discriminator is not None:
        state.update({f"d{i}:" + v.path: keras.ops.convert_to_numpy(v) for i, v in enumerate(discriminator.variables)})
    return state


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Each family trained a few steps; (model.keras, the trained model)."""
    root = tmp_path_factory.mktemp("families")
    trained = {}
    for family, (pipeline, extra) in FAMILIES.items():
        if family == "pretrained":
            extra = [*extra, f"model.args.encoder_from='{root / 'classifier'}'"]
        overrides = tiny_overrides(root / family, *TINY, *extra)
        config = (load_config(os.path.join(REPO, "pipelines", f"{pipeline}.toml"), overrides) if pipeline
                  else apply_overrides(ExperimentConfig(), overrides))  # fmt: skip
        result = train(config)
        trained[family] = (result.files["model"], result.model)
    return trained


@pytest.mark.slow
@pytest.mark.parametrize("first", ["tfface", "keras"])
def test_load_model_after_import_tfface_restores_model_optimizer_and_state(runs, first, tmp_path):
    imports = "import tfface\nimport keras" if first == "tfface" else "import keras\nimport tfface"
    arguments = []
    for family, (path, model) in runs.items():
        np.save(str(tmp_path / family) + ".in.npy", np.random.default_rng(0).random((2, *model.image_shape), dtype=np.float32))
        arguments += [path, str(tmp_path / family)]
    done = run_python(LOADER.format(imports=imports), *arguments,
                      env={"PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    for family, (path, model) in runs.items():
        loaded, expected = dict(np.load(str(tmp_path / family) + ".npz")), _state(model, np.load(str(tmp_path / family) + ".in.npy"))
        assert list(loaded.pop("classes")) == [type(model).__name__, type(model.optimizer).__name__]
        assert sorted(loaded) == sorted(expected), family
        assert int(loaded["iterations"]) == int(expected["iterations"]) > 0, family
        slots = [key for key in expected if key.startswith("o") and "iteration" not in key and "learning_rate" not in key]
        assert slots and any(np.abs(expected[key]).max() > 0 for key in slots), f"{family}: no optimizer state to compare"
        for key in expected:
            np.testing.assert_array_equal(loaded[key], expected[key], err_msg=f"{family}: {key}")
        if family == "gan":
            assert any(key.startswith("d") and np.abs(expected[key]).max() > 0 for key in expected)


def _registered_classes():
    """(module, class) of every `register_keras_serializable` class, read from the source."""
    found = []
    for root, _, files in os.walk(os.path.join(REPO, "tfface")):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                module = os.path.relpath(path, REPO)[:-3].replace(os.sep, ".").removesuffix(".__init__")
                tree = ast.parse(open(path, encoding="utf-8").read())
                found += [(module, node.name) for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                          and any("register_keras_serializable" in ast.unparse(d) for d in node.decorator_list)]  # fmt: skip
    return found


@pytest.mark.parametrize("imports", ["import tfface; import keras", "import keras; import tfface",
                                     "import tfface; import tensorflow; import keras",
                                     "import tfface; from tfface.layers import Encoder; import keras"])  # fmt: skip
def test_every_registered_class_is_reached_whatever_the_import_order(imports):
    classes = _registered_classes()
    assert len(classes) >= 10 and ("tfface.training.optimizers", "FusedAdam") in classes
    code = imports + "\nimport sys\nnames = sys.argv[1].split(',')\n" + \
        "print(','.join(n for n in names if keras.saving.get_registered_object('tfface>' + n) is None))"
    done = run_python(code, ",".join(name for _, name in classes),
                      env={"PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")})  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "", f"not registered after `{imports}`: {done.stdout}"


def test_import_tfface_alone_imports_no_tensorflow():
    done = run_python("import sys, tfface\nprint(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))",
                      env={"PYTHONPATH": REPO + os.pathsep + os.environ.get("PYTHONPATH", "")})  # fmt: skip
    assert done.returncode == 0 and done.stdout.strip() == "[]", done.stderr[-2000:]


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
