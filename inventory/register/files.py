"""Files the register writes (exports, reports, backups): complete or not there at all; and
small files it reads whole (certificates, CRLs), bounded (``read_small_file``).

``atomic_output`` hands out a hidden temporary name beside the target, and renames it over the
target only when the writer finished; on any failure or interruption the temporary file (and
SQLite's ``-journal`` beside it) is removed. ``os_error`` turns an ``OSError`` into the one-line
error a person can act on, naming the path: "cannot be created" (exit 73: permission denied,
read-only file system, no such folder) or "I/O error" (exit 74: disk full, device error).
"""

from __future__ import annotations

import errno
import io
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from inventory.register.errors import (
    FileOutputError,
    StorageIOError,
    TokenfleetError,
    ValidationError,
)

# Errors met while writing data rather than while creating the file: EX_IOERR.
_MIDWAY = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EFBIG, errno.EPIPE}
_REASONS = {
    errno.ENOSPC: "no space left on the device (disk full)",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ENOENT: "no such file or folder",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.EISDIR: "is a folder",
    errno.EIO: "input/output error on the device",
    errno.EFBIG: "the file is too large for the file system",
}


def os_error(err: OSError, path: Path | str) -> TokenfleetError:
    """The tokenfleet error for an ``OSError`` met while writing ``path``."""
    reason = _REASONS.get(err.errno or 0) or (err.strerror or str(err)).lower()
    if err.errno in _MIDWAY:
        return StorageIOError(str(path), f"cannot write: {reason}")
    return FileOutputError(str(path), f"cannot be created: {reason}")


def cause_os_error(err: BaseException) -> OSError | None:
    """The ``OSError`` behind a library's own exception (XlsxWriter wraps them), if any."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, OSError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def remove_quietly(*paths: Path) -> None:
    for p in paths:
        with suppress(OSError):
            p.unlink(missing_ok=True)


def check_folder(path: Path, *, writable: bool = False) -> Path:
    """The folder ``path`` goes into, refused (exit 73) when it does not exist (or, with
    ``writable``, cannot take new files: read-only file system, permission denied)."""
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise FileOutputError(str(path), f"cannot be created: folder {parent} does not exist")
    if writable and not os.access(parent, os.W_OK | os.X_OK):
        read_only = bool(os.statvfs(parent).f_flag & os.ST_RDONLY)
        raise FileOutputError(str(path), "cannot be created: " + (
            "the file system is read-only" if read_only else f"folder {parent} is not "
            "writable (permission denied)"))
    return parent


class GuardedFile(io.RawIOBase):
    """An unbuffered file whose first failed write raises and whose later writes are dropped.

    XlsxWriter leaves its zip writer open when a write fails; the zip's finaliser then writes
    again and the second "disk full" is printed as an ignored exception. Through this file the
    first error reaches the caller and the finaliser's writes go nowhere.
    """

    def __init__(self, path: Path):
        super().__init__()
        self._file = open(path, "wb", buffering=0)  # noqa: SIM115 (closed in close())
        self.failed = False
        self._pos = 0  # after a failure: where the dropped writes would be

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        size = memoryview(data).nbytes
        if self.failed:
            self._pos += size
            return size
        try:
            self._pos = self._file.tell()
            written = self._file.write(data)
        except OSError:
            self.failed = True
            raise
        return size if written is None else written

    def tell(self) -> int:
        return self._pos if self.failed else self._file.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        if not self.failed:
            return self._file.seek(offset, whence)
        self._pos = offset if whence == os.SEEK_SET else self._pos + offset
        return self._pos

    def flush(self) -> None:
        if not self.failed and not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        self._file.close()
        if not self.failed:  # after a failure, stay "open" for the zip finaliser's last words
            super().close()


@contextmanager
def guarded_file(path: Path) -> Iterator[GuardedFile]:
    fh = GuardedFile(path)
    try:
        yield fh
    finally:
        fh.close()


@contextmanager
def atomic_output(path: Path, *, replace: bool = True) -> Iterator[Path]:
    """A temporary path beside ``path`` to write; renamed to ``path`` when the block ends
    without error, removed otherwise. ``replace=False`` refuses an existing target."""
    parent = check_folder(path, writable=True)
    if not replace and path.exists():
        raise FileOutputError(str(path), "exists: choose a new file name")
    try:
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=parent)
    except OSError as err:
        raise os_error(err, path) from err
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:  # the data is on disk before the name points at it
            os.fsync(fh.fileno())
        if not replace and path.exists():
            raise FileOutputError(str(path), "appeared while it was written: not replaced")
        os.replace(tmp, path)
    except OSError as err:
        raise os_error(err, path) from err
    except BaseException as err:
        cause = cause_os_error(err)
        if cause is not None and not isinstance(err, TokenfleetError):
            raise os_error(cause, path) from err
        raise
    finally:
        remove_quietly(tmp, Path(f"{tmp}-journal"), Path(f"{tmp}-wal"), Path(f"{tmp}-shm"))


def read_small_file(path: Path, limit: int, *, name: str, what: str, too_large: str) -> bytes:
    """The whole of a file of at most ``limit`` bytes; one line naming it (``name``) when it
    cannot be read ("cannot read ``what``") or is larger (``too_large``)."""
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as err:
        raise ValidationError(f"{name}: cannot read {what} ({err.strerror or err})") from err
    if len(data) > limit:
        raise ValidationError(f"{name}: {too_large}")
    return data
