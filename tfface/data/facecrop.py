"""Haar-cascade face crop, computed once per file and cached on disk.

OpenCV's bundled `haarcascade_frontalface_default.xml` finds frontal faces
(report 002 cropped its photos of people this way). Detection is the slow
part (~50-100 images/s on 2 cores, ~20x slower than decoding), so it runs
once per file and detection parameters: the detected face rectangles are
stored in a JSON file in the crop cache folder, keyed by the file's
absolute path, size and modification time, in a file named after a hash of
the detection parameters (and the OpenCV version). Changing a detection
parameter starts a new cache file; a changed image is detected again. The
margin and the output aspect are applied to the cached rectangles, so
changing them costs nothing.

The training pipeline then only decodes and crops to the stored box
(`tf.image.crop_to_bounding_box`): with a warm cache the crop path runs at
the speed of the plain path.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import asdict, dataclass, field
from typing import Sequence

import cv2
import numpy as np

from tfface.config import DataConfig
from tfface.data.scan import ResultCache, default_cache_dir, read_gray, scan_files
from tfface.data.transforms import crop_to_box, quantize, resize

CASCADE = "haarcascade_frontalface_default.xml"


@dataclass(frozen=True)
class FaceDetector:
    """Haar-cascade face detection with fixed parameters.

    Args:
        scale_factor: float. `detectMultiScale` pyramid step. Defaults to 1.1.
        min_neighbors: int. Overlapping detections needed to keep a face.
            Defaults to 5.
        min_size: int. Smallest face side in pixels. Defaults to 30.
        cascade: str. Cascade file in `cv2.data.haarcascades`.
            Defaults to "haarcascade_frontalface_default.xml".

    Example:

    >>> import skimage.data
    >>> len(FaceDetector().detect(skimage.data.astronaut()))
    1
    """

    scale_factor: float = 1.1
    min_neighbors: int = 5
    min_size: int = 30
    cascade: str = CASCADE

    @classmethod
    def from_config(cls, config: DataConfig) -> "FaceDetector":
        return cls(config.face_scale_factor, config.face_min_neighbors, config.face_min_size)

    @property
    def key(self) -> str:
        """Hash of everything that changes the detections."""
        text = json.dumps({**asdict(self), "opencv": cv2.__version__}, sort_keys=True)
        return hashlib.sha1(text.encode()).hexdigest()[:16]

    def detect(self, image: np.ndarray) -> np.ndarray:
        """Face rectangles (k, 4) as (x, y, width, height) in an RGB or grey uint8 image."""
        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        faces = _classifier(self.cascade).detectMultiScale(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(self.min_size, self.min_size),
        )  # fmt: skip
        return np.asarray(faces, np.int64).reshape(-1, 4)


_local = threading.local()


def _classifier(cascade: str) -> cv2.CascadeClassifier:
    """One classifier per thread and cascade (instances are not shared across threads)."""
    cache = _local.__dict__.setdefault("classifiers", {})
    if cascade not in cache:
        path = os.path.join(cv2.data.haarcascades, cascade)
        classifier = cv2.CascadeClassifier(path)
        if classifier.empty():
            raise FileNotFoundError(f"cannot load the Haar cascade {path}")
        cache[cascade] = classifier
    return cache[cascade]


def largest_face(faces: np.ndarray) -> np.ndarray | None:
    """The (x, y, w, h) rectangle of largest area, or None."""
    faces = np.asarray(faces).reshape(-1, 4)
    if not len(faces):
        return None
    return faces[int(np.argmax(faces[:, 2] * faces[:, 3]))]


def center_box(image_hw: Sequence[int], aspect: float) -> tuple[int, int, int, int]:
    """(top, left, height, width) of the largest centred box with width/height = aspect."""
    h, w = int(image_hw[0]), int(image_hw[1])
    box_h = min(h, int(round(w / aspect)))
    box_w = min(w, int(round(h * aspect)))
    return (h - box_h) // 2, (w - box_w) // 2, box_h, box_w


def face_box(face, image_hw: Sequence[int], margin: float, aspect: float) -> tuple[int, int, int, int]:
    """(top, left, height, width) around a face rectangle (x, y, w, h).

    The box is centred on the face, extends `margin` × the face size on
    every side, has width/height = `aspect` (the output's), and is shifted
    (then, if still too large, shrunk) to lie inside the image.
    """
    x, y, fw, fh = (float(v) for v in face)
    h, w = int(image_hw[0]), int(image_hw[1])
    box_h = max(fh, fw / aspect) * (1.0 + 2.0 * margin)
    box_w = box_h * aspect
    scale = min(1.0, h / box_h, w / box_w)
    box_h, box_w = max(1, int(round(box_h * scale))), max(1, int(round(box_w * scale)))
    box_h, box_w = min(box_h, h), min(box_w, w)
    cy, cx = y + fh / 2.0, x + fw / 2.0
    top = int(round(min(max(cy - box_h / 2.0, 0.0), h - box_h)))
    left = int(round(min(max(cx - box_w / 2.0, 0.0), w - box_w)))
    return top, left, box_h, box_w


def detect_file(path: str, detector: FaceDetector) -> dict:
    """{"hw", "faces"} of an image file, or {"error": reason} if it cannot be decoded."""
    gray = read_gray(path)
    if isinstance(gray, str):
        return {"error": gray}
    return {"hw": list(gray.shape[:2]), "faces": detector.detect(gray).tolist()}


@dataclass
class FaceCrops:
    """Face-crop boxes of a list of files.

    Attributes:
        boxes: int32 (n, 4) (top, left, height, width) per kept file.
        keep: indices (into the input paths) of the files that have a box.
        counts: {"0", "1", "2+"} → number of decodable files with that many faces.
        skipped: (path, reason) of files without a box.
        detected: how many files the cascade ran on (0 with a warm cache).
        cache_path: the cache file.
    """

    boxes: np.ndarray
    keep: list[int]
    counts: dict[str, int]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    detected: int = 0
    cache_path: str = ""


def face_counts_histogram(counts: Sequence[int]) -> dict[str, int]:
    """Numbers of faces per image → {"0": …, "1": …, "2+": …}."""
    counts = np.asarray(counts)
    return {"0": int((counts == 0).sum()), "1": int((counts == 1).sum()), "2+": int((counts >= 2).sum())}


def face_crops(
    paths: Sequence[str],
    config: DataConfig,
    aspect: float,
    data_root: str,
    workers: int | None = None,
    chunk: int = 2048,
) -> FaceCrops:
    """Runs (or reads from the cache) the cascade on every file and turns
    the largest face into a crop box; files without a face follow
    `config.no_face` ("skip" lists them as skipped, "center" crops the centre).

    Args:
        paths: image files.
        config: DataConfig. The face_* fields and `crop_cache_dir`.
        aspect: float. Output width / height.
        data_root: str. Folder whose `.tfface_cache` holds the cache by default.
        workers: int or None. Detection threads; defaults to the CPU count.
        chunk: int. The cache is saved after every `chunk` new detections.
    """
    detector = FaceDetector.from_config(config)
    cache = ResultCache(
        config.crop_cache_dir or default_cache_dir(data_root), f"faces-{detector.key}",
        {"detector": asdict(detector), "opencv": cv2.__version__},
    )  # fmt: skip
    results, computed = scan_files(paths, cache, lambda path: detect_file(path, detector), workers, chunk)
    boxes, keep, skipped, numbers = [], [], [], []
    for index, result in enumerate(results):
        if "error" in result:
            skipped.append((paths[index], result["error"]))
            continue
        faces = np.asarray(result["faces"], np.int64).reshape(-1, 4)
        numbers.append(len(faces))
        face = largest_face(faces)
        if face is not None:
            boxes.append(face_box(face, result["hw"], config.face_margin, aspect))
        elif config.no_face == "center":
            boxes.append(center_box(result["hw"], aspect))
        else:
            skipped.append((paths[index], "no face found (data.no_face='skip')"))
            continue
        keep.append(index)
    box_array = np.asarray(boxes, np.int32).reshape(-1, 4)
    return FaceCrops(box_array, keep, face_counts_histogram(numbers), skipped, computed, cache.path)


@dataclass
class PhotoCrop:
    """The face crop of one photo, as the data pipeline makes it.

    Attributes:
        faces: int64 (k, 4) every detected face as (x, y, width, height).
        box: (top, left, height, width) around the largest face, or None.
        image: uint8 (H, W, 3) the crop resized to the model's size, or None
            when no face was found.
    """

    faces: np.ndarray
    box: tuple[int, int, int, int] | None
    image: np.ndarray | None


def crop_photo(image: np.ndarray, image_size: Sequence[int], config: DataConfig | None = None) -> PhotoCrop:
    """Detects faces in one RGB uint8 photo and crops the largest, with the
    detector, margin and output aspect the data pipeline uses for
    `data.face_crop` (`config`'s face_* fields, defaults when None), then
    resizes the crop to `image_size` (height, width) like the pipeline.

    Example:

    >>> import skimage.data
    >>> crop = crop_photo(skimage.data.astronaut(), (64, 64))
    >>> len(crop.faces), crop.image.shape, crop.image.dtype
    (1, (64, 64, 3), dtype('uint8'))
    """
    config = config or DataConfig()
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[-1] != 3 or image.dtype != np.uint8:
        raise ValueError(f"expected an RGB uint8 image (H, W, 3), got {image.dtype} {image.shape}")
    faces = FaceDetector.from_config(config).detect(image)
    face = largest_face(faces)
    if face is None:
        return PhotoCrop(faces, None, None)
    height, width = int(image_size[0]), int(image_size[1])
    box = face_box(face, image.shape[:2], config.face_margin, width / height)
    crop = quantize(resize(crop_to_box(image, box), (height, width))).numpy()
    return PhotoCrop(faces, box, crop)
