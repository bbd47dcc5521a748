"""Open an input by local path or fsspec URL, and say in one line why one cannot be read."""

from __future__ import annotations

import io
import os
from typing import BinaryIO

import fsspec  # type: ignore[import-untyped]

from curation.steps.readers.errors import InputError


def is_url(path: str) -> bool:
    return "://" in path


def open_binary(path: str) -> BinaryIO:
    if is_url(path):
        # fsspec's remote files take no size in readline(); a BufferedReader gives the bounded readline we need.
        return io.BufferedReader(fsspec.open(path, "rb").open(), buffer_size=1 << 20)
    return open(path, "rb")


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
