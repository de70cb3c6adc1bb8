"""Haar-cascade face crop on a real photo, the no-face policy, and the crop cache."""

import json
import os

import numpy as np
import pytest
import skimage.data

from tests.data.image_files import pattern, write_jpeg
from tfface.config import DataConfig
from tfface.data import facecrop, load_split, make_dataset
from tfface.data.facecrop import FaceDetector, center_box, face_box

# The astronaut's face (eyes ~ row 100, mouth ~ row 140, eyes at cols ~200 and ~245),
# read off the picture: any crop of her face contains this region.
FACE_ROWS, FACE_COLS = (90, 150), (195, 255)


@pytest.fixture(scope="module")
def astronaut():
    return skimage.data.astronaut()


def _contains(box, rows, cols):
    top, left, height, width = box
    return top <= rows[0] and rows[1] <= top + height and left <= cols[0] and cols[1] <= left + width


def test_astronaut_has_exactly_one_face_and_the_crop_contains_it(tmp_path, astronaut):
    faces = FaceDetector().detect(astronaut)
    assert len(faces) == 1
    write_jpeg(tmp_path / "astronaut.jpg", astronaut)
    cfg = DataConfig(source="folder", path=str(tmp_path), validation_fraction=0, face_crop=True, face_margin=0.2)
    src = load_split(cfg, "train", (64, 48))
    assert src.face_counts == {"0": 0, "1": 1, "2+": 0}
    box = next(iter(src.records))["box"].numpy()
    assert _contains(box, FACE_ROWS, FACE_COLS), box
    top, left, height, width = box
    assert 120 < height < 260 and abs(width / height - 48 / 64) < 0.02  # the face, at the output aspect
    crop = next(iter(src.dataset))["image"].numpy()
    # The crop is decoded at the smallest JPEG scale (1/1, 1/2, 1/4, 1/8) that covers 64x48.
    assert crop.shape == (height // 2, width // 2, 3) and height // 4 < 64 <= height // 2
    batch = next(iter(make_dataset(cfg, "train", batch_size=1, image_size=(64, 48))))
    assert batch.shape == (1, 64, 48, 3)


def test_one_photo_is_cropped_exactly_as_the_pipeline_crops_its_file(tmp_path, astronaut):
    from PIL import Image

    Image.fromarray(astronaut).save(tmp_path / "astronaut.png")  # PNG: the pipeline decodes it at full size
    cfg = DataConfig(source="folder", path=str(tmp_path), validation_fraction=0, face_crop=True, face_margin=0.3)
    box = next(iter(load_split(cfg, "train", (64, 48)).records))["box"].numpy()
    batch = next(iter(make_dataset(cfg, "train", batch_size=1, image_size=(64, 48), value_range="0_1", training=False)))
    crop = facecrop.crop_photo(astronaut, (64, 48), cfg)
    assert len(crop.faces) == 1 and crop.box == tuple(box) and crop.image.shape == (64, 48, 3)
    np.testing.assert_allclose(crop.image / 255.0, batch[0].numpy(), atol=1e-6)  # the pipeline's pixels
    assert facecrop.crop_photo(skimage.data.coffee(), (64, 48), cfg).image is None


def test_image_without_a_face_follows_the_policy(tmp_path, astronaut):
    write_jpeg(tmp_path / "a_face.jpg", astronaut)
    write_jpeg(tmp_path / "b_noface.jpg", pattern(1, (120, 200, 3)))
    base = dict(source="folder", path=str(tmp_path), validation_fraction=0, face_crop=True)
    skip = load_split(DataConfig(**base, no_face="skip"), "train", (32, 32))
    assert skip.num_examples == 1 and skip.face_counts == {"0": 1, "1": 1, "2+": 0}
    assert skip.skipped == [(str(tmp_path / "b_noface.jpg"), "no face found (data.no_face='skip')")]
    center = load_split(DataConfig(**base, no_face="center"), "train", (32, 32))
    assert center.num_examples == 2 and not center.skipped
    boxes = [r["box"].numpy().tolist() for r in center.records]
    assert boxes[1] == [0, 40, 120, 120]  # the centred square of the 120x200 image
    images = [ex["image"].shape for ex in center.dataset]
    assert images[1] == (60, 60, 3)  # the 120x120 box at half scale still covers 32x32


def test_face_box_geometry():
    assert center_box((120, 200), 1.0) == (0, 40, 120, 120)
    assert center_box((100, 100), 0.5) == (0, 25, 100, 50)
    top, left, h, w = face_box((40, 40, 20, 20), (100, 100), margin=0.5, aspect=1.0)
    assert (top, left, h, w) == (30, 30, 40, 40)
    top, left, h, w = face_box((0, 0, 30, 30), (100, 100), margin=0.5, aspect=1.0)
    assert (top, left) == (0, 0) and (h, w) == (60, 60)  # shifted inside the image
    top, left, h, w = face_box((10, 10, 80, 80), (100, 100), margin=1.0, aspect=0.5)
    assert h <= 100 and w <= 100 and abs(w / h - 0.5) < 0.02 and top >= 0 and left >= 0


def test_crop_cache_second_pass_skips_the_cascade_and_changed_parameters_recompute(tmp_path, astronaut, monkeypatch):
    data = tmp_path / "photos"
    for i in range(3):
        write_jpeg(data / f"p{i}.jpg", np.roll(astronaut, 10 * i, axis=1))
    calls = []
    detect = FaceDetector.detect
    monkeypatch.setattr(FaceDetector, "detect", lambda self, image: calls.append(1) or detect(self, image))
    cfg = DataConfig(source="folder", path=str(data), validation_fraction=0, face_crop=True)

    first = load_split(cfg, "train", (32, 32))
    assert len(calls) == 3
    cache_files = os.listdir(data / ".tfface_cache")  # beside the data by default
    assert len(cache_files) == 1 and cache_files[0].startswith("faces-")
    second = load_split(cfg, "train", (32, 32))
    assert len(calls) == 3  # nothing recomputed
    assert [r["box"].numpy().tolist() for r in second.records] == [r["box"].numpy().tolist() for r in first.records]

    load_split(DataConfig(**{**_fields(cfg), "face_margin": 0.5}), "train", (64, 48))
    assert len(calls) == 3  # margin and aspect apply to cached detections
    load_split(DataConfig(**{**_fields(cfg), "face_min_neighbors": 3}), "train", (32, 32))
    assert len(calls) == 6  # a detection parameter changed: recomputed, in a new cache file
    assert len(os.listdir(data / ".tfface_cache")) == 2

    write_jpeg(data / "p1.jpg", astronaut[::-1])  # a changed file is detected again
    os.utime(data / "p1.jpg", ns=(1, 1))
    load_split(cfg, "train", (32, 32))
    assert len(calls) == 7

    custom = tmp_path / "elsewhere"
    load_split(DataConfig(**{**_fields(cfg), "crop_cache_dir": str(custom)}), "train", (32, 32))
    assert len(calls) == 10 and len(os.listdir(custom)) == 1
    document = json.loads((custom / os.listdir(custom)[0]).read_text())
    assert document["detector"]["min_neighbors"] == 5 and len(document["entries"]) == 3


def test_cache_falls_back_to_the_user_cache_when_the_data_folder_is_read_only(tmp_path, monkeypatch):
    data = tmp_path / "readonly"
    data.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home_cache"))
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    directory = facecrop.default_cache_dir(str(data))
    assert directory.startswith(str(tmp_path / "home_cache" / "tfface"))


def _fields(cfg):
    import dataclasses

    return {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg)}


def test_face_crop_needs_a_file_source():
    with pytest.raises(ValueError, match="data.face_crop: the 'synthetic' source has no image files"):
        load_split(DataConfig(face_crop=True, num_examples=8), "train", (32, 32))
