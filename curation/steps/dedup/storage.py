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
import numpy as np
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
    compression = parquet_compression(table.schema)
    return _write_atomically(
        url,
        lambda handle: pq.write_table(
            table, handle, compression=compression or "zstd", use_dictionary=False, row_group_size=ROW_GROUP_ROWS
        ),
    )


def parquet_compression(schema: pa.Schema) -> dict[str, str]:
    """Per column: no compression for random bits (hashes, signatures), zstd for everything else."""
    return {
        field.name: "none" if pa.types.is_fixed_size_binary(field.type) or pa.types.is_uint64(field.type) else "zstd"
        for field in schema
    }


class ParquetStream:
    """Write a Parquet file table by table (one row group or more each), published by rename on `close()`.

    Memory holds one table at a time, so a file of a whole job is written from one shard's rows after another.
    The file exists (with no rows) even when nothing was written. Re-running with the same tables writes the same
    bytes.
    """

    def __init__(self, url: str, schema: pa.Schema) -> None:
        self.url = url
        self._fs, path = filesystem(url)
        self._path = path
        self._temporary = f"{path}.tmp-{uuid.uuid4().hex}"
        try:
            self._handle = self._fs.open(self._temporary, "wb")
        except FileNotFoundError:
            self._fs.makedirs(posixpath.dirname(path), exist_ok=True)
            self._handle = self._fs.open(self._temporary, "wb")
        self._writer = pq.ParquetWriter(
            self._handle, schema, compression=parquet_compression(schema), use_dictionary=False
        )
        self.size = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows:
            self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def close(self) -> int:
        """Finish the file, rename it into place, and return its size in bytes."""
        self._writer.close()
        self.size = int(self._handle.tell())
        self._handle.close()
        self._fs.mv(self._temporary, self._path)
        return self.size

    def abort(self) -> None:
        """Discard what was written; the final name is left untouched."""
        try:
            self._writer.close()
            self._handle.close()
        finally:
            if self._fs.exists(self._temporary):
                self._fs.rm(self._temporary)


# Rows per Parquet row group in the files read by position (sidecars, the index's documents): reading the rows of
# a few documents reads only the row groups that hold them.
ROW_GROUP_ROWS = 8192


def read_rows(url: str, rows: np.ndarray, columns: list[str] | None = None) -> pa.Table:
    """Return the given rows (0-based, any order, repeats allowed) of a Parquet file, in the order asked.

    Only the row groups that hold them are read, one at a time, keeping just the rows asked for: memory holds one
    row group and the rows, whatever the file's size (files written by `write_parquet` or `ParquetStream` have
    ROW_GROUP_ROWS rows a group).
    """
    fs, path = filesystem(url)
    rows = np.asarray(rows, dtype=np.int64)
    with fs.open(path, "rb") as handle:
        parquet = pq.ParquetFile(handle)
        metadata = parquet.metadata
        sizes = np.array([metadata.row_group(g).num_rows for g in range(metadata.num_row_groups)], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)])
        if len(rows) and (rows.min() < 0 or rows.max() >= starts[-1]):
            raise IndexError(f"{url} has {starts[-1]} rows; asked for row {int(rows.max())}")
        group_of = np.searchsorted(starts, rows, side="right") - 1
        order = np.argsort(group_of, kind="stable")
        pieces = []
        for group in np.unique(group_of).tolist():
            wanted = order[group_of[order] == group]
            table = parquet.read_row_group(group, columns=columns)
            pieces.append(table.take(pa.array(rows[wanted] - starts[group], type=pa.int64())))
        schema = parquet.schema_arrow
    if not pieces:
        empty = schema.empty_table()
        return empty.select(columns) if columns else empty
    # The pieces hold the rows group by group: put them back in the order asked.
    gathered = pa.concat_tables(pieces)
    back = np.empty(len(rows), dtype=np.int64)
    back[order] = np.arange(len(rows), dtype=np.int64)
    return gathered.take(pa.array(back, type=pa.int64()))


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
