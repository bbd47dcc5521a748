"""The per-job signal table: built once from a finished job's outputs, read by audits and what-ifs."""

from __future__ import annotations

import threading

import fsspec

from core.errors import ValidationError
from curation.models import Job
from loop.signal_table import SignalTable, build_signal_table, load_signal_table, table_url


def signal_table_build(job: Job) -> int:
    """Write the job's signal table (`<output>/audit/signals.parquet`) from its outputs; return its rows.

    Changes only that file. Safe to re-run: the same outputs give the same table.
    """
    if job.status != Job.Status.COMPLETED:
        raise ValidationError(f"job {job.pk} is {job.status}; signals are stored once it has completed", field="job")
    return build_signal_table(job.output)


# The last table loaded in this process, by output folder and file time: a slider sends many recounts in a row.
_cache: dict[str, tuple[float, SignalTable]] = {}
_cache_lock = threading.Lock()


def _modified(output: str) -> float | None:
    fs, path = fsspec.core.url_to_fs(table_url(output))
    try:
        info = fs.info(path)
    except FileNotFoundError:
        return None
    return float(info.get("mtime") or info.get("LastModified", 0) or 0) or None


def signal_table_ensure(job: Job) -> SignalTable:
    """Load the job's signal table (from this process's cache while the file is unchanged), building it if missing."""
    modified = _modified(job.output)
    if modified is None:
        signal_table_build(job)
        modified = _modified(job.output)
    with _cache_lock:
        cached = _cache.get(job.output)
        if cached is not None and modified is not None and cached[0] == modified:
            return cached[1]
    table = load_signal_table(job.output)
    with _cache_lock:
        _cache.clear()  # one table at a time: a million rows is a few hundred MB
        if modified is not None:
            _cache[job.output] = (modified, table)
    return table
