"""What each explorer panel computes, without a user interface: uint8
images and a message in, uint8 images and a message out. The Gradio app
(`tfface.explore.app`) only wires these to its components; any problem a
user can cause (a photo without a face, a file that is not an image, a
huge file) is an `ExploreError` whose message the app shows."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import tensorflow as tf
from PIL import Image

from tfface.data.facecrop import crop_photo
from tfface.data.transforms import decode_image
from tfface.imaging import tile
from tfface.metrics.image import psnr
from tfface.sampling import interpolate


class ExploreError(ValueError):
    """A problem with a request, shown to the user; the app keeps serving."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for.

    Args:
        max_upload_mb: float. Largest uploaded file in megabytes.
            Defaults to 10.
        max_megapixels: float. Largest uploaded image (decoded size).
            Defaults to 40.
        max_faces: int. Largest Generate grid. Defaults to 64.
        max_steps: int. Most interpolation steps. Defaults to 24.

    Example:

    >>> Limits().max_upload_bytes
    10000000
    """

    max_upload_mb: float = 10.0
    max_megapixels: float = 40.0
    max_faces: int = 64
    max_steps: int = 24

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000)


def grid(images: np.ndarray, cols: int | None = None) -> np.ndarray:
    """Tiles faces into one uint8 image, `cols` wide (square by default)."""
    cols = cols or int(math.ceil(math.sqrt(len(images))))
    return tile(images, int(math.ceil(len(images) / cols)), cols)


def read_photo(data: bytes | None, limits: Limits = Limits()) -> np.ndarray:
    """An uploaded file → RGB uint8 (H, W, 3), decoded as the data
    pipeline decodes files (`tfface.data.transforms.decode_image`).

    Raises `ExploreError` for no file, a file over `limits.max_upload_mb`,
    a file that is not an image and an image over `limits.max_megapixels`
    (checked from the header, before decoding).
    """
    if not data:
        raise ExploreError("Upload a photo first.")
    if len(data) > limits.max_upload_bytes:
        raise ExploreError(f"The file is {len(data) / 1e6:.1f} MB; the explorer accepts photos up to {limits.max_upload_mb:g} MB.")
    try:
        with Image.open(io.BytesIO(data)) as header:
            width, height = header.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ExploreError(f"The image is too large to decode: at most {limits.max_megapixels:g} megapixels.") from None
    except Exception:  # Pillow raises several types for what is not an image
        raise ExploreError("This file is not an image: upload a JPEG, PNG, BMP, GIF or WebP photo.") from None
    if width * height > limits.max_megapixels * 1e6:
        raise ExploreError(f"The image is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels); "
                           f"the explorer accepts up to {limits.max_megapixels:g} megapixels: downscale it first.")  # fmt: skip
    try:
        return decode_image(tf.constant(data)).numpy()
    except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError):
        raise ExploreError("This image format cannot be decoded: upload a JPEG, PNG, BMP, GIF or WebP photo.") from None


def face_of(served, data: bytes | None, limits: Limits = Limits()) -> tuple[np.ndarray, str]:
    """(the face crop at the model's size, a note) of an uploaded photo,
    cropped as the data pipeline crops with `data.face_crop`."""
    photo = read_photo(data, limits)
    crop = crop_photo(photo, served.image_shape[:2], served.data)
    found = len(crop.faces)
    if crop.image is None:
        raise ExploreError(f"No face found in this {photo.shape[1]}x{photo.shape[0]} photo (OpenCV's frontal-face Haar "
                           f"cascade, the detector the data pipeline crops with, needs a frontal face at least "
                           f"{served.data.face_min_size} pixels wide).")  # fmt: skip
    if found > 1:
        return crop.image, f"{found} faces found: the largest is used, as the data pipeline does. Upload a photo of one face to choose."
    return crop.image, "1 face found."


def generate_faces(served, sampler: str, count: int, seed: int, temperature: float, limits: Limits = Limits()):
    """(faces (count, H, W, 3), their grid, message)."""
    count = int(count)
    if not 1 <= count <= min(limits.max_faces, served.max_count):
        raise ExploreError(f"Faces: ask for 1 to {min(limits.max_faces, served.max_count)}, got {count}.")
    if not 0.0 <= float(temperature) <= served.max_temperature:
        raise ExploreError(f"Temperature must be in [0, {served.max_temperature:g}], got {temperature}.")
    if sampler not in served.samplers:
        raise ExploreError(f"Unknown sampler {sampler!r}: this model has {', '.join(served.samplers)}.")
    _, faces = served.sample(sampler, count, int(seed), float(temperature))
    return faces, grid(faces), f"{count} faces from the {sampler} sampler, seed {int(seed)}, temperature {float(temperature):g}."


def interpolation_frames(served, start: np.ndarray, end: np.ndarray, steps: int, limits: Limits = Limits()) -> np.ndarray:
    """Faces along the slerp from code `start` to code `end`, ends included."""
    if not 2 <= int(steps) <= limits.max_steps:
        raise ExploreError(f"Steps must be 2 to {limits.max_steps}, got {steps}.")
    return served.generate(interpolate(start, end, int(steps), "slerp"))


def interpolate_seeds(served, sampler: str, seed_a: int, seed_b: int, temperature: float, steps: int, limits: Limits = Limits()):
    """(frames, strip, message) between the first face of two seeds."""
    if sampler not in served.samplers:
        raise ExploreError(f"Unknown sampler {sampler!r}: this model has {', '.join(served.samplers)}.")
    (a,), _ = served.sample(sampler, 1, int(seed_a), float(temperature))
    (b,), _ = served.sample(sampler, 1, int(seed_b), float(temperature))
    frames = interpolation_frames(served, a, b, steps, limits)
    return frames, grid(frames, cols=len(frames)), f"seed {int(seed_a)} → seed {int(seed_b)}: slerp in {int(steps)} steps ({sampler})."


def interpolate_photos(served, photo_a: bytes | None, photo_b: bytes | None, steps: int, limits: Limits = Limits()):
    """(frames, strip with the two crops at its ends, message) between two photos' codes."""
    crops, notes = [], []
    for label, data in (("first", photo_a), ("second", photo_b)):
        try:
            crop, note = face_of(served, data, limits)
        except ExploreError as error:
            raise ExploreError(f"The {label} photo: {error}") from None
        crops.append(crop)
        notes.append(f"{label} photo: {note}")
    codes = served.encode(np.stack(crops))
    frames = interpolation_frames(served, codes[0], codes[1], steps, limits)
    strip = grid(np.concatenate([crops[:1], frames, crops[1:]]), cols=len(frames) + 2)
    return frames, strip, " ".join(notes) + f" Slerp in {int(steps)} steps between their codes (crops at both ends)."


def gif_bytes(frames: np.ndarray, seconds: float = 2.0, min_side: int = 192) -> bytes:
    """An animated GIF going forth and back through `frames`, each scaled
    up by a whole factor (nearest pixel) to at least `min_side`."""
    scale = max(1, int(math.ceil(min_side / min(frames.shape[1:3]))))
    loop = [*frames, *frames[-2:0:-1]]
    images = [Image.fromarray(f).resize((f.shape[1] * scale, f.shape[0] * scale), Image.NEAREST) for f in loop]
    out = io.BytesIO()
    images[0].save(out, format="GIF", save_all=True, append_images=images[1:], loop=0,
                   duration=max(20, int(1000 * seconds / len(images))))  # fmt: skip
    return out.getvalue()


def edit_attributes(served, code: np.ndarray, strengths: Sequence[float]) -> tuple[np.ndarray, np.ndarray, str]:
    """(the face of `code`, the face of `code` + Σ strength·direction,
    message); one strength per `served.attribute_names`."""
    names = served.attribute_names
    if not names:
        raise ExploreError(NO_DIRECTIONS)
    if len(strengths) != len(names):
        raise ExploreError(f"Expected {len(names)} attribute strengths, got {len(strengths)}.")
    edited = np.asarray(code, np.float32).copy()
    for name, strength in zip(names, strengths):
        edited = served.directions.edit(edited, name, float(strength))
    before, after = served.generate(np.stack([code, edited]))
    moved = [f"{name} {float(s):+g}" for name, s in zip(names, strengths) if float(s)]
    return before, after, ("Edited: " + ", ".join(moved) + ".") if moved else "Move a slider to edit the face."


NO_DIRECTIONS = (
    "This model carries no attribute directions. Fit them on the run's labelled training data "
    "(CelebA's 40 attributes, the synthetic faces' labels) with `tfface sample RUN directions`, "
    "then export again with `tfface export RUN OUT` (or explore the run folder itself)."
)


def reconstruct_photo(served, data: bytes | None, limits: Limits = Limits()):
    """(crop, reconstruction, side by side, message with the PSNR)."""
    crop, note = face_of(served, data, limits)
    reconstruction = served.reconstruct(crop[None])[0]
    value = float(psnr(crop[None].astype(np.float32) / 255.0, reconstruction[None].astype(np.float32) / 255.0)[0])
    pair = grid(np.stack([crop, reconstruction]), cols=2)
    return crop, reconstruction, pair, f"{note} Reconstruction PSNR {value:.2f} dB (crop left, reconstruction right)."
