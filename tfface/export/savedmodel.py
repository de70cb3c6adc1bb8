"""Export a trained model as a SavedModel with named serving signatures.

Serving signatures speak **images in [0, 1]** (float32; or uint8 pixels in
[0, 255] with `ServingOptions(image_dtype="uint8")`) whatever the model's
internal range (sigmoid or tanh), so clients need not know the preset. With
N the batch, (H, W) the model's image size and d its latent size:

| signature     | inputs                                   | outputs |
|---------------|------------------------------------------|---------|
| `generate`    | `z` float32 [N, d], finite               | `images` [N, H, W, 3] (image dtype) |
| `decode`      | `z` float32 [N, d], finite               | `images` float32 [N, H, W, 3] in [0, 1] |
| `sample`      | `count` int32 [], `seed` int64 [], `temperature` float32 [] | `images` [count, H, W, 3] (image dtype), `z` float32 [count, d] |
| `encode`      | `images` [N, H, W, 3] (image dtype)       | `mean` float32 [N, d], `log_variance` float32 [N, d] in [-30, 6] |
| `reconstruct` | `images` [N, H, W, 3] (image dtype)       | `images` [N, H, W, 3] (image dtype) |

`generate` is the client's "latents → faces" call and follows the image
dtype; `decode` is the decoder itself, always float32 in [0, 1], the
lossless inverse of `encode` for latent arithmetic (encode → edit →
decode). In a float32 export the two give the same numbers. `serving_default`
is `generate`. `sample` draws codes from the embedded latent sampler
(stateless, so the same seed gives the same faces); autoencoders' `encode`
returns the code as `mean` and `log_variance` = -30 everywhere (a point mass,
at the floor of the log-variance clamp). uint8 pixels are `round(255·x)`.

Every input is checked in the graph before the model runs: a wrong rank or
size, an image value outside [0, 1], a non-finite latent, a `count` outside
[0, max_count] or a `temperature` outside [0, max_temperature] fails with
`InvalidArgumentError` naming the signature and the argument, e.g.
`generate(z): expected float32 [N, 8], got shape [2 5]`.

The version folder also holds, in `assets.extra/` (which SavedModel loaders
and TF Serving ignore), `model.keras`, the run's `config.json`, the
`sampler.json` behind `sample`, `serving.json` (the table above, with
exact shapes) and, when the run fitted them, `attribute_directions.json`
(`tfface.sampling.AttributeDirections`: add one to an `encode` mean and
`decode` it to add the attribute), so `tfface.run.load_run(VERSION_FOLDER)` reopens it for
more training.

**Precision.** The SavedModel computes in float32 whatever precision
trained the model (`ServingOptions(precision="float32")`, the default): a
model trained under `mixed_float16` or `mixed_bfloat16` is rebuilt from its
config under the float32 policy and given the trained weights
(`serving_model`), so a CPU server neither emulates float16 nor loses
precision. `precision="training"` (`tfface export --precision training`,
`run.export_precision = "training"`) keeps the training policy, for GPU
serving. `model.keras` records the architecture, not a policy: it computes
in the global dtype policy in force when it is loaded — float32 unless the
loading process sets another (`keras.mixed_precision.set_global_policy`
before `keras.saving.load_model`). `verify_export` counts the float16 and
bfloat16 nodes of every signature and refuses a float32 export that has any.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import dataclass
from typing import Any, Callable

import keras
import tensorflow as tf

from tfface.config import save_config
from tfface.io import atomic_path
from tfface.models.posterior import LOG_VAR_RANGE
from tfface.run import ASSETS_EXTRA
from tfface.sampling.attributes import DIRECTIONS_FILE, AttributeDirections
from tfface.sampling.run import default_sampler_kind
from tfface.sampling.samplers import LatentSampler, PriorSampler, save_sampler
from tfface.value_range import ValueRange
from tfface.version import __version__

IMAGE_DTYPES = ("float32", "uint8")
#: `ServingOptions.precision`: float32 compute, or the policy the model was trained (built) under.
SERVING_PRECISIONS = ("float32", "training")
SERVING_FILE = "serving.json"
SIGNATURES = ("generate", "decode", "sample", "encode", "reconstruct")


@dataclass(frozen=True)
class ServingOptions:
    """How the serving signatures speak.

    Args:
        image_dtype: str. "float32" (images in [0, 1]) or "uint8" (pixels in
            [0, 255]) for image inputs and outputs; `decode` stays float32.
            Defaults to "float32".
        max_count: int. Largest `count` a `sample` request may ask for.
            Defaults to 256.
        max_temperature: float. Largest `sample` temperature. Defaults to 10.
        precision: str. "float32": the signatures compute in float32
            whatever policy trained the model; "training": in the model's
            own (mixed) policy, for GPU serving. Defaults to "float32".

    Example:

    >>> ServingOptions(image_dtype="uint8").max_count
    256
    """

    image_dtype: str = "float32"
    max_count: int = 256
    max_temperature: float = 10.0
    precision: str = "float32"

    def __post_init__(self):
        if self.image_dtype not in IMAGE_DTYPES:
            raise ValueError(f"image_dtype must be one of {IMAGE_DTYPES}, got {self.image_dtype!r}")
        if self.precision not in SERVING_PRECISIONS:
            raise ValueError(f"precision must be one of {SERVING_PRECISIONS}, got {self.precision!r}")
        if int(self.max_count) < 1:
            raise ValueError(f"max_count must be >= 1, got {self.max_count}")
        if not self.max_temperature > 0:
            raise ValueError(f"max_temperature must be > 0, got {self.max_temperature}")


@dataclass(frozen=True)
class TensorDoc:
    """One signature input or output: dtype, shape (None = any size) and the
    values it takes; `low`/`high`/`finite` are checked on inputs."""

    dtype: str
    shape: tuple
    values: str
    low: float | None = None
    high: float | None = None
    finite: bool = False

    def spec(self, name: str) -> tf.TensorSpec:
        """The `tf.TensorSpec` of this tensor, called `name`."""
        return tf.TensorSpec(self.shape, getattr(tf, self.dtype), name=name)

    def describe(self) -> dict[str, Any]:
        """The JSON description (dtype, shape with N for the batch, values) written to serving.json."""
        return {"dtype": self.dtype, "shape": ["N" if d is None else d for d in self.shape], "values": self.values}


@dataclass(frozen=True)
class SignatureDoc:
    """A serving signature's inputs and outputs, in argument order."""

    summary: str
    inputs: dict[str, TensorDoc]
    outputs: dict[str, TensorDoc]

    def input_signature(self) -> list[tf.TensorSpec]:
        """The signature's input specs, in argument order."""
        return [doc.spec(name) for name, doc in self.inputs.items()]

    def describe(self) -> dict[str, Any]:
        """The JSON description of the signature and its tensors, as written to serving.json."""
        return {
            "summary": self.summary,
            "inputs": {k: v.describe() for k, v in self.inputs.items()},
            "outputs": {k: v.describe() for k, v in self.outputs.items()},
        }


