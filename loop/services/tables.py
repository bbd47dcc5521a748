"""The per-job signal table: built once from a finished job's outputs, read by audits and what-ifs."""

from __future__ import annotations

from core.errors import ValidationError
from curation.models import Job
from loop.signal_table import SignalTable, build_signal_table, load_signal_table


def signal_table_build(job: Job) -> int:
    """Write the job's signal table (`<output>/audit/signals.parquet`) from its outputs; return its rows.

    Changes only that file. Safe to re-run: the same outputs give the same table.
    """
    if job.status != Job.Status.COMPLETED:
        raise ValidationError(f"job {job.pk} is {job.status}; signals are stored once it has completed", field="job")
    return build_signal_table(job.output)


def signal_table_ensure(job: Job, *, with_urls: bool = False) -> SignalTable:
    """Load the job's signal table, building it first when it is missing."""
    try:
        return load_signal_table(job.output, with_urls=with_urls)
    except FileNotFoundError:
        signal_table_build(job)
        return load_signal_table(job.output, with_urls=with_urls)
