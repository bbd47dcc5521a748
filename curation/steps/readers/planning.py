"""Check a job's inputs and cut them into splits, one per shard, before any work starts (`plan_splits`)."""

from __future__ import annotations

import os
from collections.abc import Sequence

import fsspec  # type: ignore[import-untyped]

from curation.steps.readers.errors import InputError
from curation.steps.readers.files import file_size, is_url, one_line, read_head
from curation.steps.readers.formats import SUFFIX_FORMATS, InputSplit, ReaderOptions, detect_format, format_from_name
from curation.steps.readers.parquet import plan_parquet


def plan_splits(
    paths: Sequence[str], options: ReaderOptions, target_bytes: int = 64 * 1024 * 1024
) -> list[InputSplit]:
    """Check every input and cut it into splits of about `target_bytes`; raise InputError before any work starts.

    A directory expands to the supported files inside it (recursive, sorted, hidden files skipped). Uncompressed
    JSON Lines, WARC and WET files bigger than `target_bytes` are cut into byte ranges; compressed files are one
    split each (a compressed stream cannot be entered in the middle); Parquet files are split by row groups.
    An empty file gives one split, which yields nothing.
    """
    if target_bytes <= 0:
        raise ValueError("target_bytes must be positive")
    if isinstance(paths, str):
        paths = [paths]
    if not paths:
        raise InputError("no input paths given")
    files: dict[str, None] = {}  # ordered and without repeats: a file named twice is read once
    for path in paths:
        files.update(dict.fromkeys(_expand(path)))
    splits: list[InputSplit] = []
    for file in files:
        splits.extend(_plan_file(file, options, target_bytes))
    return splits


def _expand(path: str) -> list[str]:
    """Return the input files `path` names: itself, or the supported files under it if it is a directory."""
    if is_url(path):
        try:
            fs, root = fsspec.core.url_to_fs(path)
            exists = fs.exists(root)
            is_dir = exists and fs.isdir(root)
        except (OSError, ValueError, ImportError) as error:
            raise InputError(f"input not readable: {path} ({one_line(error)})") from error
        if not exists:
            raise InputError(f"input not found: {path}")
        if not is_dir:
            return [path]
        root = root.rstrip("/")
        found = [
            fs.unstrip_protocol(name)
            for name in sorted(fs.find(root))
            if format_from_name(name) and not _is_hidden(name[len(root) :])
        ]
    else:
        if not os.path.exists(path):
            raise InputError(f"input not found: {path}")
        if not os.path.isdir(path):
            return [path]
        found = []
        for directory, subdirectories, names in os.walk(path):
            subdirectories[:] = sorted(name for name in subdirectories if not _is_hidden(name))
            found.extend(
                os.path.join(directory, name)
                for name in names
                if format_from_name(name) and not _is_hidden(name)
            )
        found.sort()
    if not found:
        suffixes = ", ".join(suffix for suffix, _ in SUFFIX_FORMATS)
        raise InputError(f"no supported input files in {path} (looked for {suffixes})")
    return found


def _is_hidden(relative: str) -> bool:
    # Skip dot files and the markers Spark and Hadoop leave next to data (_SUCCESS, _metadata, .crc).
    return any(part.startswith((".", "_")) for part in relative.split("/") if part)


def _plan_file(path: str, options: ReaderOptions, target_bytes: int) -> list[InputSplit]:
    head = read_head(path)
    if not head:
        return [InputSplit(path)]
    fmt, compression = detect_format(path, head, options)
    if fmt is None:
        raise InputError(
            f"unknown input format: {path} (name it .warc[.gz], .wet[.gz], .jsonl[.gz|.zst], .json.gz or "
            f".parquet, or set the reader format)"
        )
    if fmt == "parquet":
        return plan_parquet(path, options, target_bytes)
    if fmt in ("warc", "wet") and compression == "zstd":
        raise InputError(f"zstd-compressed WARC is not supported: {path} (recompress it as .warc.gz)")
    if compression is not None:
        return [InputSplit(path)]
    size = file_size(path)
    if size <= target_bytes:
        return [InputSplit(path)]
    starts = list(range(0, size, target_bytes))
    return [InputSplit(path, start, start + target_bytes if start + target_bytes < size else None) for start in starts]
