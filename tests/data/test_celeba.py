"""CelebA through tfds (mocked, offline) and from the extracted local layout."""

import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from tests.data.image_files import pattern, write, write_jpeg
from tfface.config import DataConfig
from tfface.data import load_split, make_dataset
from tfface.data.celeba import CELEBA_ATTRIBUTES, TFDS_MANUAL_FILES, CelebAUnavailableError
from tfface.data.sources import UnknownSplitError

from tests.data.test_synthetic import CELEBA_ORDER  # written out independently of the library


# --------------------------------------------------------------------- tfds


def _network_up(monkeypatch):
    """The download host answers (these tests run offline: tfds is mocked)."""
    from tfface.data import celeba

    monkeypatch.setattr(celeba, "unreachable_reason", lambda *args, **kwargs: None)


def test_tfds_celeba_splits_shapes_range_and_attribute_order(tmp_path, monkeypatch):
    _network_up(monkeypatch)
    cfg = DataConfig(source="celeba", path=str(tmp_path), celeba_identity=True, celeba_landmarks=True)
    with tfds.testing.mock_data(num_examples=6):
        for split in ("train", "validation", "test"):
            src = load_split(cfg, split, (64, 64))
            assert src.attribute_names == tuple(CELEBA_ORDER)
            examples = list(src.dataset)
            assert len(examples) == 6
            raw = list(tfds.load("celeb_a", split=split, data_dir=str(tmp_path)))
            for ex, original in zip(examples, raw):
                assert ex["image"].shape == (218, 178, 3) and ex["image"].dtype == tf.uint8
                expected = [float(original["attributes"][name]) for name in CELEBA_ORDER]
                np.testing.assert_array_equal(ex["attributes"].numpy(), expected)
                assert int(ex["identity"]) == int(original["identity"]["Identity_No"])
                assert float(ex["landmarks"][1]) == float(original["landmarks"]["lefteye_y"])
        images, attributes = next(iter(make_dataset(
            cfg, "validation", batch_size=6, image_size=(64, 48), value_range="-1_1", with_attributes=True)))
        assert images.shape == (6, 64, 48, 3) and attributes.shape == (6, 40)
        assert -1.0 <= float(tf.reduce_min(images)) < 0.0 < float(tf.reduce_max(images)) <= 1.0
        assert set(np.unique(attributes.numpy())) <= {0.0, 1.0}
        with pytest.raises(UnknownSplitError, match="unknown split 'valid'"):
            load_split(cfg, "valid", (64, 64))


def test_tfds_download_failure_says_which_files_go_where(tmp_path, monkeypatch):
    _network_up(monkeypatch)
    def fail(self, *args, **kwargs):
        raise ConnectionError("Google Drive quota exceeded")

    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", fail)
    with pytest.raises(CelebAUnavailableError) as caught:
        load_split(DataConfig(source="celeba", path=str(tmp_path)), "train", (64, 64))
    message = str(caught.value)
    manual = os.path.join(str(tmp_path), "downloads", "manual")
    assert len(TFDS_MANUAL_FILES) == 5
    for name in TFDS_MANUAL_FILES:
        assert os.path.join(manual, name) in message
    assert "quota exceeded" in message and "celeba-local" in message and "list_attr_celeba.txt" in message


# -------------------------------------------------------------- local layout

PARTS = {"000001.jpg": 0, "000002.jpg": 0, "000003.jpg": 0, "000004.jpg": 1, "000005.jpg": 2, "000006.jpg": 2}


def _values(index):
    rng = np.random.default_rng(index)
    return rng.choice([-1, 1], size=40)


def _write_layout(root, image_shape=(218, 178, 3), header=CELEBA_ORDER, skip_image=None):
    for index, name in enumerate(PARTS, start=1):
        if name != skip_image:
            write_jpeg(root / "img_align_celeba" / name, pattern(index, image_shape))
    lines = [f"{len(PARTS)}", " ".join(header) + " "]
    for index, name in enumerate(PARTS, start=1):
        values = dict(zip(CELEBA_ORDER, _values(index)))
        lines.append(name + " " + " ".join(f"{values[a]:2d}" for a in header))  # the official double spaces
    write(root / "list_attr_celeba.txt", ("\n".join(lines) + "\n").encode())
    write(root / "list_eval_partition.txt", "".join(f"{n} {p}\n" for n, p in PARTS.items()).encode())
    write(root / "identity_CelebA.txt", "".join(f"{n} {100 + i}\n" for i, n in enumerate(PARTS)).encode())


def test_local_layout_official_partition_attributes_and_identity(tmp_path):
    _write_layout(tmp_path, image_shape=(109, 89, 3), header=list(reversed(CELEBA_ORDER)))  # downscaled mirror
    cfg = DataConfig(source="celeba-local", path=str(tmp_path), celeba_identity=True)
    sizes = {split: load_split(cfg, split, (100, 80)) for split in ("train", "validation", "test")}
    assert {k: v.num_examples for k, v in sizes.items()} == {"train": 3, "validation": 1, "test": 2}
    test = list(sizes["test"].dataset)
    assert [int(ex["identity"]) for ex in test] == [104, 105]
    for ex, index in zip(test, (5, 6)):
        assert ex["image"].shape == (109, 89, 3)  # decoded at full size: half would be below 100x80
        np.testing.assert_array_equal(ex["attributes"].numpy(), (_values(index) > 0).astype(np.float32))
    images, attrs = next(iter(make_dataset(cfg, "train", batch_size=3, image_size=(64, 48), with_attributes=True)))
    assert images.shape == (3, 64, 48, 3) and attrs.shape == (3, 40)
    assert float(tf.reduce_min(images)) >= 0.0 and float(tf.reduce_max(images)) <= 1.0


