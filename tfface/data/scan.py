"""One pass of OpenCV work per file, cached on disk (face detection, decode checks).

`scan_files` runs a function on every file that has no valid cache entry,
in threads (OpenCV releases the GIL; `cv2.setNumThreads(1)` meanwhile so the
threads do not oversubscribe the cores), and stores each result in a JSON
`ResultCache` keyed by the file's absolute path, size and modification time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import cv2
import numpy as np

from tfface.io import atomic_write_text

CACHE_FOLDER = ".tfface_cache"


def default_cache_dir(data_root: str) -> str:
    """`DATA/.tfface_cache` when writable, else `~/.cache/tfface/<hash of DATA>`."""
    data_root = os.path.abspath(data_root)
    beside = os.path.join(data_root, CACHE_FOLDER)
    with contextlib.suppress(OSError):
        os.makedirs(beside, exist_ok=True)
        if os.access(beside, os.W_OK):
            return beside
    digest = hashlib.sha1(data_root.encode()).hexdigest()[:16]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tfface", digest)


class ResultCache:
    """Per-file results stored as JSON in `directory/name.json`.

    Entries: absolute path → {"size", "mtime_ns", **result}. An entry counts
    only while the file's size and mtime are unchanged.

    Args:
        directory: str. The cache folder.
        name: str. File name without ".json"; include a hash of every
            parameter that changes the results.
        header: dict. Stored beside the entries, for people reading the file.
    """

    def __init__(self, directory: str, name: str, header: dict | None = None):
        self.directory = directory
        self.path = os.path.join(directory, f"{name}.json")
        self.header = dict(header or {})
        self.entries: dict[str, dict] = self._read()
        self._dirty = False

    def _read(self) -> dict[str, dict]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
            return dict(data.get("entries", {}))
        except (OSError, ValueError, AttributeError):
            return {}  # missing or unreadable cache: compute again

    def get(self, path: str, stat: os.stat_result) -> dict | None:
        """The cached result for `path` if its size and mtime still match, else None."""
        entry = self.entries.get(path)
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            return entry
        return None

    def put(self, path: str, stat: os.stat_result, result: dict) -> None:
        """Records `result` for `path` with its size and mtime."""
        self.entries[path] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, **result}
        self._dirty = True

    def save(self) -> None:
        """Writes the cache atomically, merged with entries written meanwhile."""
        if not self._dirty:
            return
        merged = {**self._read(), **self.entries}  # keep entries other splits wrote meanwhile
        os.makedirs(self.directory, exist_ok=True)
        atomic_write_text(self.path, json.dumps({**self.header, "entries": merged}, separators=(",", ":")))
        self.entries, self._dirty = merged, False


def read_gray(path: str) -> np.ndarray | str:
    """The file decoded by OpenCV as greyscale (EXIF orientation ignored, as
    TensorFlow's decoders do), or the reason it cannot be."""
    try:
        data = np.fromfile(path, np.uint8)
    except OSError as error:
        return f"unreadable: {error.strerror or error}"
    gray = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE | cv2.IMREAD_IGNORE_ORIENTATION) if data.size else None
    return "cannot decode image" if gray is None else gray


def decode_check(path: str) -> dict:
    """{"hw": [h, w]} if OpenCV decodes the file, else {"error": reason}."""
    gray = read_gray(path)
    return {"error": gray} if isinstance(gray, str) else {"hw": list(gray.shape[:2])}


def scan_files(
    paths: Sequence[str],
    cache: ResultCache,
    compute: Callable[[str], dict],
    workers: int | None = None,
    chunk: int = 2048,
) -> tuple[list[dict], int]:
    """`compute(absolute path)` for each file without a valid cache entry.

    Returns the per-file results (cached or new, in `paths` order) and how
    many were computed. The cache is saved after every `chunk` new results,
    so an interrupted scan keeps its progress.
    """
    absolute = [os.path.abspath(p) for p in paths]
    results: list[dict | None] = [None] * len(paths)
    todo = []
    for index, path in enumerate(absolute):
        try:
            stat = os.stat(path)
        except OSError as error:
            results[index] = {"error": f"unreadable: {error.strerror or error}"}
            continue
        entry = cache.get(path, stat)
        if entry is None:
            todo.append((index, stat))
        else:
            results[index] = entry
    if todo:
        previous_threads = cv2.getNumThreads()
        cv2.setNumThreads(1)  # parallelism comes from the threads (OpenCV releases the GIL)
        try:
            with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:
                for start in range(0, len(todo), chunk):
                    part = todo[start : start + chunk]
                    for (index, stat), result in zip(part, pool.map(lambda item: compute(absolute[item[0]]), part)):
                        results[index] = result
                        cache.put(absolute[index], stat, result)
                    cache.save()
        finally:
            cv2.setNumThreads(previous_threads)
    return results, len(todo)
