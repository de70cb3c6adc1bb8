"""Crash-safe file writes: write to a temporary name, then atomically rename.

An interruption during a save leaves the previous good copy in place.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import tempfile
from typing import Iterator

_STORAGE_ERRNOS = {
    errno.ENOSPC: "disk full (no space left on device)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
    errno.EROFS: "read-only file system",
}


class WriteError(OSError):
    """A save failed for a reason the user must fix (disk full, permissions).

    The message names the destination and says the previous copy is kept;
    `errno` is the original one, so `except OSError` handlers still apply.
    """


def _storage_errno(error: BaseException) -> int | None:
    """The errno of a disk-full/permission error, also when a library (h5py,
    TensorFlow) reports it only in its message."""
    if isinstance(error, WriteError):
        return None
    code = getattr(error, "errno", None)
    if code in _STORAGE_ERRNOS:
        return code
    text = str(error).lower()
    for code, needle in (
        (errno.ENOSPC, "no space left"),
        (errno.EDQUOT, "quota exceeded"),
        (errno.EACCES, "permission denied"),
        (errno.EROFS, "read-only file system"),
    ):
        if needle in text:
            return code
    return None


def _write_error(code: int, path: str, error: BaseException, kept: bool) -> WriteError:
    previous = "the previous copy is kept unchanged" if kept else "nothing was written there"
    advice = (
        "free some space (or point run.dir at a larger disk) and run the same command again"
        if code in (errno.ENOSPC, errno.EDQUOT)
        else "make the folder writable (or choose another run.dir) and run the same command again"
    )
    return WriteError(code, f"could not write {path}: {_STORAGE_ERRNOS[code]}; {previous}; {advice} ({error})")


def describe_os_error(error: OSError) -> str:
    """One line for a failed file operation, naming the path(s) involved:
    a `WriteError`'s own message, else "PATH: reason"."""
    if isinstance(error, WriteError):
        return str(error)
    paths = [os.fspath(p) for p in (error.filename, error.filename2) if p is not None]
    reason = error.strerror or str(error) or type(error).__name__
    if not paths:
        return f"file operation failed: {reason}"
    return f"{' -> '.join(paths)}: {reason}"


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
    Disk-full, quota and permission errors (raised by the writer inside the
    block or by the rename), and any other `OSError` about the temporary
    file (an I/O error), become a `WriteError` naming `path`.

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
    try:
        os.makedirs(parent, exist_ok=True)
    except OSError as error:
        code = _storage_errno(error)
        if code is None:
            raise
        raise _write_error(code, path, error, os.path.exists(path)) from error
    base = os.path.basename(path)
    root, dot, ext = base.partition(".")
    # Keep the whole suffix last: Keras checks `.keras` / `.weights.h5` suffixes.
    tmp = os.path.join(parent, f".{root}.tmp-{os.getpid()}-{next(tempfile._get_candidate_names())}{dot}{ext}")
    old = f"{tmp}.old"
    if is_dir:
        recover_directory(path)
    try:
        yield tmp
        if is_dir:
            if os.path.exists(path):
                os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                with open(tmp, "rb") as handle:
                    os.fsync(handle.fileno())
            os.replace(tmp, path)
        _fsync_dir(parent)
    except BaseException as error:
        if os.path.exists(old) and not os.path.exists(path):
            os.replace(old, path)
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        elif os.path.exists(tmp):
            with contextlib.suppress(OSError):
                os.remove(tmp)
        code = _storage_errno(error)
        if code is None:
            if _about(error, tmp):
                raise _plain_write_error(error, path, os.path.exists(path)) from error
            raise
        raise _write_error(code, path, error, os.path.exists(path)) from error


def _about(error: BaseException, tmp: str) -> bool:
    """Whether `error` is an OSError about the temporary file (or a file in
    the temporary folder): the write itself failed."""
    name = getattr(error, "filename", None) if isinstance(error, OSError) else None
    return isinstance(name, (str, bytes, os.PathLike)) and os.fsdecode(name).startswith(tmp)


def _plain_write_error(error: OSError, path: str, kept: bool) -> WriteError:
    previous = "the previous copy is kept unchanged" if kept else "nothing was written there"
    return WriteError(error.errno, f"could not write {path}: {error.strerror or error}; {previous}")


def recover_directory(path: str | os.PathLike) -> bool:
    """Puts back a directory that a killed `atomic_path(..., is_dir=True)`
    had moved aside (it is missing and its `.old` copy exists). Returns
    whether anything was restored."""
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path):
        return False
    parent, base = os.path.split(path)
    prefix = f".{base.partition('.')[0]}.tmp-"
    with contextlib.suppress(OSError):
        aside = sorted(
            (os.path.join(parent, name) for name in os.listdir(parent) if name.startswith(prefix) and name.endswith(".old")),
            key=os.path.getmtime,
        )
        if aside:
            os.replace(aside[-1], path)
            return True
    return False


def recover_directories(parent: str | os.PathLike) -> list[str]:
    """`recover_directory` for every folder under `parent` that a killed
    directory swap moved aside (`.NAME.tmp-<pid>-<id>.old`); returns the
    paths put back. Run it before choosing a free name under `parent`, so
    an interrupted swap's previous copy is neither taken for a free name
    nor overwritten."""
    parent = os.fspath(parent)
    restored = []
    with contextlib.suppress(OSError):
        for name in sorted(os.listdir(parent)):
            if not (name.startswith(".") and name.endswith(".old") and ".tmp-" in name):
                continue
            root, _, rest = name[1 : -len(".old")].partition(".tmp-")
            _, dot, ext = rest.partition(".")
            target = os.path.join(parent, root + dot + ext)
            if recover_directory(target):
                restored.append(os.path.abspath(target))
    return restored


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Writes `text` (UTF-8) to `path` under a temporary name, then renames it into place."""
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Writes `data` to `path` under a temporary name, then renames it into place."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            handle.write(data)
