"""Shards: claim under a lease, renew, execute, complete (advancing the job's stage), fail, defer, reap.

Every state change of a shard happens in a transaction that locks its job row first, so that two workers
finishing the last two shards of a stage cannot both (or neither) start the next stage: the database counter
is the count of shards of the stage that are not done, read under that lock. See docs/architecture.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from core.errors import ApplicationError
from curation import workflows
from curation.models import DedupIndex, DocumentSample, Job, Shard
from curation.selectors import job_layout, job_recipe, job_stats
from curation.services.dedup_indexes import dedup_index_acquire, dedup_index_release
from curation.services.locations import input_files_check
from curation.services.workers import worker_name
from curation.steps.document import Document
from curation.steps.pipeline import (
    JobLayout,
    ShardResult,
    ShardStopped,
    StagePlan,
    plan_stages,
    run_finish,
    run_map_shard,
    run_reduce,
)
from curation.steps.readers import InputSplit, ReaderOptions
from curation.steps.recipe import Recipe

logger = logging.getLogger(__name__)

# A shard that fails, or is started, this many times without finishing fails its job (a deferral is not counted).
MAX_SHARD_ATTEMPTS = 3
# A reduce waiting for another job to release its dedup index is sent again after this many seconds.
DEFER_SECONDS = 5
SAMPLE_TEXT_CHARS = 2000


def shard_claim(shard_id: int, worker: str) -> Shard | None:
    """Take the lease on a shard if nobody live holds it. Returns None when there is nothing to do.

    Nothing to do: the shard is done, cancelled or failed, its job is finished, or another worker holds an
    unexpired lease (a duplicate message, e.g. a broker redelivery after we already recovered the shard).
    """
    now = timezone.now()
    with transaction.atomic():
        # Job row first, then the shard: the same lock order as shard_complete, so the two never deadlock.
        job = Job.objects.select_for_update().filter(shards__pk=shard_id).first()
        if job is None or job.is_finished:
            return None
        shard = Shard.objects.select_for_update().get(pk=shard_id)
        if shard.status in (Shard.Status.DONE, Shard.Status.CANCELLED, Shard.Status.FAILED):
            return None
        live_lease = shard.status == Shard.Status.RUNNING and shard.lease_expires_at and shard.lease_expires_at > now
        if live_lease and shard.lease_owner != worker:
            return None
        if shard.attempts >= MAX_SHARD_ATTEMPTS:
            # Every earlier attempt ended without a result: a shard that kills its worker (out of memory, the
            # hard time limit) never reaches shard_fail, so the limit is enforced here, before another try.
            _fail_job(job, shard, f"{shard} was started {shard.attempts} times and never finished "
                                  "(its worker died or was killed each time)")
            return None
        shard.status = Shard.Status.RUNNING
        shard.lease_owner = worker
        shard.lease_expires_at = now + timedelta(seconds=settings.SHARD_LEASE_SECONDS)
        shard.started_at = now
        shard.attempts += 1
        shard.save(update_fields=["status", "lease_owner", "lease_expires_at", "started_at", "attempts"])
        shard.job = job
        if job.status == Job.Status.PENDING:
            job.status = Job.Status.RUNNING
            job.started_at = now
            job.save(update_fields=["status", "started_at"])
    return shard


def shard_lease_renew(shard_id: int, worker: str) -> datetime | None:
    """Extend our lease; the new deadline, or None when we lost it (taken over, or the job was cancelled)."""
    expires = timezone.now() + timedelta(seconds=settings.SHARD_LEASE_SECONDS)
    renewed = Shard.objects.filter(
        pk=shard_id, status=Shard.Status.RUNNING, lease_owner=worker, job__status=Job.Status.RUNNING
    ).update(lease_expires_at=expires)
    return expires if renewed == 1 else None


# The first retry of a failed renewal waits this long, doubling up to the renewal interval.
RENEW_RETRY_SECONDS = 0.5


@contextmanager
def _lease_heartbeat(shard_id: int, worker: str) -> Iterator[threading.Event]:
    """Renew the lease in a thread while the shard runs; the yielded event is set when the shard must stop.

    A database error does not end the thread: it retries with backoff until the lease's deadline, and only once
    that has passed (another worker may now take the shard over) does it tell the shard to stop.
    """
    stop = threading.Event()
    done = threading.Event()
    interval = max(1.0, settings.SHARD_LEASE_SECONDS / 3)

    def beat() -> None:
        deadline = timezone.now() + timedelta(seconds=settings.SHARD_LEASE_SECONDS)
        wait = interval
        retry = RENEW_RETRY_SECONDS
        try:
            while not done.wait(wait):
                try:
                    renewed = shard_lease_renew(shard_id, worker)
                except DatabaseError as error:
                    logger.warning("renewing the lease of shard %s failed (%s): retrying", shard_id, error)
                    connection.close()  # a broken connection is replaced on the next query
                    if timezone.now() >= deadline:
                        logger.error("the lease of shard %s lapsed before it could be renewed: stopping", shard_id)
                        stop.set()
                        return
                    wait, retry = retry, min(retry * 2, interval)
                    continue
                if renewed is None:
                    stop.set()
                    return
                deadline, wait, retry = renewed, interval, RENEW_RETRY_SECONDS
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{shard_id}", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        done.set()
        thread.join()


def shards_reap(now: datetime | None = None) -> list[int]:
    """Send again shards whose worker died (expired lease) or whose message was lost. Safe to re-run.

    Returns the ids sent: at most SHARD_REAP_BATCH of each kind per call, so a backlog of tens of thousands of
    queued shards costs each call two short statements, never a lock on all of them. A pending shard is not
    lost because it is old (under a backlog, messages wait in the queue for hours): only when the shard queue
    is empty (or cannot be measured) is a pending shard nobody claimed within SHARD_REQUEUE_SECONDS sent again,
    the longest-waiting first.
    """
    now = now or timezone.now()
    batch = settings.SHARD_REAP_BATCH
    expired = _reap_batch(
        Shard.objects.filter(status=Shard.Status.RUNNING, lease_expires_at__lt=now, job__status=Job.Status.RUNNING)
        .order_by("lease_expires_at"),
        batch, status=Shard.Status.PENDING, lease_owner="", lease_expires_at=None, enqueued_at=now,
    )
    if expired:
        logger.warning("leases of shards %s expired: sending them again", expired)
    lost: list[int] = []
    queued = workflows.queued_shard_messages()
    if not queued:
        stale = now - timedelta(seconds=settings.SHARD_REQUEUE_SECONDS)
        lost = _reap_batch(
            Shard.objects.filter(status=Shard.Status.PENDING, enqueued_at__lt=stale,
                                 job__status__in=[Job.Status.PENDING, Job.Status.RUNNING])
            .order_by("enqueued_at"),
            batch, enqueued_at=now,
        )
    return [*expired, *lost]


def _reap_batch(candidates: QuerySet[Shard], batch: int, **changes: Any) -> list[int]:
    """Update at most `batch` of the candidates nobody else has locked, and send them on commit.

    One short transaction: the ids are picked and locked with SKIP LOCKED (rows a cancel or a claim holds are
    passed over, and nothing waits on them), then one UPDATE of those rows, which nobody can change meanwhile.
    """
    with transaction.atomic():
        ids = list(candidates.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True)[:batch])
        if not ids:
            return []
        Shard.objects.filter(pk__in=ids).update(**changes)
        workflows.enqueue_shards(ids)
    return ids


# --- running a shard ----------------------------------------------------------------------------------------


def shard_execute(shard_id: int, worker: str | None = None) -> None:
    """Claim a shard, run it under a renewed lease, and record the outcome. Safe to re-run and to duplicate."""
    worker = worker or worker_name()
    shard = shard_claim(shard_id, worker)
    if shard is None:
        return
    job = shard.job
    try:
        # Inside the try: a worker that cannot even build the recipe (a step plugin missing on this machine)
        # fails the attempt with the reason, instead of leaving the shard to expire and come back forever.
        recipe = job_recipe(job)
        plan = plan_stages(recipe)[shard.stage]
    except Exception as error:
        shard_fail(shard.pk, worker, f"{type(error).__name__}: {error}")
        return
    input_split = _input_split(shard) if plan.kind == Shard.Kind.MAP and plan.source_stage < 0 else None
    if input_split is not None:
        try:
            # Checked again here, right before reading: the file may have been swapped for a link since submit.
            input_files_check([input_split["path"]])
        except ApplicationError as refused:
            shard_fail(shard.pk, worker, str(refused), final=True)
            return
    layout = job_layout(job)
    index_root = job.dedup_index.root if job.dedup_index else None
    if plan.kind == Shard.Kind.REDUCE and job.dedup_index_id and not dedup_index_acquire(job):
        shard_defer(shard.pk, worker)
        return
    try:
        with _lease_heartbeat(shard.pk, worker) as stop:
            outcome = _run_unit(job, shard, recipe, plan, layout, index_root, input_split, stop)
    except ShardStopped as stopped:
        logger.info("%s stopped: %s", shard, stopped)
        return
    except Exception as error:
        logger.exception("%s failed", shard)
        shard_fail(shard.pk, worker, f"{type(error).__name__}: {error}")
        return
    shard_complete(shard.pk, worker, plan, outcome)


def _input_split(shard: Shard) -> dict[str, Any]:
    """The input split a map shard reads: its own in the first stage, its first-stage twin's in a later stage
    that reads the input again (see `plan_stages`)."""
    if shard.stage == 0:
        return dict(shard.input_split)
    return dict(Shard.objects.get(job_id=shard.job_id, stage=0, index=shard.index).input_split)


def _run_unit(job: Job, shard: Shard, recipe: Recipe, plan: StagePlan, layout: JobLayout, index_root: str | None,
              input_split: dict[str, Any] | None, stop: threading.Event) -> ShardResult | dict[str, Any]:
    if plan.kind == Shard.Kind.MAP:
        split = InputSplit(**input_split) if input_split is not None else None
        return run_map_shard(
            recipe, plan, layout=layout, shard=shard.index, shard_count=job.shard_count, job_id=job.pk,
            split=split, reader_options=ReaderOptions(**job.reader_options), index_root=index_root,
            should_stop=stop.is_set,
        )
    if plan.kind == Shard.Kind.REDUCE:
        # A partition unit's index is its partition; the merge reads as many partitions as the stage before had.
        partition_stage = shard.stage if plan.is_partitioned else shard.stage - 1
        partitions = Shard.objects.filter(job_id=job.pk, stage=partition_stage).count()
        return run_reduce(recipe, plan, layout=layout, shard_count=job.shard_count, job_id=job.pk,
                          index_root=index_root, partition=shard.index, partitions=partitions)
    stats = job_stats(job, recipe)
    run_finish(recipe, layout=layout, shard_count=job.shard_count, job_id=job.pk, index_root=index_root, stats=stats,
               commit_guard=lambda: _publish_guard(job.pk))
    return stats


@contextmanager
def _publish_guard(job_id: int) -> Iterator[None]:
    """Let a commit marker be written only while the job is still unfinished and holds its dedup index.

    Locks the job row, then the index row (the order job_cancel takes them), re-checks both, and keeps the
    locks while the marker is written, then records `published_at`: a cancel either lands before (and nothing
    is published) or waits and is refused after (the job is completing). Raises ShardStopped otherwise.
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            raise ShardStopped(f"{job} is {job.status}: its documents are not published to the dedup index")
        held = DedupIndex.objects.select_for_update().filter(pk=job.dedup_index_id, holder_id=job.pk).exists()
        if not held:
            raise ShardStopped(f"{job} no longer holds its dedup index: nothing is published")
        yield
        job.published_at = timezone.now()
        job.save(update_fields=["published_at"])