def _images_doc(shape, image_dtype: str, count=None) -> TensorDoc:
    if image_dtype == "uint8":
        return TensorDoc("uint8", (count, *shape), "[0, 255]")
    return TensorDoc("float32", (count, *shape), "[0, 1]", low=0.0, high=1.0)


def signature_docs(model, options: ServingOptions = ServingOptions(), with_sample: bool = True) -> dict[str, SignatureDoc]:
    """The serving signatures of `model`, described (no TensorFlow graph).

    Example:

    >>> from tfface.presets import build_preset
    >>> docs = signature_docs(build_preset("vae_tiny"))
    >>> list(docs)
    ['generate', 'decode', 'sample', 'encode', 'reconstruct']
    >>> docs["encode"].outputs["log_variance"].describe()
    {'dtype': 'float32', 'shape': ['N', 8], 'values': '[-30, 6]'}
    """
    shape, d, kind = tuple(model.image_shape), model.latent_dim, options.image_dtype
    vae = getattr(model.encoder, "head", None) == "gaussian"
    z = TensorDoc("float32", (None, d), "finite reals" + (" (the prior is N(0, I))" if vae else ""), finite=True)
    images_in, images_out = _images_doc(shape, kind), dataclasses.replace(_images_doc(shape, kind), low=None, high=None)
    unit_images = TensorDoc("float32", (None, *shape), "[0, 1]")
    docs = {
        "generate": SignatureDoc("latent codes → faces (serving_default)", {"z": z}, {"images": images_out}),
        "decode": SignatureDoc("latent codes → float32 faces in [0, 1], the inverse of encode", {"z": z}, {"images": unit_images}),
        "sample": SignatureDoc(
            "count faces from the embedded latent sampler; same seed, same faces",
            {
                "count": TensorDoc("int32", (), f"[0, {options.max_count}]", low=0, high=options.max_count),
                "seed": TensorDoc("int64", (), "any int64"),
                "temperature": TensorDoc("float32", (), f"[0, {options.max_temperature:g}]", low=0.0,
                                         high=options.max_temperature, finite=True),  # fmt: skip
            },
            {"images": dataclasses.replace(images_out, values=images_out.values + ", N = count"),
             "z": TensorDoc("float32", (None, d), "the sampled codes, N = count")},
        ),
        "encode": SignatureDoc(
            "faces → posterior mean and log-variance" if vae else "faces → codes (log_variance = -30: a point mass)",
            {"images": images_in},
            {
                "mean": TensorDoc("float32", (None, d), "reals (the code used by reconstruct)"),
                "log_variance": TensorDoc(
                    "float32", (None, d), f"[{LOG_VAR_RANGE[0]:g}, {LOG_VAR_RANGE[1]:g}]" if vae else f"{LOG_VAR_RANGE[0]:g}"
                ),
            },
        ),
        "reconstruct": SignatureDoc("faces → decoded posterior mean (deterministic)", {"images": images_in}, {"images": images_out}),
    }
    if not with_sample:
        del docs["sample"]
    return docs


