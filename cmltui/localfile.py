"""cmltui's own files (config, price cache, audit log), opened so that a wrong file cannot hang,
flood or blind it.

`open()` on a FIFO blocks until someone opens the other end, and a symlink to `/dev/zero` reads
forever. Files are therefore opened with `O_NONBLOCK` (a FIFO opens at once) and checked to be
regular files right after opening (`fstat` on the open descriptor, so a swap between a check and
the open changes nothing), and reads stop at a stated size.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TextIO

_READ_FLAGS = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY
_APPEND_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK | os.O_NOCTTY
_CHUNK = 1 << 20

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISSOCK, "a socket"),
)


class LocalFileError(OSError):
    """A file that is not a regular file, or larger than cmltui reads; `strerror` says which."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(errno.EINVAL, reason, str(path))


def read_bounded(path: Path | str, max_bytes: int, *, tail: bool = False) -> bytes:
    """A regular file's bytes, at most `max_bytes` of them: with `tail`, its last `max_bytes`;
    without, all of it or `LocalFileError` when it is larger.

    Raises `FileNotFoundError` when it is missing, `LocalFileError` when it is not a regular
    file, and `OSError` for any other failure to read it.
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        size = _regular_size(fd, path)
        if size > max_bytes:
            if not tail:
                raise LocalFileError(path, f"larger than {max_bytes} bytes")
            os.lseek(fd, size - max_bytes, os.SEEK_SET)
        data = _read_at_most(fd, max_bytes + (0 if tail else 1))
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew while being read
        raise LocalFileError(path, f"larger than {max_bytes} bytes")
    return data


def open_for_append(path: Path | str) -> TextIO:
    """The file opened for appending text, created when missing; never a FIFO or a device.

    Raises `LocalFileError` when something other than a regular file is in its place.
    """
    try:
        fd = os.open(path, _APPEND_FLAGS, 0o666)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO nobody reads: O_NONBLOCK refuses at once
            raise LocalFileError(path, "not a regular file (a FIFO)") from None
        raise
    try:
        _regular_size(fd, path)
        os.set_blocking(fd, True)
        return os.fdopen(fd, "a", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def _regular_size(fd: int, path: Path | str) -> int:
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        kind = next((name for test, name in _KINDS if test(info.st_mode)), "something else")
        raise LocalFileError(path, f"not a regular file ({kind})")
    return info.st_size


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    remaining = limit
    while remaining > 0:
        chunk = os.read(fd, min(remaining, _CHUNK))
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
