"""The shared test harness for models, trunks and presets, after keras-hub's
`TestCase`: each `run_*_test` checks one contract every tfface model keeps,
so a model's or preset's test states only what is particular to it.

- `run_serialization_test(obj)`: `get_config` → `from_config` (and Keras'
  own serialise → deserialise) gives the same class and config.
- `run_model_saving_test(model, inputs, tmp_path)`: a `.keras` save → load
  gives the same class, config and outputs.
- `run_export_test(model, inputs, tmp_path)`: the SavedModel's
  `reconstruct` and `generate` signatures return the model's outputs on
  [0, 1] (whatever the model's value range).
- `run_precision_test(build, inputs, policy)`: built under a mixed policy,
  the model computes in that dtype and returns float32 outputs.
"""

from __future__ import annotations

import os
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from tfface.export import export_savedmodel
from tfface.value_range import ValueRange


def _numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def run_serialization_test(obj):
    """Config round trip without weights; returns the clone."""
    config = obj.get_config()
    clone = type(obj).from_config(config)
    assert type(clone) is type(obj)
    assert clone.get_config() == config
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(obj))
    assert type(revived) is type(obj) and revived.get_config() == config
    return clone


def run_model_saving_test(model, inputs, tmp_path) -> keras.Model:
    """`.keras` save → load gives the same class, config and outputs."""
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    np.testing.assert_array_equal(_numpy(model(inputs, training=False)), _numpy(restored(inputs, training=False)))
    return restored


def run_export_test(model, inputs, tmp_path, atol: float = 1e-5):
    """Exports `model` and checks `reconstruct` (inputs on [0, 1]) and
    `generate` against the Keras model; returns the loaded SavedModel."""
    value_range = ValueRange.parse(model.value_range)
    loaded = tf.saved_model.load(str(export_savedmodel(model, os.path.join(str(tmp_path), "export", "1"))))
    unit = np.asarray(inputs, np.float32)
    recon = loaded.reconstruct(tf.constant(unit))["images"].numpy()
    expected = value_range.to_unit(_numpy(model(value_range.from_unit(unit), training=False)))
    np.testing.assert_allclose(recon, expected, atol=atol)
    z = np.random.default_rng(1).standard_normal((len(unit), model.latent_dim)).astype("float32")
    out = loaded.generate(tf.constant(z))["images"].numpy()
    np.testing.assert_allclose(out, value_range.to_unit(_numpy(model.decode(z, training=False))), atol=atol)
    assert out.min() >= 0.0 and out.max() <= 1.0
    return loaded


def run_precision_test(build: Callable[[], keras.Model], inputs, policy: str = "mixed_bfloat16") -> keras.Model:
    """`build()` under `policy`: convolutions compute in its dtype, weights
    stay float32, outputs and decoded images are float32 and finite. The
    global policy is restored."""
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy(policy)
        model = build()
    finally:
        keras.mixed_precision.set_global_policy(previous)
    compute = keras.mixed_precision.Policy(policy).compute_dtype
    convs = [layer for layer in model.encoder.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.compute_dtype == compute for layer in convs)
    assert all(v.dtype == "float32" for v in model.weights if "seed" not in v.path)
    outputs = model(inputs, training=False)
    assert outputs.dtype == "float32" and np.isfinite(_numpy(outputs)).all()
    if hasattr(model, "decode"):
        assert model.decode(np.zeros((2, model.latent_dim), "float32")).dtype == "float32"
    return model
