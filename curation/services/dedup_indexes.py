"""Persistent dedup indexes (named collections): list, inspect, delete.

The index files themselves (exact hashes and band hashes of every kept document, partitioned by band, one file
per contributing job) live under the index's root in object storage; see curation/steps/dedup/index.py.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from curation.models import DedupIndex, Job
from curation.services import JobError
from curation.steps.dedup.index import index_delete, index_summary


def dedup_index_summary(index: DedupIndex) -> dict[str, Any]:
    """Size (documents, bytes) and contributing jobs of an index, read from its files."""
    return index_summary(index.root)


@transaction.atomic
def dedup_index_delete(index: DedupIndex) -> None:
    """Delete an index and its files. Refused while a job that uses it is still running."""
    active = index.jobs.exclude(status__in=Job.FINISHED)
    if active.exists():
        ids = ", ".join(str(pk) for pk in active.values_list("pk", flat=True))
        raise JobError(f"dedup index {index.name!r} is in use by unfinished job(s) {ids}")
    index_delete(index.root)
    index.jobs.update(dedup_index=None)
    index.delete()
