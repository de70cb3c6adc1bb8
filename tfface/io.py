"""Crash-safe file writes: write to a temporary name, then atomically rename.

An interruption during a save leaves the previous good copy in place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from typing import Iterator


def _fsync_dir(path: str) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, is_dir: bool = False) -> Iterator[str]:
    """Yields a temporary sibling path; on success renames it onto `path`.

    The temporary name is in the same directory (same filesystem) so the
    final `os.replace` is atomic. Directories are swapped by renaming the old
    copy aside first and deleting it only after the new one is in place.
    On any error the temporary is removed and the previous copy is untouched.

    Example:

    >>> import os, tempfile
    >>> target = os.path.join(tempfile.mkdtemp(), "weights.txt")
    >>> with atomic_path(target) as tmp:
    ...     _ = open(tmp, "w").write("ok")
    >>> open(target).read()
    'ok'
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    base = os.path.basename(path)
    root, ext = os.path.splitext(base)
    # Keep the extension last: Keras checks `.keras` / `.weights.h5` suffixes.
    tmp = os.path.join(parent, f".{root}.tmp-{os.getpid()}-{next(tempfile._get_candidate_names())}{ext}")
    try:
        yield tmp
        if is_dir:
            old = None
            if os.path.exists(path):
                old = f"{tmp}.old"
                os.replace(path, old)
            os.replace(tmp, path)
            if old:
                shutil.rmtree(old, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                with open(tmp, "rb") as handle:
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        _fsync_dir(parent)
    except BaseException:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            os.remove(tmp)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