# ------------------------------------------------------------ graph pieces


def _to_pixels(images):
    return tf.cast(tf.round(tf.clip_by_value(images, 0.0, 1.0) * 255.0), tf.uint8)


def _checked(tensor, signature: str, argument: str, doc: TensorDoc) -> tf.Tensor:
    """`tensor` after run-time checks of its shape and values against `doc`.
    Serving signatures skip the Python-side check, so a wrong shape would
    otherwise fail deep inside the model with a matmul error."""
    dims = doc.shape
    # Graph optimisation trusts the declared shape: it folds the shape of a
    # fully known one (a scalar) into a constant, so such inputs are read
    # back through a serialize/parse round trip, whose shape only run time
    # knows. The shape is compared as a padded and truncated copy, plus the
    # element count; one extra slot must stay padding (-2): it catches extra
    # dimensions. Values are checked on a flat view (reductions over the
    # declared rank would fail first on a wrong rank).
    probe = tf.io.parse_tensor(tf.io.serialize_tensor(tensor), tensor.dtype) if None not in dims else tensor
    shape = tf.shape(probe)
    padded = tf.concat([shape, tf.fill([len(dims) + 1], -2)], 0)[: len(dims) + 1]
    expected = tf.constant([-1 if d is None else d for d in dims] + [-2], tf.int32)
    dims_ok = tf.reduce_all(tf.logical_or(tf.equal(padded, expected), expected == -1))
    count_ok = tf.equal(tf.size(probe, out_type=tf.int32), tf.reduce_prod(tf.maximum(padded[:-1], 0)))
    shape_ok = tf.logical_and(dims_ok, count_ok)
    flat = tf.reshape(probe, [-1])
    wanted = "[" + ", ".join("N" if d is None else str(d) for d in dims) + "]"
    checks = [tf.debugging.Assert(shape_ok, [f"{signature}({argument}): expected {doc.dtype} {wanted}, got shape", shape],
                                  summarize=16, name=f"check_{argument}_shape")]  # fmt: skip
    # Value checks pass on a wrong shape, which only the shape check reports.
    where = f"{signature}({argument}): values must be"
    got = ["got", flat] if not dims else ["got min", tf.reduce_min(flat), "max", tf.reduce_max(flat)]
    if doc.finite:
        finite = tf.logical_or(tf.logical_not(shape_ok), tf.reduce_all(tf.math.is_finite(flat)))
        checks.append(tf.debugging.Assert(finite, [f"{where} finite (no NaN or inf)", *got], name=f"check_{argument}_finite"))
    if doc.low is not None:
        low, high = tf.cast(doc.low, tensor.dtype), tf.cast(doc.high, tensor.dtype)
        inside = tf.logical_or(tf.logical_not(shape_ok), tf.reduce_all(tf.logical_and(flat >= low, flat <= high)))
        checks.append(tf.debugging.Assert(inside, [f"{where} in {doc.values},", *got], name=f"check_{argument}_range"))
    with tf.control_dependencies(checks):
        return tf.identity(tensor)


