"""Open an input by local path or fsspec URL, and say in one line why one cannot be read."""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import Any, BinaryIO

import fsspec  # type: ignore[import-untyped]

from curation.steps.readers.errors import InputError


def is_url(path: str) -> bool:
    return "://" in path


# How many bytes a watched stream reads between two calls of its stop check.
STOP_CHECK_BYTES = 4 * 1024 * 1024

StopCheck = Callable[[], None]


class _WatchedRaw(io.RawIOBase):
    """A raw stream that calls `check` every STOP_CHECK_BYTES read: a reader that finds no record in endless
    input (/dev/zero, a stream with no line break) still ends when `check` raises."""

    def __init__(self, raw: Any, check: StopCheck) -> None:
        self._raw = raw
        self._check = check
        self._unchecked = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return bool(self._raw.seekable())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return int(self._raw.seek(offset, whence))

    def tell(self) -> int:
        return int(self._raw.tell())

    def readinto(self, buffer: Any) -> int:
        count = self._raw.readinto(buffer) or 0
        self._unchecked += count
        if self._unchecked >= STOP_CHECK_BYTES:
            self._unchecked = 0
            self._check()
        return count

    def close(self) -> None:
        self._raw.close()
        super().close()


def open_binary(path: str, check_stop: StopCheck | None = None) -> BinaryIO:
    """Open for reading; with `check_stop`, call it every STOP_CHECK_BYTES read (it raises to stop)."""
    if is_url(path):
        # fsspec's remote files take no size in readline(); a BufferedReader gives the bounded readline we need.
        remote = fsspec.open(path, "rb").open()
        raw = _WatchedRaw(remote, check_stop) if check_stop is not None else remote
        return io.BufferedReader(raw, buffer_size=1 << 20)
    if check_stop is None:
        return open(path, "rb")
    return io.BufferedReader(_WatchedRaw(open(path, "rb", buffering=0), check_stop), buffer_size=1 << 20)


def file_size(path: str) -> int:
    if is_url(path):
        fs, root = fsspec.core.url_to_fs(path)
        return int(fs.size(root))
    return os.path.getsize(path)


def one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


def read_head(path: str) -> bytes:
    try:
        with open_binary(path) as stream:
            return stream.read(4096)
    except IsADirectoryError as error:
        raise InputError(f"input not readable: {path} (is a directory)") from error
    except FileNotFoundError as error:
        raise InputError(f"input not found: {path}") from error
    except OSError as error:
        raise InputError(f"input not readable: {path} ({one_line(error)})") from error
