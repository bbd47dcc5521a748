"""Persistent dedup indexes (named collections): create on first use, hold for one job at a time, delete.

The index files themselves (exact hashes and band hashes of every kept document, partitioned by band, one file
per contributing job) live under the index's root in object storage; see curation/steps/dedup/index.py. Jobs on
one index decide one after another: a job holds the index from its first reduce until it has committed, so a
concurrent job never misses the documents this one is about to add.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils.text import slugify

from core.errors import Conflict, ValidationError
from core.services import audit_record
from curation.models import DedupIndex, Job
from curation.steps.dedup.index import index_delete


def dedup_index_ensure(name: str) -> DedupIndex:
    """Return the named dedup index, creating it (under STORAGE_ROOT/dedup-index/NAME) on first use. Idempotent."""
    if slugify(name) != name:
        raise ValidationError(f"dedup index name {name!r} must be a slug (letters, digits, - and _)",
                              field="dedup_index")
    root = f"{settings.STORAGE_ROOT.rstrip('/')}/dedup-index/{name}"
    index, _ = DedupIndex.objects.get_or_create(name=name, defaults={"root": root})
    return index


def dedup_index_acquire(job: Job) -> bool:
    """Hold the job's dedup index for this job, unless another unfinished job holds it. Re-entrant."""
    with transaction.atomic():
        index = DedupIndex.objects.select_for_update(of=("self",)).select_related("holder").get(
            pk=job.dedup_index_id)
        if index.holder is not None and index.holder_id != job.pk and not index.holder.is_finished:
            return False
        if index.holder_id != job.pk:
            index.holder = job
            index.save(update_fields=["holder"])
    return True


def dedup_index_release(job: Job) -> None:
    """Let the next job use the index (called when the job completes, fails or is cancelled). Idempotent."""
    DedupIndex.objects.filter(holder=job).update(holder=None)


@transaction.atomic
def dedup_index_delete(index: DedupIndex, user: AbstractBaseUser | AnonymousUser | None = None) -> None:
    """Delete an index and its files. Refused (Conflict) while a job that uses it is still running. The audit log
    records who deleted it."""
    active = index.jobs.exclude(status__in=Job.FINISHED)
    if active.exists():
        ids = ", ".join(str(pk) for pk in active.values_list("pk", flat=True))
        raise Conflict(f"dedup index {index.name!r} is in use by unfinished job(s) {ids}")
    audit_record(user, "delete", index, detail={"name": index.name})
    index_delete(index.root)
    index.jobs.update(dedup_index=None)
    index.delete()