def _unless_empty(batch, compute: Callable[[], dict], empty: Callable[[], dict]) -> dict:
    # Convolutions reject an empty batch on CPU: answer it without the model.
    return tf.cond(tf.shape(batch)[0] > 0, compute, empty)


def compute_dtypes(model) -> set[str]:
    """The compute dtypes of the model's layers, nested ones included."""
    layers = [model, *model._flatten_layers(include_self=False, recursive=True)]
    return {layer.compute_dtype for layer in layers}


def serving_model(model, precision: str = "float32"):
    """The model the signatures run: `model` itself, or for "float32" a
    model computing in float32 (a model trained under a mixed policy is
    rebuilt from its config under the float32 policy and given the trained
    weights, cast to float32; the global policy is restored).

    Example:

    >>> from tfface.presets import build_preset
    >>> keras.mixed_precision.set_global_policy("mixed_float16")
    >>> mixed = build_preset("vae_tiny", image_size=(16, 16), latent_dim=4)
    >>> keras.mixed_precision.set_global_policy("float32")
    >>> sorted(compute_dtypes(mixed)), sorted(compute_dtypes(serving_model(mixed)))
    (['float16', 'float32'], ['float32'])
    """
    if precision not in SERVING_PRECISIONS:
        raise ValueError(f"precision must be one of {SERVING_PRECISIONS}, got {precision!r}")
    if precision == "training" or compute_dtypes(model) == {"float32"}:
        return model
    previous = keras.mixed_precision.global_policy()
    try:
        keras.mixed_precision.set_global_policy("float32")
        clone = type(model).from_config(model.get_config())
        if not clone.built:
            clone.build((None, *model.image_shape))
    finally:
        keras.mixed_precision.set_global_policy(previous)
    source, target = model.weights, clone.weights
    if [tuple(v.shape) for v in source] != [tuple(v.shape) for v in target]:
        raise ValueError(f"{model.name}: the float32 rebuild has other weights than the trained model "
                         f"({len(target)} vs {len(source)}); export with precision='training'")  # fmt: skip
    for src, dst in zip(source, target):
        dst.assign(keras.ops.cast(src, dst.dtype))
    return clone


