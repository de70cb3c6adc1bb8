"""The model an explorer shows: a SavedModel export and what its
`assets.extra/` carries (serving description, sampler, attribute
directions, the run's data config for the face crop), called through its
serving signatures only, so an export alone is enough."""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from tfface.config import ConfigError, DataConfig, load_config
from tfface.export import export_run
from tfface.export.savedmodel import SERVING_FILE
from tfface.run import ASSETS_EXTRA, RunDir, versions
from tfface.sampling import DIRECTIONS_FILE, SAMPLER_FILE, AttributeDirections, PriorSampler, load_sampler
from tfface.value_range import ValueRange

logger = logging.getLogger(__name__)

SAVED_MODEL_FILE = "saved_model.pb"


def _is_export(path: str) -> bool:
    return os.path.isfile(os.path.join(path, SAVED_MODEL_FILE))


def resolve_export(path: str | os.PathLike) -> tuple[str, RunDir | None]:
    """(export version folder, the run folder or None) for a run folder
    (its newest `export/<version>`), a model base path (its newest version)
    or an export version folder. A run without an export is exported to a
    temporary folder first (`tfface export RUN OUT` keeps one)."""
    path = os.path.abspath(os.fspath(path))
    if _is_export(path):
        return path, None
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path}: no such run folder or SavedModel export")
    present = [v for v in versions(path) if _is_export(os.path.join(path, str(v)))]
    if present:
        return os.path.join(path, str(present[-1])), None
    run = RunDir(path)
    if os.path.exists(run.config) and os.path.exists(run.model):
        exported = [v for v in versions(run.export_root) if _is_export(run.export_version(v))]
        if exported:
            return run.export_version(exported[-1]), run
        out = tempfile.mkdtemp(prefix="tfface-explore-export-")
        logger.info(f"{path} has no export: exporting it to {out} (`tfface export {path} OUT` keeps one)")
        return export_run(path, out, verify=False).path, run
    raise FileNotFoundError(
        f"{path} is neither a run folder (config.json, model.keras) nor a SavedModel export ({SAVED_MODEL_FILE}): "
        "pass RUN, RUN/export/<version> or the OUT of `tfface export RUN OUT`"
    )


