"""Small fsspec helpers: atomic writes of bytes, JSON and Parquet, and reads, on any filesystem URL.

Every file the dedup steps write goes to a unique temporary name first and is then renamed, so a reader never sees
half a file and a re-run after a crash rewrites the same bytes. On object stores a rename is a copy and a delete,
which is still all-or-nothing for the final name.
"""

from __future__ import annotations

import json
import posixpath
import uuid
from collections.abc import Callable
from typing import Any

import fsspec
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec.core import url_to_fs


def filesystem(url: str) -> tuple[fsspec.AbstractFileSystem, str]:
    """Return the filesystem and the path within it for a URL or a local path."""
    fs, path = url_to_fs(url)
    return fs, path


def join(url: str, *parts: str) -> str:
    """Join path components onto a URL with forward slashes."""
    return posixpath.join(url.rstrip("/"), *parts)


def _write_atomically(url: str, write: Callable[[Any], None]) -> int:
    """Call `write(handle)` on a temporary file next to `url`, then rename it to `url`; return the size written."""
    fs, path = filesystem(url)
    temporary = f"{path}.tmp-{uuid.uuid4().hex}"
    try:
        handle = fs.open(temporary, "wb")
    except FileNotFoundError:
        # Create the folder only when it is missing: on object stores and slow disks every call costs a round trip.
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
        handle = fs.open(temporary, "wb")
    with handle:
        write(handle)
        size = int(handle.tell())
    fs.mv(temporary, path)
    return size


def write_bytes(url: str, data: bytes) -> None:
    """Write `data` to `url` atomically (temporary name, then rename)."""
    _write_atomically(url, lambda handle: handle.write(data))


def read_bytes(url: str) -> bytes:
    fs, path = filesystem(url)
    with fs.open(path, "rb") as handle:
        data: bytes = handle.read()
    return data


def exists(url: str) -> bool:
    fs, path = filesystem(url)
    return bool(fs.exists(path))


def write_json(url: str, data: Any) -> None:
    """Write `data` as sorted, indented JSON, atomically (the same data always gives the same bytes)."""
    write_bytes(url, (json.dumps(data, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode("utf-8"))


def read_json(url: str) -> Any:
    return json.loads(read_bytes(url).decode("utf-8"))


def write_parquet(url: str, table: pa.Table) -> int:
    """Write a table as Parquet, atomically; return the file's size in bytes.

    Hashes and signatures (uint64 and fixed-size binary columns) are random bits: they are stored uncompressed and
    without dictionary encoding, which would only cost time; everything else is zstd-compressed.
    """
    compression = {
        field.name: "none" if pa.types.is_fixed_size_binary(field.type) or pa.types.is_uint64(field.type) else "zstd"
        for field in table.schema
    }
    return _write_atomically(
        url, lambda handle: pq.write_table(table, handle, compression=compression or "zstd", use_dictionary=False)
    )


def read_parquet(url: str, columns: list[str] | None = None, filters: Any = None) -> pa.Table:
    """Read a Parquet file's columns; `filters` (pyarrow's DNF or an Expression) are applied while reading, so
    row groups whose statistics exclude them are skipped and only matching rows are materialised."""
    fs, path = filesystem(url)
    with fs.open(path, "rb") as handle:
        if filters is None:
            # ParquetFile rather than read_table: read_table imports pyarrow.dataset (50 ms) on first use.
            return pq.ParquetFile(handle).read(columns=columns)
        return pq.read_table(handle, columns=columns, filters=filters)


def list_names(url: str) -> list[str]:
    """Return the sorted names directly under a folder URL (none when it does not exist)."""
    fs, path = filesystem(url)
    if not fs.exists(path):
        return []
    return sorted(posixpath.basename(entry.rstrip("/")) for entry in fs.ls(path, detail=False))


def total_size(url: str) -> int:
    """Return the number of bytes of all files under a folder URL (0 when it does not exist)."""
    fs, path = filesystem(url)
    if not fs.exists(path):
        return 0
    return int(sum(fs.du(path, total=False).values())) if fs.isdir(path) else int(fs.size(path))


def remove(url: str, recursive: bool = False) -> None:
    """Remove a file or a folder tree; a missing one is not an error."""
    fs, path = filesystem(url)
    if fs.exists(path):
        fs.rm(path, recursive=recursive)
