"""CelebA: through tensorflow-datasets ("celeba") or an extracted copy ("celeba-local").

Both give the official partition (train 162,770 / validation 19,867 / test
19,962) and the 40 binary attributes as a float32 0/1 vector in CelebA's
order (`CELEBA_ATTRIBUTES`), optionally the identity and the 5 landmarks.

"celeba-local" reads the files as they come from the official site, Kaggle
or Drive mirrors, without tfds:

```
DIR/img_align_celeba/000001.jpg ...   (or img_align_celeba/img_align_celeba/, any image size)
DIR/list_attr_celeba.txt              count line, 40 names, then "000001.jpg -1  1 ..."
DIR/list_eval_partition.txt           "000001.jpg 0" (0 train, 1 validation, 2 test)
DIR/identity_CelebA.txt               optional: "000001.jpg 2880"
DIR/list_landmarks_align_celeba.txt   optional: count line, 10 names, "000001.jpg 69 109 ..."
```

Kaggle's `.csv` versions (`list_attr_celeba.csv`, `list_eval_partition.csv`,
`list_landmarks_align_celeba.csv`) are read when the `.txt` files are absent.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from tfface.config import DataConfig
from tfface.data.celeba_attributes import CELEBA_ATTRIBUTES
from tfface.data.folder import require_folder
from tfface.data.sources import SOURCES, SourceSplit, check_split, image_files_split

__all__ = [
    "CELEBA_ATTRIBUTES",
    "CELEBA_LANDMARKS",
    "PARTITIONS",
    "TFDS_MANUAL_FILES",
    "CelebAUnavailableError",
    "celeba_layout",
    "read_attributes",
    "read_identities",
    "read_landmarks",
    "read_partition",
]

#: The 10 landmark coordinates of `list_landmarks_align_celeba.txt`, in order.
CELEBA_LANDMARKS: tuple[str, ...] = (
    "lefteye_x", "lefteye_y", "righteye_x", "righteye_y", "nose_x", "nose_y",
    "leftmouth_x", "leftmouth_y", "rightmouth_x", "rightmouth_y",
)  # fmt: skip

#: Split name → partition number in `list_eval_partition.txt`.
PARTITIONS = {"train": 0, "validation": 1, "test": 2}

#: The files tfds' `celeb_a` accepts in its manual directory, under these exact names.
TFDS_MANUAL_FILES = (
    "img_align_celeba.zip",
    "list_eval_partition.txt",
    "list_attr_celeba.txt",
    "list_landmarks_align_celeba.txt",
    "identity_CelebA.txt",
)


class CelebAUnavailableError(FileNotFoundError):
    """tfds could not download or prepare CelebA; the message says what to do."""


#: Where tfds' `celeb_a` downloads from (Google Drive), probed before a download.
DOWNLOAD_HOST = ("drive.google.com", 443)
#: Seconds the probe waits: a few, instead of tfds' ~3.5 minutes of retries.
PROBE_TIMEOUT = 5.0


def unreachable_reason(host: str, port: int, timeout: float = PROBE_TIMEOUT) -> str | None:
    """None if a TCP connection to `host:port` opens within `timeout`
    seconds (name lookup included), else why not."""
    outcome: dict[str, str | None] = {}

    def connect():
        try:
            socket.create_connection((host, port), timeout=timeout).close()
            outcome["reason"] = None
        except OSError as error:
            outcome["reason"] = f"{type(error).__name__}: {error}"

    probe = threading.Thread(target=connect, daemon=True)  # a stuck name lookup must not hold the caller
    probe.start()
    probe.join(timeout)
    return outcome.get("reason", f"no answer within {timeout:g} s")


# ---------------------------------------------------------------- file formats


def _rows(path: str):
    """(line number, fields) of the non-blank lines of a CelebA .txt or .csv file."""
    csv = path.lower().endswith(".csv")
    with open(path, encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.strip().split(",") if csv else line.split()
            if fields and fields != [""]:
                yield number, [f.strip() for f in fields]


def _malformed(path: str, number: int, expected: str, fields) -> ValueError:
    shown = " ".join(fields)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return ValueError(f"{path}, line {number}: expected {expected}, got {shown!r}")


def _read_table(path: str, names: tuple[str, ...], what: str, allowed=None):
    """Header names (checked against `names`, any order) and name → int row in `names` order."""
    rows = _rows(path)
    declared = None
    if not path.lower().endswith(".csv"):
        number, fields = next(rows, (1, []))
        if len(fields) != 1 or not fields[0].isdigit():
            raise _malformed(path, number, "the number of images on the first line", fields)
        declared = int(fields[0])
    number, header = next(rows, (2, []))
    if path.lower().endswith(".csv") and header:
        header = header[1:]  # "image_id,..." column
    if sorted(header) != sorted(names):
        missing = sorted(set(names) - set(header))
        raise _malformed(path, number, f"the {len(names)} {what} names" + (f" (missing {missing[:3]})" if missing else ""), header)
    order = [header.index(name) for name in names]
    table: dict[str, np.ndarray] = {}
    for number, fields in rows:
        try:
            values = [int(v) for v in fields[1:]]
        except ValueError:
            values = None
        if values is None or len(values) != len(names) or (allowed and not set(values) <= allowed):
            expected = f"an image name and {len(names)} {what} values" + (" (-1 or 1)" if allowed else "")
            raise _malformed(path, number, expected, fields)
        table[fields[0]] = np.asarray(values, np.int32)[order]
    if declared is not None and declared != len(table):
        raise ValueError(f"{path}, line 1: declares {declared} images but lists {len(table)}")
    return table


def read_attributes(path: str) -> dict[str, np.ndarray]:
    """`list_attr_celeba.txt` (or `.csv`) → image name → 40 values (-1/1) in CelebA order."""
    return _read_table(path, CELEBA_ATTRIBUTES, "attribute", allowed={-1, 1})


def read_landmarks(path: str) -> dict[str, np.ndarray]:
    """`list_landmarks_align_celeba.txt` (or `.csv`) → image name → 10 coordinates."""
    return _read_table(path, CELEBA_LANDMARKS, "landmark")


def _read_pairs(path: str, what: str, allowed=None) -> dict[str, int]:
    table = {}
    csv = path.lower().endswith(".csv")
    for number, fields in _rows(path):
        if csv and number == 1 and not fields[-1].lstrip("-").isdigit():
            continue  # header line
        value = fields[1] if len(fields) == 2 else ""
        if not value.lstrip("-").isdigit() or (allowed and int(value) not in allowed):
            raise _malformed(path, number, f"an image name and {what}", fields)
        table[fields[0]] = int(value)
    return table


def read_partition(path: str) -> dict[str, int]:
    """`list_eval_partition.txt` (or `.csv`) → image name → 0 (train), 1 (validation), 2 (test)."""
    return _read_pairs(path, "a partition number 0, 1 or 2", allowed={0, 1, 2})


def read_identities(path: str) -> dict[str, int]:
    """`identity_CelebA.txt` → image name → identity number."""
    return _read_pairs(path, "an identity number")


@dataclass(frozen=True)
class CelebALayout:
    """Paths of an extracted CelebA copy (optional files are None when absent)."""

    root: str
    images: str
    attributes: str
    partition: str
    identity: str | None
    landmarks: str | None


def celeba_layout(root: str) -> CelebALayout:
    """Finds the CelebA files under `root`; a missing required file is an
    error naming it."""

    def find(stem: str, required: bool) -> str | None:
        for ext in (".txt", ".csv"):
            candidate = os.path.join(root, stem + ext)
            if os.path.isfile(candidate):
                return candidate
        if required:
            raise FileNotFoundError(
                f"CelebA layout: missing {os.path.join(root, stem + '.txt')} "
                f"(expected {stem}.txt or {stem}.csv beside img_align_celeba/)"
            )
        return None

    images = os.path.join(root, "img_align_celeba")
    if not os.path.isdir(images):
        raise FileNotFoundError(f"CelebA layout: missing the image folder {images}")
    nested = os.path.join(images, "img_align_celeba")  # Kaggle's zip extracts one level deeper
    if os.path.isdir(nested):
        images = nested
    return CelebALayout(
        root=root,
        images=images,
        attributes=find("list_attr_celeba", True),
        partition=find("list_eval_partition", True),
        identity=find("identity_CelebA", False),
        landmarks=find("list_landmarks_align_celeba", False),
    )


# ------------------------------------------------------------------- sources


@SOURCES.register("celeba-local")
def celeba_local_source(config: DataConfig, split: str, image_size) -> SourceSplit:
    """An extracted CelebA copy at `data.path`, read without tfds. Images
    listed in the partition but absent (or present under another image
    extension, as in converted mirrors) are handled per file: absent ones are
    skipped and listed."""
    check_split(split)
    layout = celeba_layout(require_folder(config, "celeba-local"))
    partition = read_partition(layout.partition)
    attributes = read_attributes(layout.attributes)
    identities = read_identities(layout.identity) if config.celeba_identity and layout.identity else None
    landmarks = read_landmarks(layout.landmarks) if config.celeba_landmarks and layout.landmarks else None
    if config.celeba_identity and identities is None:
        raise FileNotFoundError(f"data.celeba_identity: missing {os.path.join(layout.root, 'identity_CelebA.txt')}")
    if config.celeba_landmarks and landmarks is None:
        raise FileNotFoundError(
            f"data.celeba_landmarks: missing {os.path.join(layout.root, 'list_landmarks_align_celeba.txt')}"
        )
    present = {}
    for name in sorted(os.listdir(layout.images)):
        present.setdefault(os.path.splitext(name)[0], name)
    wanted = sorted(name for name, part in partition.items() if part == PARTITIONS[split])
    listed = f"{os.path.basename(layout.partition)} lists {len(wanted)} image(s) in partition {PARTITIONS[split]}"
    paths, rows, skipped = [], [], []
    for name in wanted:
        file = name if name in present.values() else present.get(os.path.splitext(name)[0])
        path = os.path.join(layout.images, file or name)
        if file is None:
            skipped.append((path, f"listed in {os.path.basename(layout.partition)} but missing"))
        elif name not in attributes:
            skipped.append((path, f"no row in {os.path.basename(layout.attributes)}"))
        elif (identities is not None and name not in identities) or (landmarks is not None and name not in landmarks):
            skipped.append((path, "no identity or landmark row"))
        else:
            paths.append(path)
            rows.append(name)
    labels = {"attributes": np.stack([attributes[n] > 0 for n in rows]).astype(np.float32)} if rows else {}
    if identities is not None and rows:
        labels["identity"] = np.asarray([identities[n] for n in rows], np.int64)
    if landmarks is not None and rows:
        labels["landmarks"] = np.stack([landmarks[n] for n in rows]).astype(np.float32)
    return image_files_split(
        paths, config, image_size, data_root=layout.root, labels=labels,
        attribute_names=CELEBA_ATTRIBUTES, skipped=skipped, key=f"{layout.partition} (data.path)",
        what=f"the CelebA {split} split in {layout.images} ({listed})",
    )  # fmt: skip


def tfds_manual_dir(builder) -> str:
    root = getattr(builder, "_data_dir_root", None) or os.path.expanduser("~/tensorflow_datasets")
    return os.path.join(root, "downloads", "manual")


def unavailable_message(builder, error: BaseException) -> str:
    manual = tfds_manual_dir(builder)
    cause = str(error).strip().splitlines()[0][:300] if str(error).strip() else ""
    files = "\n".join(f"    {os.path.join(manual, name)}" for name in TFDS_MANUAL_FILES)
    return (
        f"tensorflow-datasets could not download or prepare CelebA ({type(error).__name__}: {cause}). "
        "The Google Drive download often fails (quota, checksum mismatch, no network). Either:\n"
        f"  (a) download these 5 files from the CelebA site (Align&Cropped images zip, Anno and Eval folders) "
        f"and place them under exactly these names in tfds' manual directory, then run again:\n{files}\n"
        "  (b) or read an extracted copy directly, without tfds: data.source='celeba-local' and "
        "data.path=DIR, where DIR holds img_align_celeba/, list_attr_celeba.txt and list_eval_partition.txt "
        "(official, Kaggle or Drive mirror layout)."
    )


@SOURCES.register("celeba")
def celeba_tfds_source(config: DataConfig, split: str, image_size) -> SourceSplit:
    """CelebA through tensorflow-datasets (`celeb_a`); `data.path`, if set,
    is tfds' data directory. Unless it is prepared or its manual files are
    in place, the download host is probed first (`PROBE_TIMEOUT` seconds):
    with no network the error comes at once, not after tfds' retries."""
    import tensorflow_datasets as tfds

    check_split(split)
    if config.face_crop:
        raise ValueError(
            "data.face_crop needs image files to cache crops per file: use data.source='celeba-local' "
            "(the extracted CelebA layout) for a face-cropped CelebA"
        )
    builder = tfds.builder("celeb_a", data_dir=os.path.expanduser(config.path) if config.path else None)
    manual = tfds_manual_dir(builder)
    if not builder.is_prepared() and not all(os.path.exists(os.path.join(manual, n)) for n in TFDS_MANUAL_FILES):
        reason = unreachable_reason(*DOWNLOAD_HOST)
        if reason is not None:  # fail now rather than after tfds' minutes of retries
            error = ConnectionError(f"cannot reach the download host {DOWNLOAD_HOST[0]}:{DOWNLOAD_HOST[1]} ({reason})")
            raise CelebAUnavailableError(unavailable_message(builder, error)) from None
    try:
        builder.download_and_prepare()
    except Exception as error:  # Drive quota, NonMatchingChecksumError, no network, missing manual files
        raise CelebAUnavailableError(unavailable_message(builder, error)) from error
    # CelebA's records are sorted by file name: read the training shards in a
    # seeded random order so the shuffle buffer mixes more than neighbours.
    training = split == "train"
    read_config = tfds.ReadConfig(shuffle_seed=config.seed) if training else None
    dataset = builder.as_dataset(split=split, shuffle_files=training, read_config=read_config)

    def convert(example):
        out = {
            "image": example["image"],
            "attributes": tf.stack([tf.cast(example["attributes"][n], tf.float32) for n in CELEBA_ATTRIBUTES]),
        }
        if config.celeba_identity:
            out["identity"] = tf.cast(example["identity"]["Identity_No"], tf.int64)
        if config.celeba_landmarks:
            out["landmarks"] = tf.stack([tf.cast(example["landmarks"][n], tf.float32) for n in CELEBA_LANDMARKS])
        return out

    try:
        count = int(builder.info.splits[split].num_examples) or None
    except (KeyError, ValueError):
        count = None
    dataset = dataset.map(convert, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return SourceSplit(dataset, count, CELEBA_ATTRIBUTES)