def _endpoints(model, sampler, options: ServingOptions) -> dict[str, Any]:
    """The serving tf.functions, in the order they are added (the first is
    `serving_default`)."""
    docs = signature_docs(model, options, with_sample=sampler is not None)
    value_range, shape, d = ValueRange.parse(model.value_range), tuple(model.image_shape), model.latent_dim
    pixels = options.image_dtype == "uint8"

    def images_in(images):
        unit = tf.cast(images, tf.float32) / 255.0 if pixels else images
        return value_range.from_unit(unit)

    def images_out(unit):
        return _to_pixels(unit) if pixels else unit

    def decode_unit(z):
        return _unless_empty(
            z,
            lambda: value_range.to_unit(tf.cast(model.decode(z, training=False), tf.float32)),
            lambda: tf.zeros(tf.concat([tf.shape(z)[:1], shape], 0), tf.float32),
        )

    def codes(images):
        posterior = model.posterior(images_in(images), training=False)
        mean = tf.cast(posterior.mean, tf.float32)
        if posterior.log_var is None:  # a point mass: the floor of the clamp
            return {"mean": mean, "log_variance": tf.fill(tf.shape(mean), LOG_VAR_RANGE[0])}
        return {"mean": mean, "log_variance": tf.cast(posterior.log_var, tf.float32)}

    def empty_codes(images):
        zeros = tf.zeros(tf.stack([tf.shape(images)[0], d]), tf.float32)
        return {"mean": zeros, "log_variance": zeros + LOG_VAR_RANGE[0]}

    def checked(name, **inputs):
        doc = docs[name]
        return [_checked(inputs[arg], name, arg, doc.inputs[arg]) for arg in doc.inputs]

    @tf.function(input_signature=docs["generate"].input_signature())
    def generate(z):
        (z,) = checked("generate", z=z)
        return {"images": images_out(decode_unit(z))}

    @tf.function(input_signature=docs["decode"].input_signature())
    def decode(z):
        (z,) = checked("decode", z=z)
        return {"images": decode_unit(z)}

    @tf.function(input_signature=docs["encode"].input_signature())
    def encode(images):
        (images,) = checked("encode", images=images)
        return _unless_empty(images, lambda: codes(images), lambda: empty_codes(images))

    @tf.function(input_signature=docs["reconstruct"].input_signature())
    def reconstruct(images):
        (images,) = checked("reconstruct", images=images)
        unit = _unless_empty(
            images,
            lambda: value_range.to_unit(tf.cast(model(images_in(images), training=False), tf.float32)),
            lambda: tf.zeros(tf.shape(images), tf.float32),
        )
        return {"images": images_out(unit)}

    endpoints = {"generate": generate, "decode": decode}
    if sampler is not None:

        @tf.function(input_signature=docs["sample"].input_signature())
        def sample(count, seed, temperature):
            count, seed, temperature = checked("sample", count=count, seed=seed, temperature=temperature)
            z = sampler.tf_sample(count, seed, temperature)
            return {"images": images_out(decode_unit(z)), "z": z}

        endpoints["sample"] = sample
    endpoints.update(encode=encode, reconstruct=reconstruct)
    return endpoints


def default_sampler(model, config=None):
    """The sampler `export_savedmodel` embeds when none is given: the prior
    N(0, I) when that is the model's default (VAEs); None (no `sample`
    signature) when the default sampler is fitted on codes (autoencoders,
    report 000's "diagonal") — pass a fitted sampler (`tfface export RUN`
    and `tfface train` fit the run's default)."""
    preset = config.model.preset if config is not None else None
    return PriorSampler(latent_dim=model.latent_dim) if default_sampler_kind(model, preset) == "prior" else None


def serving_description(model, sampler, options: ServingOptions) -> dict[str, Any]:
    """The content of `assets.extra/serving.json`."""
    return {
        "tfface_version": __version__,
        "image_dtype": options.image_dtype,
        "precision": options.precision,
        "compute_dtypes": sorted(compute_dtypes(model)),
        "image_shape": list(model.image_shape),
        "latent_dim": model.latent_dim,
        "model_value_range": str(model.value_range),
        "max_count": options.max_count,
        "max_temperature": options.max_temperature,
        "sampler": None if sampler is None else sampler.kind,
        "default_signature": "generate",
        "signatures": {k: v.describe() for k, v in signature_docs(model, options, sampler is not None).items()},
    }