def _sample_rows(job: Job, shard: Shard, map_stage: int, result: ShardResult) -> list[DocumentSample]:
    rows = []
    for kept, docs in ((True, result.kept_samples), (False, result.removed_samples)):
        for doc in docs:
            rows.append(_sample_row(job, shard.index, map_stage, kept, doc))
    return rows


def _sample_row(job: Job, shard_index: int, map_stage: int, kept: bool, doc: Document) -> DocumentSample:
    text = doc.get("text") or ""
    record = {k: v for k, v in doc.items() if k not in ("text", "html") and not k.startswith("_")}
    record["text"] = text[:SAMPLE_TEXT_CHARS]
    return DocumentSample(
        job=job, shard_index=shard_index, map_stage=map_stage, kept=kept, doc_id=str(doc.get("id", ""))[:200],
        removed_by=doc.get("removed_by", "")[:100], reason=doc.get("reason", "")[:200],
        url=(doc.get("url") or "")[:2000], text=text[:SAMPLE_TEXT_CHARS], document=record,
    )


def shard_complete(shard_id: int, worker: str, plan: StagePlan, outcome: ShardResult | dict[str, Any]) -> None:
    """Record a finished unit and, if it was the last of its stage, start the next stage. Safe to re-run."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().get(shards__pk=shard_id)
        shard = Shard.objects.select_for_update().get(pk=shard_id)
        if shard.status != Shard.Status.RUNNING or shard.lease_owner != worker or job.is_finished:
            # Someone took the shard over, or it was cancelled: their record wins; our files were identical.
            return
        shard.status = Shard.Status.DONE
        shard.finished_at = now
        shard.lease_expires_at = None
        if isinstance(outcome, ShardResult):
            shard.stats = outcome.to_dict()
            shard.docs_in = outcome.docs_in
            shard.docs_kept = outcome.docs_kept
            shard.docs_removed = outcome.docs_removed
            DocumentSample.objects.filter(job=job, shard_index=shard.index, map_stage=plan.map_stage).delete()
            DocumentSample.objects.bulk_create(_sample_rows(job, shard, plan.map_stage, outcome))
        else:
            shard.stats = outcome
        shard.save(update_fields=["status", "finished_at", "lease_expires_at", "stats", "docs_in", "docs_kept",
                                  "docs_removed"])
        _count_on_job(job, shard)
        if plan.kind == Shard.Kind.FINISH:
            job.status = Job.Status.COMPLETED
            job.stats = shard.stats
            job.finished_at = now
            job.save(update_fields=["status", "stats", "finished_at"])
            dedup_index_release(job)
            return
        remaining = job.shards.filter(stage=shard.stage).exclude(status=Shard.Status.DONE).count()
        if remaining == 0:
            _start_stage(job, shard.stage + 1)


def _count_on_job(job: Job, shard: Shard) -> None:
    """Add a finished unit to the job's counters (job row locked), so lists never sum over shards.

    Read counts the first map stage's input, kept the last map stage's output, removed every map stage's.
    """
    job.units_done += 1
    if shard.kind == Shard.Kind.MAP:
        if shard.stage == 0:
            job.docs_read += shard.docs_in
        if shard.stage == job.stage_count - 2:
            job.docs_kept += shard.docs_kept
        job.docs_removed += shard.docs_removed
    job.save(update_fields=["units_done", "docs_read", "docs_kept", "docs_removed"])


def _start_stage(job: Job, stage: int) -> None:
    """Create the units of `stage` and send them (inside the caller's transaction, job row locked)."""
    plan = plan_stages(job_recipe(job))[stage]
    now = timezone.now()
    if plan.kind == Shard.Kind.MAP:
        units = [Shard(job=job, stage=stage, index=i, kind=plan.kind, enqueued_at=now) for i in range(job.shard_count)]
    elif plan.is_partitioned:
        units = [Shard(job=job, stage=stage, index=i, kind=plan.kind, enqueued_at=now)
                 for i in range(settings.DEDUP_REDUCE_PARTITIONS)]
    else:
        units = [Shard(job=job, stage=stage, index=-1, kind=plan.kind, enqueued_at=now)]
    Shard.objects.bulk_create(units, ignore_conflicts=True)
    job.stage = stage
    job.save(update_fields=["stage"])
    ids = list(job.shards.filter(stage=stage, status=Shard.Status.PENDING).values_list("pk", flat=True))
    workflows.enqueue_shards(ids)


def shard_defer(shard_id: int, worker: str) -> None:
    """Give a claimed shard back without counting an attempt, and send it again a little later."""
    with transaction.atomic():
        updated = Shard.objects.filter(pk=shard_id, status=Shard.Status.RUNNING, lease_owner=worker).update(
            status=Shard.Status.PENDING, lease_owner="", lease_expires_at=None, enqueued_at=timezone.now(),
            attempts=F("attempts") - 1,
        )
        if updated:
            workflows.enqueue_shards([shard_id], countdown=DEFER_SECONDS)


def shard_fail(shard_id: int, worker: str, error: str, *, final: bool = False) -> None:
    """Record a failed attempt: send the shard again, or fail the job after MAX_SHARD_ATTEMPTS (or when `final`)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(shards__pk=shard_id)
        shard = Shard.objects.select_for_update().get(pk=shard_id)
        if shard.status != Shard.Status.RUNNING or shard.lease_owner != worker or job.is_finished:
            return
        shard.error = error[:5000]
        shard.lease_owner = ""
        shard.lease_expires_at = None
        if shard.attempts < MAX_SHARD_ATTEMPTS and not final:
            shard.status = Shard.Status.PENDING
            shard.enqueued_at = timezone.now()
            shard.save(update_fields=["error", "lease_owner", "lease_expires_at", "status", "enqueued_at"])
            workflows.enqueue_shards([shard.pk])
            return
        _fail_job(job, shard, f"{shard} failed {shard.attempts} times: {error}" if not final else error)


def _fail_job(job: Job, shard: Shard, error: str) -> None:
    """Fail the shard and its job (inside the caller's transaction, job row locked first)."""
    shard.status = Shard.Status.FAILED
    shard.error = shard.error or error[:5000]
    shard.lease_owner = ""
    shard.lease_expires_at = None
    shard.save(update_fields=["error", "lease_owner", "lease_expires_at", "status"])
    job.status = Job.Status.FAILED
    job.error = error[:5000]
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "finished_at"])
    job.shards.filter(status=Shard.Status.PENDING).update(status=Shard.Status.CANCELLED)
    dedup_index_release(job)
