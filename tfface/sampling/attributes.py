"""Attribute control: faces from hand-written attribute vectors (report 000,
Figure 7) and attribute directions in latent space for editing real faces.

- For the attribute-classifier encoders of report 000 the latent code *is*
  the vector of attribute probabilities, so a list of attribute names is a
  code: `attribute_vector(["Male", "Black_Hair"], names)`.
- For any model trained on data with attributes, the direction of an
  attribute is the mean code of the faces with it minus the mean code of
  the faces without it; adding it to a face's code adds the attribute
  ("add Smiling", "add Eyeglasses").
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from tfface.data.celeba_attributes import CELEBA_ATTRIBUTES
from tfface.imaging import save_grid
from tfface.io import atomic_write_text
from tfface.registry import did_you_mean
from tfface.sampling.latents import decode, encode_dataset, to_numpy

#: A run's fitted directions (`RUN/attribute_directions.json`), also the name in an export's `assets.extra/`.
DIRECTIONS_FILE = "attribute_directions.json"


def _index(name: str, names: Sequence[str]) -> int:
    try:
        return list(names).index(name)
    except ValueError:
        hint = did_you_mean(name, names, sentence=True)
        raise ValueError(f"unknown attribute {name!r}.{hint} Known: {', '.join(names)}") from None


def attribute_vector(
    attributes: Sequence[str] | Mapping[str, float],
    names: Sequence[str],
    off: float = 0.0,
    on: float = 1.0,
) -> np.ndarray:
    """A vector over `names` with `on` for the listed attributes, `off` elsewhere.

    Args:
        attributes: names to switch on, or a mapping name → value.
        names: the attribute names in vector order (a data source's
            `attribute_names`, e.g. CelebA's 40).
        off: float. Value of unlisted attributes. Defaults to 0.
        on: float. Value of listed attributes. Defaults to 1.

    Example:

    >>> attribute_vector(["Smiling"], ["Male", "Smiling", "Young"]).tolist()
    [0.0, 1.0, 0.0]
    >>> attribute_vector({"Young": 0.75}, ["Male", "Smiling", "Young"], off=0.5).tolist()
    [0.5, 0.5, 0.75]
    """
    vector = np.full(len(names), off, np.float32)
    items = attributes.items() if isinstance(attributes, Mapping) else ((name, on) for name in attributes)
    for name, value in items:
        vector[_index(name, names)] = value
    return vector


def latent_attribute_names(names: Sequence[str], latent_dim: int) -> tuple[str, ...]:
    """The attribute names of a classifier-encoder latent: the data's names
    when their count matches the latent size, CelebA's 40 for a 40-d latent.

    Raises ValueError for models whose latent is not an attribute vector.
    """
    if len(names) == latent_dim:
        return tuple(names)
    if latent_dim == len(CELEBA_ATTRIBUTES):
        return CELEBA_ATTRIBUTES
    raise ValueError(
        f"the model's latent has {latent_dim} entries but the data has {len(names)} attributes: "
        "generation from attribute vectors needs a classifier-encoder model (latent = attribute probabilities)"
    )


def parse_attribute_spec(spec: str) -> list[str]:
    """"Male,Black_Hair" → ["Male", "Black_Hair"]; "none" → [] (an empty face)."""
    spec = spec.strip()
    if spec.lower() in ("", "none"):
        return []
    return [part.strip() for part in spec.split(",") if part.strip()]


def generate_from_attributes(
    model,
    attributes: Sequence[Sequence[str] | Mapping[str, float]],
    names: Sequence[str],
    off: float = 0.0,
    path: str | os.PathLike | None = None,
) -> np.ndarray:
    """Decodes hand-written attribute vectors with a classifier-encoder model
    (its latent is the attribute probabilities), one face per vector.

    Args:
        model: a `LatentAutoencoder` whose latent size equals `len(names)`.
        attributes: one entry per face: names to switch on, or name → value.
            "all" as a single name switches every attribute on.
        names: attribute names in latent order.
        off: float. Value of unlisted attributes. Defaults to 0.
        path: str or None. Save the faces as a one-row PNG here.
    """
    if model.latent_dim != len(names):
        raise ValueError(
            f"attribute vectors have {len(names)} entries but the model's latent has {model.latent_dim}: "
            "generation from attributes needs a classifier-encoder model (latent = attribute probabilities)"
        )
    vectors = np.stack(
        [np.ones(len(names), np.float32) if list(spec) == ["all"] else attribute_vector(spec, names, off=off) for spec in attributes]
    )
    images = decode(model, vectors)
    if path is not None:
        save_grid(path, images, model.value_range, rows=1, cols=len(images))
    return images


@dataclass
class AttributeDirections:
    """Per-attribute latent directions: mean code with the attribute minus
    mean code without it.

    Args:
        names: attribute names, in row order.
        directions: array (k, d). One direction per attribute (NaN rows for
            attributes that no face, or every face, has).
        with_count: array (k,). Faces with each attribute.
        without_count: array (k,). Faces without it.

    Example:

    >>> codes = np.array([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0]])
    >>> labels = np.array([[1], [1], [0]])
    >>> AttributeDirections.from_latents(codes, labels, ["Smiling"]).direction("Smiling").tolist()
    [2.0, -2.0]
    """

    names: tuple[str, ...]
    directions: np.ndarray
    with_count: np.ndarray
    without_count: np.ndarray

    @classmethod
    def from_latents(cls, latents, attributes, names: Sequence[str], threshold: float = 0.5) -> "AttributeDirections":
        """Directions from codes and their attribute labels: mean code with minus mean code without, per name."""
        latents = np.asarray(latents, np.float64)
        labels = np.asarray(attributes, np.float64) > threshold
        if labels.shape != (len(latents), len(names)):
            raise ValueError(
                f"attributes have shape {labels.shape}; expected ({len(latents)}, {len(names)}) for {len(names)} names"
            )
        with_count = labels.sum(axis=0)
        without_count = len(labels) - with_count
        directions = np.full((len(names), latents.shape[1]), np.nan)
        for k in range(len(names)):
            if with_count[k] and without_count[k]:
                directions[k] = latents[labels[:, k]].mean(axis=0) - latents[~labels[:, k]].mean(axis=0)
        return cls(tuple(names), directions.astype(np.float32), with_count.astype(int), without_count.astype(int))

    def direction(self, name: str) -> np.ndarray:
        """The direction of attribute `name` (ValueError if no face had, or lacked, it)."""
        k = _index(name, self.names)
        if np.isnan(self.directions[k]).any():
            raise ValueError(
                f"no direction for {name!r}: {self.with_count[k]} faces with it, {self.without_count[k]} without"
            )
        return self.directions[k]

    def edit(self, latents, edit: str, strength: float = 1.0) -> np.ndarray:
        """Codes moved along an attribute: "Smiling" adds it, "-Smiling" removes it."""
        sign = -1.0 if edit.startswith("-") else 1.0
        name = edit.lstrip("+-")
        return np.asarray(latents, np.float32) + sign * float(strength) * self.direction(name)

    def get_config(self) -> dict:
        return {
            "names": list(self.names),
            "directions": [None if np.isnan(row).any() else row.tolist() for row in self.directions],
            "with_count": self.with_count.tolist(),
            "without_count": self.without_count.tolist(),
        }

    @classmethod
    def from_config(cls, config: dict) -> "AttributeDirections":
        dim = next((len(row) for row in config["directions"] if row is not None), 0)
        rows = [np.full(dim, np.nan) if row is None else np.asarray(row) for row in config["directions"]]
        return cls(
            tuple(config["names"]),
            np.asarray(rows, np.float32).reshape(len(rows), dim),
            np.asarray(config["with_count"], int),
            np.asarray(config["without_count"], int),
        )

    def save(self, path: str | os.PathLike) -> str:
        """Writes the directions as JSON (atomically); returns the path."""
        atomic_write_text(path, json.dumps(self.get_config()) + "\n")
        return os.fspath(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AttributeDirections":
        """Reads directions written by `save`."""
        with open(path, encoding="utf-8") as handle:
            return cls.from_config(json.load(handle))


def attribute_directions(model, data, names: Sequence[str], limit: int | None = None) -> AttributeDirections:
    """Encodes (images, attributes) data and computes every attribute's direction.

    Args:
        model: a trained `LatentAutoencoder`.
        data: a batched dataset of (images, attributes), or a tuple of arrays.
        names: the attribute names, in attribute-vector order.
        limit: int or None. Encode at most this many faces.
    """
    latents, attributes = encode_dataset(model, data, limit=limit)
    if attributes is None:
        raise ValueError("attribute directions need attributes: pass (images, attributes) data")
    return AttributeDirections.from_latents(latents, attributes, names)


def edit_images(
    model,
    images,
    directions: AttributeDirections,
    edits: Sequence[str] = ("Smiling", "Eyeglasses"),
    strength: float = 1.0,
    path: str | os.PathLike | None = None,
) -> dict[str, np.ndarray]:
    """Before/after edits of real faces.

    Rows of the saved grid: originals, reconstructions, then one row per
    edit ("Smiling" adds, "-Smiling" removes); one column per face.

    Returns:
        {"original", "reconstruction", <edit>...} → images in the model's range.
    """
    images = np.asarray(images, np.float32)
    codes = to_numpy(model.encode(images, training=False))
    out = {"original": images, "reconstruction": decode(model, codes)}
    for edit in edits:
        out[edit] = decode(model, directions.edit(codes, edit, strength))
    if path is not None:
        save_grid(path, np.concatenate(list(out.values())), model.value_range, rows=len(out), cols=len(images))
    return out