@dataclass
class ServedModel:
    """A SavedModel export, called through its serving signatures, with the
    samplers and attribute directions it carries.

    Images in and out are uint8 RGB (N, H, W, 3); codes float32 (N, d).
    Use `ServedModel.open(path)`.

    Attributes:
        path: the export version folder.
        module: what `tf.saved_model.load` returned.
        serving: its `assets.extra/serving.json`.
        samplers: {label: `LatentSampler` or None}; None is the export's
            own `sample` signature, listed first.
        directions: `AttributeDirections` or None.
        data: the run's `DataConfig` (face-crop settings), defaults if
            the export has no config.
    """

    path: str
    module: object
    serving: dict
    samplers: dict[str, object] = field(default_factory=dict)
    directions: AttributeDirections | None = None
    data: DataConfig = field(default_factory=DataConfig)
    name: str = ""

    @classmethod
    def open(cls, path: str | os.PathLike) -> "ServedModel":
        """Opens a run folder, a model base path or an export version folder
        (see `resolve_export`)."""
        export, run = resolve_export(path)
        extra = os.path.join(export, ASSETS_EXTRA)
        serving_file = os.path.join(extra, SERVING_FILE)
        if not os.path.exists(serving_file):
            raise FileNotFoundError(f"{serving_file} not found: is {export} an export written by tfface?")
        with open(serving_file, encoding="utf-8") as handle:
            serving = json.load(handle)
        module = tf.saved_model.load(export)
        samplers: dict[str, object] = {}
        served = serving.get("sampler")
        if "sample" in module.signatures and served:
            samplers[f"{served} (served)"] = None
        # The run's own sampler.json may be newer than (or differ from) the export's.
        for file in ([run.sampler] if run else []) + [os.path.join(extra, SAMPLER_FILE)]:
            if os.path.exists(file):
                sampler = load_sampler(file)
                if sampler.kind != served and sampler.latent_dim == serving["latent_dim"]:
                    samplers.setdefault(sampler.kind, sampler)
        if served != "prior":
            samplers.setdefault("prior", PriorSampler(latent_dim=serving["latent_dim"]))
        directions = None
        for file in ([run.attribute_directions] if run else []) + [os.path.join(extra, DIRECTIONS_FILE)]:
            if os.path.exists(file):
                directions = AttributeDirections.load(file)
                break
        if directions is not None and directions.directions.shape[1:] != (serving["latent_dim"],):
            raise ValueError(f"{file}: directions of size {directions.directions.shape[1:]} for a {serving['latent_dim']}-d latent")
        data, name = DataConfig(), os.path.basename(os.path.dirname(export))
        config_file = os.path.join(extra, "config.json")
        if os.path.exists(config_file):
            try:
                config = load_config(config_file)
                data, name = config.data, config.name or name
            except ConfigError as error:  # an export from another tfface version: default crop settings
                logger.warning(f"{config_file}: {error}; the face crop uses the default settings")
        return cls(export, module, serving, samplers, directions, data, name)

    # ---------------------------------------------------------------- facts

    @property
    def signatures(self):
        return self.module.signatures

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.serving["image_shape"])

    @property
    def latent_dim(self) -> int:
        return int(self.serving["latent_dim"])

    @property
    def max_count(self) -> int:
        return int(self.serving.get("max_count", 256))

    @property
    def max_temperature(self) -> float:
        return float(self.serving.get("max_temperature", 10.0))

    @property
    def attribute_names(self) -> list[str]:
        """Attributes with a direction (NaN rows, for attributes no face or
        every face had, are left out)."""
        if self.directions is None:
            return []
        return [name for name, row in zip(self.directions.names, self.directions.directions) if np.isfinite(row).all()]

    # ------------------------------------------------------------- signatures

    def _images_in(self, images: np.ndarray) -> tf.Tensor:
        images = np.asarray(images, np.uint8)
        if self.serving["image_dtype"] == "uint8":
            return tf.constant(images)
        return tf.constant(images.astype(np.float32) / 255.0)

    def _images_out(self, images) -> np.ndarray:
        images = images.numpy()
        return images if images.dtype == np.uint8 else ValueRange.ZERO_ONE.to_uint8(images)

    def generate(self, z) -> np.ndarray:
        """Faces of codes (N, d), uint8."""
        return self._images_out(self.signatures["generate"](z=tf.constant(np.asarray(z, np.float32)))["images"])

    def encode(self, images) -> np.ndarray:
        """Posterior means (N, d) of uint8 faces of the model's size."""
        return self.signatures["encode"](images=self._images_in(images))["mean"].numpy()

    def reconstruct(self, images) -> np.ndarray:
        """Decoded posterior means of uint8 faces, uint8."""
        return self._images_out(self.signatures["reconstruct"](images=self._images_in(images))["images"])

    def sample(self, sampler: str, count: int, seed: int, temperature: float) -> tuple[np.ndarray, np.ndarray]:
        """(codes (count, d), faces uint8) drawn by the sampler labelled
        `sampler` (see `samplers`); same seed, same faces."""
        if sampler not in self.samplers:
            raise KeyError(f"unknown sampler {sampler!r}; this model has: {', '.join(self.samplers)}")
        chosen = self.samplers[sampler]
        if chosen is None:
            out = self.signatures["sample"](count=tf.constant(int(count), tf.int32), seed=tf.constant(int(seed), tf.int64),
                                            temperature=tf.constant(float(temperature), tf.float32))  # fmt: skip
            return out["z"].numpy(), self._images_out(out["images"])
        z = chosen.sample(int(count), seed=int(seed), temperature=float(temperature))
        return z, self.generate(z)

    def describe(self) -> str:
        """One line: name, image size, latent size, samplers, attributes."""
        h, w, _ = self.image_shape
        attributes = f"{len(self.attribute_names)} attribute directions" if self.directions is not None else "no attribute directions"
        return f"{self.name}: {h}x{w} faces, {self.latent_dim}-d latent, samplers {', '.join(self.samplers)}; {attributes}"