def test_local_layout_missing_files_are_errors_naming_them(tmp_path):
    cfg = DataConfig(source="celeba-local", path=str(tmp_path))
    with pytest.raises(FileNotFoundError, match="img_align_celeba"):
        load_split(cfg, "train", (32, 32))
    _write_layout(tmp_path, skip_image="000002.jpg")
    src = load_split(cfg, "train", (32, 32))
    assert src.num_examples == 2
    assert src.skipped == [(str(tmp_path / "img_align_celeba" / "000002.jpg"),
                            "listed in list_eval_partition.txt but missing")]  # fmt: skip
    for name in ("list_eval_partition.txt", "list_attr_celeba.txt"):
        os.rename(tmp_path / name, tmp_path / "moved")
        with pytest.raises(FileNotFoundError, match=str(tmp_path / name)):
            load_split(cfg, "train", (32, 32))
        os.rename(tmp_path / "moved", tmp_path / name)
    with pytest.raises(FileNotFoundError, match="identity_CelebA.txt"):
        os.remove(tmp_path / "identity_CelebA.txt")
        load_split(DataConfig(source="celeba-local", path=str(tmp_path), celeba_identity=True), "train", (32, 32))


@pytest.mark.parametrize(
    "file, line, text, error",
    [
        ("list_attr_celeba.txt", 4, "000002.jpg 1 -1", "line 4: expected an image name and 40 attribute values"),
        ("list_attr_celeba.txt", 5, "000003.jpg " + " ".join(["2"] * 40), "line 5: expected .* \\(-1 or 1\\)"),
        ("list_attr_celeba.txt", 2, "Smiling Young", "line 2: expected the 40 attribute names"),
        ("list_attr_celeba.txt", 1, "many", "line 1: expected the number of images"),
        ("list_eval_partition.txt", 3, "000003.jpg 7", "line 3: expected an image name and a partition number"),
    ],
)
def test_local_layout_malformed_lines_name_path_and_line(tmp_path, file, line, text, error):
    _write_layout(tmp_path)
    path = tmp_path / file
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=f"{path}, {error}"):
        load_split(DataConfig(source="celeba-local", path=str(tmp_path)), "train", (32, 32))


def test_local_layout_kaggle_csv_and_nested_folder(tmp_path):
    for index, name in enumerate(PARTS, start=1):
        write_jpeg(tmp_path / "img_align_celeba" / "img_align_celeba" / name, pattern(index, (40, 30, 3)))
    rows = ["image_id," + ",".join(CELEBA_ORDER)]
    rows += [name + "," + ",".join(str(v) for v in _values(i)) for i, name in enumerate(PARTS, start=1)]
    write(tmp_path / "list_attr_celeba.csv", ("\n".join(rows) + "\n").encode())
    partition = "image_id,partition\n" + "".join(f"{n},{p}\n" for n, p in PARTS.items())
    write(tmp_path / "list_eval_partition.csv", partition.encode())
    src = load_split(DataConfig(source="celeba-local", path=str(tmp_path)), "test", (32, 32))
    assert src.num_examples == 2
    ex = next(iter(src.dataset))
    np.testing.assert_array_equal(ex["attributes"].numpy(), (_values(5) > 0).astype(np.float32))


def test_celeba_attribute_constant_is_the_official_order():
    assert CELEBA_ATTRIBUTES == tuple(CELEBA_ORDER)


def test_no_network_fails_within_seconds_with_the_instructions(tmp_path, monkeypatch):
    import time

    from tfface.data import celeba

    probed = []

    def unreachable(host, port, timeout=celeba.PROBE_TIMEOUT):
        probed.append((host, port, timeout))
        return "OSError: [Errno 101] Network is unreachable"

    def download(self, *args, **kwargs):  # tfds would retry for minutes here
        raise AssertionError("tfds' download started although the host is unreachable")

    monkeypatch.setattr(celeba, "unreachable_reason", unreachable)
    monkeypatch.setattr(tfds.core.DatasetBuilder, "download_and_prepare", download)
    start = time.monotonic()
    with pytest.raises(CelebAUnavailableError) as caught:
        load_split(DataConfig(source="celeba", path=str(tmp_path)), "train", (64, 64))
    assert time.monotonic() - start < 10
    assert probed == [("drive.google.com", 443, celeba.PROBE_TIMEOUT)] and celeba.PROBE_TIMEOUT <= 5
    message = str(caught.value)
    assert "cannot reach the download host drive.google.com:443 (OSError: [Errno 101] Network is unreachable)" in message
    assert os.path.join(str(tmp_path), "downloads", "manual", "img_align_celeba.zip") in message
    assert "celeba-local" in message


def test_the_probe_gives_up_on_a_host_that_does_not_answer(monkeypatch):
    import socket
    import time

    from tfface.data.celeba import unreachable_reason

    def hangs(address, timeout=None):  # a name lookup or connect that never returns
        time.sleep(3)
        raise OSError("too late")

    monkeypatch.setattr(socket, "create_connection", hangs)
    start = time.monotonic()
    assert unreachable_reason("drive.google.com", 443, timeout=0.3) == "no answer within 0.3 s"
    assert time.monotonic() - start < 1.5
