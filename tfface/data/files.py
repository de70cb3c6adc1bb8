"""Image files on disk: listing folders and a cheap validity check.

The check reads each file's header and tail only (a few KiB), so listing
200k CelebA files stays in seconds, yet it catches what kills a decoder:
empty files, non-images (text, HTML error pages saved as `.jpg`), unknown
formats, broken JPEG marker structure, zero-sized images and truncated
files (a JPEG without its end-of-image marker, a PNG without `IEND`, a GIF
without its trailer, a BMP shorter than its pixel data). A JPEG whose tail
has no end-of-image marker is decoded before it is called truncated: camera
"motion photos" and multi-picture files carry a video or more pictures
after the marker and are valid photos. Files that pass
the check but still fail to decode are dropped by the pipeline
(`Dataset.ignore_errors`) instead of ending the run.
"""

from __future__ import annotations

import os
import struct
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

from PIL import Image, ImageFile

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")

_HEAD = 1 << 16  # enough for JPEG headers with an EXIF thumbnail
_TAIL = 1024


def is_hidden(name: str) -> bool:
    """True for dot-files and `__`-prefixed names, which listings skip."""
    return name.startswith(".") or name.startswith("__")


def list_files(root: str) -> list[str]:
    """Every non-hidden file under `root`, recursively, as sorted paths
    relative to `root` (hidden folders such as the crop cache are skipped)."""
    found = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not is_hidden(d))
        rel = os.path.relpath(folder, root)
        for name in names:
            if not is_hidden(name):
                found.append(name if rel == "." else os.path.join(rel, name))
    return sorted(found)


def image_format(head: bytes) -> str | None:
    """"jpeg", "png", "gif", "bmp" from a file's first bytes, or None."""
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:2] == b"BM":
        return "bmp"
    return None


def check_image(path: str) -> str | None:
    """None if `path` looks like a complete, decodable image, else the reason.

    Example:

    >>> import tempfile
    >>> empty = tempfile.NamedTemporaryFile(suffix=".jpg", delete=False).name
    >>> check_image(empty)
    'empty file'
    """
    try:
        size = os.path.getsize(path)
        if size == 0:
            return "empty file"
        with open(path, "rb") as handle:
            head = handle.read(_HEAD)
            if size > _HEAD:
                handle.seek(max(0, size - _TAIL))
                tail = handle.read()
            else:
                tail = head[-_TAIL:]
    except OSError as error:
        return f"unreadable: {error.strerror or error}"
    kind = image_format(head)
    if kind is None:
        return "not an image (no JPEG/PNG/GIF/BMP signature)"
    reason = _CHECKS[kind](head, tail, size)
    if reason == _JPEG_NO_END and _decodes(path):
        return None  # data after the end-of-image marker (motion photo, MPF)
    return reason


def _decodes(path: str) -> bool:
    """Whether the whole image decodes (Pillow refuses truncated data)."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone let Pillow pad truncated images
        return False
    try:
        with Image.open(path) as image:
            image.load()
    except Exception:  # noqa: BLE001 - any decoder failure means "not decodable"
        return False
    return True


def _check_jpeg(head: bytes, tail: bytes, size: int) -> str | None:
    pos, n = 2, len(head)
    while True:
        while pos < n and head[pos] == 0xFF and pos + 1 < n and head[pos + 1] == 0xFF:
            pos += 1  # fill bytes
        if pos + 4 > n:
            if n < size:
                break  # header longer than we read: leave the rest to the decoder
            return "truncated JPEG (header)"
        if head[pos] != 0xFF:
            return f"corrupt JPEG (no marker at byte {pos})"
        marker = head[pos + 1]
        if marker == 0xDA:
            return "corrupt JPEG (scan before frame header)"
        (length,) = struct.unpack(">H", head[pos + 2 : pos + 4])
        if length < 2:
            return f"corrupt JPEG (segment length {length} at byte {pos})"
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            if pos + 9 > n:
                break
            height, width = struct.unpack(">HH", head[pos + 5 : pos + 9])
            if width == 0:
                return "corrupt JPEG (zero width)"
            break  # frame header found: the scans follow
        pos += 2 + length
    if b"\xff\xd9" not in tail:
        return _JPEG_NO_END
    return None


_JPEG_NO_END = "truncated JPEG (no end-of-image marker)"


def _check_png(head: bytes, tail: bytes, size: int) -> str | None:
    if len(head) < 24 or head[12:16] != b"IHDR":
        return "corrupt PNG (no IHDR header)"
    width, height = struct.unpack(">II", head[16:24])
    if width == 0 or height == 0:
        return "corrupt PNG (zero size)"
    if b"IEND\xaeB`\x82" not in tail[-64:]:  # the whole chunk: type and CRC
        return "truncated PNG (no complete IEND chunk)"
    return None


def _check_gif(head: bytes, tail: bytes, size: int) -> str | None:
    if len(head) < 10:
        return "truncated GIF (header)"
    width, height = struct.unpack("<HH", head[6:10])
    if width == 0 or height == 0:
        return "corrupt GIF (zero size)"
    if not tail.rstrip(b"\x00").endswith(b";"):
        return "truncated GIF (no trailer)"
    return None


def _check_bmp(head: bytes, tail: bytes, size: int) -> str | None:
    if len(head) < 26:
        return "truncated BMP (header)"
    declared, _, offset = struct.unpack("<IIII", head[2:18])[:3]
    width, height = struct.unpack("<ii", head[18:26])
    if width == 0 or height == 0:
        return "corrupt BMP (zero size)"
    if offset >= size or (declared and declared > size):
        return "truncated BMP (shorter than its header says)"
    return None


_CHECKS = {"jpeg": _check_jpeg, "png": _check_png, "gif": _check_gif, "bmp": _check_bmp}


def check_images(paths: Sequence[str], workers: int = 0) -> list[str | None]:
    """`check_image` over many files; `workers` > 0 uses threads (helps on
    network file systems, costs more than it saves on local disks)."""
    if workers <= 0 or len(paths) < 256:
        return [check_image(p) for p in paths]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(check_image, paths, chunksize=64))


def partition_valid(paths: Sequence[str]) -> tuple[list[int], list[tuple[str, str]]]:
    """Indices of the paths that pass `check_image`, and (path, reason) of the rest."""
    keep, skipped = [], []
    for index, (path, reason) in enumerate(zip(paths, check_images(paths))):
        if reason is None:
            keep.append(index)
        else:
            skipped.append((path, reason))
    return keep, skipped