def export_savedmodel(
    model,
    path: str | os.PathLike,
    *,
    sampler: Any = "auto",
    options: ServingOptions = ServingOptions(),
    config=None,
    keras_file: str | os.PathLike | None = None,
    check: Callable[[str], None] | None = None,
    directions: AttributeDirections | None = None,
) -> str:
    """Writes a SavedModel with the serving signatures of the module
    docstring into the version folder `path` (e.g. `OUT/1`).

    The folder is written under a temporary name and renamed into place, so
    an interrupted (or failed) export leaves any previous export intact and
    TF Serving never sees a half-written version. The result loads with
    `tf.saved_model.load(path)` without tfface installed.

    Args:
        model: a built `LatentAutoencoder`.
        path: str. Output (version) folder.
        sampler: a fitted `LatentSampler` behind `sample`, None for no
            `sample` signature, or "auto" (`default_sampler`). Defaults to "auto".
        options: `ServingOptions`. Image dtype, `sample` limits and the
            precision the signatures compute in (float32 by default).
        config: `ExperimentConfig` or None. Written to
            `assets.extra/config.json` (needed by `load_run`).
        keras_file: str or None. An existing `.keras` file copied to
            `assets.extra/model.keras`; by default the model is saved there.
        check: callable or None. Called with the temporary folder once it is
            complete; an exception aborts the export (e.g. verification).
        directions: `AttributeDirections` or None. Written to
            `assets.extra/attribute_directions.json` for clients that edit
            faces (`tfface explore`).

    Returns:
        The path written.
    """
    path = os.fspath(path)
    if isinstance(sampler, str) and sampler == "auto":
        sampler = default_sampler(model, config)
    if sampler is not None:
        if not isinstance(sampler, LatentSampler) or not sampler.fitted:
            raise ValueError(f"sampler must be a fitted LatentSampler, 'auto' or None, got {sampler!r}")
        if sampler.latent_dim != model.latent_dim:
            raise ValueError(f"sampler latent_dim {sampler.latent_dim} != model latent_dim {model.latent_dim}")

    served = serving_model(model, options.precision)
    archive = keras.export.ExportArchive()
    # Only what the signatures run: a discriminator or other training-only
    # parts of the model stay out of the SavedModel.
    archive.track(served.encoder)
    archive.track(served.decoder)
    for name, function in _endpoints(served, sampler, options).items():
        archive.add_endpoint(name, function)
    with atomic_path(path, is_dir=True) as tmp:
        archive.write_out(tmp, verbose=False)
        extra = os.path.join(tmp, ASSETS_EXTRA)
        os.makedirs(extra, exist_ok=True)
        if keras_file is not None:
            shutil.copyfile(keras_file, os.path.join(extra, "model.keras"))
        else:
            model.save(os.path.join(extra, "model.keras"))
        if config is not None:
            save_config(config, os.path.join(extra, "config.json"))
        if sampler is not None:
            save_sampler(sampler, os.path.join(extra, "sampler.json"))
        if directions is not None:
            if directions.directions.shape[1:] != (model.latent_dim,):
                raise ValueError(f"attribute directions have shape {directions.directions.shape}, "
                                 f"the model's latent has {model.latent_dim} entries")  # fmt: skip
            directions.save(os.path.join(extra, DIRECTIONS_FILE))
        with open(os.path.join(extra, SERVING_FILE), "w", encoding="utf-8") as handle:
            json.dump(serving_description(served, sampler, options), handle, indent=2)
            handle.write("\n")
        if check is not None:
            check(tmp)
    return path
