"""Curation jobs: submit, run shards under leases, advance stages, finish, cancel, recover from dead workers.

Every state change of a shard happens in a transaction that locks its job row first, so that two workers
finishing the last two shards of a stage cannot both (or neither) start the next stage: the database counter
is the count of shards of the stage that are not done, read under that lock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

import fsspec
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from curation import workflows
from curation.models import DedupIndex, DocumentSample, Job, JobSchedule, Shard, WorkerHeartbeat
from curation.steps.base import RecipeError
from curation.steps.document import Document
from curation.steps.pipeline import (
    JobLayout,
    ShardResult,
    ShardStopped,
    StagePlan,
    merge_shard_stats,
    plan_stages,
    run_commit,
    run_map_shard,
    run_reduce,
)
from curation.steps.quality_classifier import resolve_model_dir
from curation.steps.readers import InputError, InputSplit, ReaderOptions, plan_splits
from curation.steps.recipe import Recipe, StepSpec, load_recipe, parse_recipe
from curation.steps.writers import write_json_atomic

logger = logging.getLogger(__name__)

# A shard that fails this many times (not counting takeovers from dead workers) fails its job.
MAX_SHARD_ATTEMPTS = 3
# A reduce waiting for another job to release its dedup index is sent again after this many seconds.
DEFER_SECONDS = 5
LOCAL_WAIT_SECONDS = 1.0
SAMPLE_TEXT_CHARS = 2000


class JobError(ValueError):
    """A job could not be submitted or changed; the message is one line for the user."""


# --- submit -------------------------------------------------------------------------------------------------


def _resolve_output(output: str | None, job_id_hint: str) -> str:
    if not output:
        return f"{settings.STORAGE_ROOT.rstrip('/')}/jobs/{job_id_hint}"
    if "://" in output:
        return output
    # Workers may run in another working directory: store an absolute path.
    return str(Path(output).expanduser().resolve())


def _check_output_free(output: str) -> None:
    fs, path = fsspec.core.url_to_fs(output)
    if fs.exists(path) and (not fs.isdir(path) or fs.ls(path)):
        raise JobError(f"output folder {output} already exists and is not empty")


def _reader_options(recipe: Recipe, overrides: dict[str, Any] | None) -> ReaderOptions:
    options = {**recipe.reader, **(overrides or {})}
    try:
        return ReaderOptions(**options)
    except (TypeError, ValueError) as error:
        raise JobError(f"bad reader options {options}: {error}") from error


def _configure_models(recipe: Recipe) -> Recipe:
    """Give each `quality_classifier` step its model and pin it to one version.

    A step without a `model` parameter takes settings.QUALITY_CLASSIFIER_MODEL; with none configured, the step is
    left out of the job (so `web-default` runs without a classifier until one is trained and configured). A model
    given as `.../latest` is resolved now, so every shard and every re-run of the job uses the same version.
    """
    steps: list[StepSpec] = []
    for spec in recipe.steps:
        if spec.name != "quality_classifier":
            steps.append(spec)
            continue
        model = str(spec.params.get("model") or settings.QUALITY_CLASSIFIER_MODEL)
        if model:
            steps.append(StepSpec(spec.name, {**spec.params, "model": resolve_model_dir(model)}))
    return recipe if tuple(steps) == recipe.steps else recipe.with_steps(tuple(steps))


def recipe_prepare(recipe: str) -> Recipe:
    """Load a built-in recipe by name, a recipe file by path, or recipe YAML text; configure and validate it.

    Raises JobError with a one-line reason for an unknown recipe, step or parameter, or a missing model.
    """
    try:
        if "\n" in recipe:
            parsed = parse_recipe(recipe, "custom", validate=False)
        else:
            parsed = load_recipe(recipe, validate=False)
        parsed = _configure_models(parsed)
        parsed.build()
    except (RecipeError, OSError) as error:
        raise JobError(str(error).splitlines()[0]) from error
    return parsed


def job_submit(
    *,
    recipe: str,
    inputs: Sequence[str],
    output: str | None = None,
    user: AbstractBaseUser | None = None,
    reader_overrides: dict[str, Any] | None = None,
    dedup_index: str | None = None,
    schedule: JobSchedule | None = None,
) -> Job:
    """Validate everything, create the job and its first-stage shards, and send them to the workers on commit.

    A bad recipe, a missing input or an occupied output folder raises JobError before any work starts.
    """
    parsed = recipe_prepare(recipe)
    if not inputs:
        raise JobError("no input given")
    options = _reader_options(parsed, reader_overrides)
    try:
        splits = plan_splits(list(inputs), options, target_bytes=settings.SHARD_TARGET_BYTES)
    except InputError as error:
        raise JobError(str(error)) from error
    stages = plan_stages(parsed)

    with transaction.atomic():
        index = dedup_index_ensure(dedup_index) if dedup_index else None
        job = Job.objects.create(
            recipe_name=parsed.name,
            recipe_yaml=parsed.source_yaml,
            inputs=list(inputs),
            output="",
            reader_options=asdict(options),
            dedup_index=index,
            stage_count=len(stages),
            shard_count=len(splits),
            created_by=user if user is not None and user.is_authenticated else None,
            schedule=schedule,
        )
        job.output = _resolve_output(output, str(job.pk))
        _check_output_free(job.output)
        job.save(update_fields=["output"])
        shards = Shard.objects.bulk_create(
            Shard(job=job, stage=0, index=i, kind=Shard.Kind.MAP, input_split=asdict(split), enqueued_at=timezone.now())
            for i, split in enumerate(splits)
        )
        workflows.enqueue_shards([s.pk for s in shards])
    logger.info("submitted %s: %d shards, %d stages, output %s", job, len(splits), len(stages), job.output)
    return job


def job_recipe(job: Job) -> Recipe:
    """The recipe as submitted (validated then; not rebuilt here, since building steps may load models)."""
    return parse_recipe(job.recipe_yaml, job.recipe_name, validate=False)


def job_layout(job: Job) -> JobLayout:
    return JobLayout(job.output)


# --- leases -------------------------------------------------------------------------------------------------


def worker_name() -> str:
    """This process's identity as a lease owner: host and pid (a prefork child has its own)."""
    return f"{socket.gethostname()}:{os.getpid()}"


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
        if shard.status == Shard.Status.RUNNING and shard.lease_expires_at and shard.lease_expires_at > now:
            if shard.lease_owner != worker:
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


def shard_lease_renew(shard_id: int, worker: str) -> bool:
    """Extend our lease; False when we lost it (taken over) or the job was cancelled, so the shard must stop."""
    expires = timezone.now() + timedelta(seconds=settings.SHARD_LEASE_SECONDS)
    renewed = Shard.objects.filter(
        pk=shard_id, status=Shard.Status.RUNNING, lease_owner=worker, job__status=Job.Status.RUNNING
    ).update(lease_expires_at=expires)
    return renewed == 1


@contextmanager
def _lease_heartbeat(shard_id: int, worker: str) -> Iterator[threading.Event]:
    """Renew the lease in a thread while the shard runs; the yielded event is set when the shard must stop."""
    stop = threading.Event()
    done = threading.Event()
    interval = max(1.0, settings.SHARD_LEASE_SECONDS / 3)

    def beat() -> None:
        try:
            while not done.wait(interval):
                if not shard_lease_renew(shard_id, worker):
                    stop.set()
                    return
        finally:
            connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{shard_id}", daemon=True)
    thread.start()
    try:
        yield stop
    finally:
        done.set()
        thread.join()


def shards_reap(now: Any = None) -> list[int]:
    """Send again the shards whose worker died (expired lease) or whose message was lost. Safe to re-run.

    Returns the ids sent. A pending shard counts as lost when nobody claimed it within SHARD_REQUEUE_SECONDS.
    """
    now = now or timezone.now()
    stale = now - timedelta(seconds=settings.SHARD_REQUEUE_SECONDS)
    with transaction.atomic():
        expired = list(
            Shard.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Shard.Status.RUNNING, lease_expires_at__lt=now, job__status=Job.Status.RUNNING)
        )
        lost = list(
            Shard.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=Shard.Status.PENDING, enqueued_at__lt=stale,
                    job__status__in=[Job.Status.PENDING, Job.Status.RUNNING])
        )
        for shard in expired:
            logger.warning("lease of %s held by %s expired: sending it again", shard, shard.lease_owner)
            shard.status = Shard.Status.PENDING
            shard.lease_owner = ""
            shard.lease_expires_at = None
        for shard in [*expired, *lost]:
            shard.enqueued_at = now
        Shard.objects.bulk_update([*expired, *lost], ["status", "lease_owner", "lease_expires_at", "enqueued_at"])
        ids = [s.pk for s in [*expired, *lost]]
        workflows.enqueue_shards(ids)
    return ids


def worker_heartbeat(name: str, pid: int, started_at: Any) -> None:
    WorkerHeartbeat.objects.update_or_create(
        name=name, defaults={"hostname": socket.gethostname(), "pid": pid, "started_at": started_at,
                             "last_seen": timezone.now()}
    )


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
    layout = job_layout(job)
    index_root = job.dedup_index.root if job.dedup_index else None
    if plan.kind == Shard.Kind.REDUCE and job.dedup_index_id and not dedup_index_acquire(job):
        shard_defer(shard.pk, worker)
        return
    try:
        with _lease_heartbeat(shard.pk, worker) as stop:
            outcome = _run_unit(job, shard, recipe, plan, layout, index_root, stop)
    except ShardStopped as stopped:
        logger.info("%s stopped: %s", shard, stopped)
        return
    except Exception as error:
        logger.exception("%s failed", shard)
        shard_fail(shard.pk, worker, f"{type(error).__name__}: {error}")
        return
    shard_complete(shard.pk, worker, plan, outcome)


def _run_unit(job: Job, shard: Shard, recipe: Recipe, plan: StagePlan, layout: JobLayout,
              index_root: str | None, stop: threading.Event) -> ShardResult | dict[str, Any]:
    if plan.kind == Shard.Kind.MAP:
        split = InputSplit(**shard.input_split) if plan.map_stage == 0 else None
        return run_map_shard(
            recipe, plan, layout=layout, shard=shard.index, shard_count=job.shard_count, job_id=job.pk,
            split=split, reader_options=ReaderOptions(**job.reader_options), index_root=index_root,
            should_stop=stop.is_set,
        )
    if plan.kind == Shard.Kind.REDUCE:
        return run_reduce(recipe, plan, layout=layout, shard_count=job.shard_count, job_id=job.pk,
                          index_root=index_root)
    return _finish_job_files(job, recipe, layout, index_root)


def _finish_job_files(job: Job, recipe: Recipe, layout: JobLayout, index_root: str | None) -> dict[str, Any]:
    """The finish unit: publish to the dedup index, write stats.json, drop intermediate documents."""
    run_commit(recipe, layout=layout, shard_count=job.shard_count, job_id=job.pk, index_root=index_root)
    stats = job_stats(job, recipe)
    write_json_atomic(layout.stats(), stats)
    fs, path = fsspec.core.url_to_fs(layout.work_docs_dir())
    if fs.exists(path):
        fs.rm(path, recursive=True)
    # Temporary files of shards whose worker died before renaming them.
    for stale in fs.glob(f"{fsspec.core.url_to_fs(layout.output)[1].rstrip('/')}/*/*.tmp-*"):
        fs.rm(stale)
    return stats


def job_stats(job: Job, recipe: Recipe | None = None) -> dict[str, Any]:
    """The job's stats.json: per step in, kept, removed by reason, errors by kind, bytes, seconds."""
    recipe = recipe or job_recipe(job)
    shards = list(job.shards.filter(kind=Shard.Kind.MAP, status=Shard.Status.DONE).values_list("stats", flat=True))
    merged = merge_shard_stats(recipe, shards)
    reduces = [s.stats for s in job.shards.filter(kind=Shard.Kind.REDUCE, status=Shard.Status.DONE)]
    last_map = max(p.map_stage for p in plan_stages(recipe))
    kept = sum(s.get("docs_kept", 0) for s in shards if s.get("map_stage") == last_map)
    removed = sum(s.get("docs_removed", 0) for s in shards)
    return {
        "job": job.pk,
        "recipe": recipe.name,
        "inputs": job.inputs,
        "output": job.output,
        "dedup_index": job.dedup_index.name if job.dedup_index else None,
        "documents": {"read": merged["read"]["docs"], "kept": kept, "removed": removed},
        **merged,
        "global_steps": reduces,
        "seconds": round(sum(s.get("seconds", 0.0) for s in shards), 3),
    }


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


def _start_stage(job: Job, stage: int) -> None:
    """Create the units of `stage` and send them (inside the caller's transaction, job row locked)."""
    plan = plan_stages(job_recipe(job))[stage]
    now = timezone.now()
    if plan.kind == Shard.Kind.MAP:
        units = [Shard(job=job, stage=stage, index=i, kind=plan.kind, enqueued_at=now) for i in range(job.shard_count)]
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


def shard_fail(shard_id: int, worker: str, error: str) -> None:
    """Record a failed attempt: send the shard again, or fail the job after MAX_SHARD_ATTEMPTS."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(shards__pk=shard_id)
        shard = Shard.objects.select_for_update().get(pk=shard_id)
        if shard.status != Shard.Status.RUNNING or shard.lease_owner != worker or job.is_finished:
            return
        shard.error = error[:5000]
        shard.lease_owner = ""
        shard.lease_expires_at = None
        if shard.attempts < MAX_SHARD_ATTEMPTS:
            shard.status = Shard.Status.PENDING
            shard.enqueued_at = timezone.now()
            shard.save(update_fields=["error", "lease_owner", "lease_expires_at", "status", "enqueued_at"])
            workflows.enqueue_shards([shard.pk])
            return
        shard.status = Shard.Status.FAILED
        shard.save(update_fields=["error", "lease_owner", "lease_expires_at", "status"])
        job.status = Job.Status.FAILED
        job.error = f"{shard} failed {shard.attempts} times: {error}"[:5000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        job.shards.filter(status=Shard.Status.PENDING).update(status=Shard.Status.CANCELLED)
        dedup_index_release(job)


def job_cancel(job: Job) -> Job:
    """Cancel a job: pending shards never run, running ones stop at their next heartbeat. Idempotent."""
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        job.status = Job.Status.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        job.shards.filter(status__in=[Shard.Status.PENDING, Shard.Status.RUNNING]).update(
            status=Shard.Status.CANCELLED, lease_owner="", lease_expires_at=None
        )
        dedup_index_release(job)
    return job


def job_run_local(job: Job) -> Job:
    """Run every unit of a job in this process, through the same code the workers run (`curate --local`).

    When another job holds the job's dedup index, this waits for it, as a worker would.
    """
    worker = f"local:{worker_name()}"
    with workflows.running_locally():
        while True:
            job.refresh_from_db()
            if job.is_finished:
                return job
            shard = job.shards.filter(status=Shard.Status.PENDING).order_by("stage", "index").first()
            if shard is None:
                raise JobError(f"{job} has no pending shard but is {job.status}")
            shard_execute(shard.pk, worker)
            shard.refresh_from_db()
            if shard.status == Shard.Status.PENDING:  # deferred (another job holds the index) or to be retried
                time.sleep(LOCAL_WAIT_SECONDS)


# --- dedup indexes ------------------------------------------------------------------------------------------


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
    """Let the next job use the index (called when the job completes, fails or is cancelled)."""
    DedupIndex.objects.filter(holder=job).update(holder=None)


def dedup_index_ensure(name: str) -> DedupIndex:
    """Return the named dedup index, creating it (under STORAGE_ROOT/dedup-index/NAME) on first use."""
    if slugify(name) != name:
        raise JobError(f"dedup index name {name!r} must be a slug (letters, digits, - and _)")
    root = f"{settings.STORAGE_ROOT.rstrip('/')}/dedup-index/{name}"
    index, _ = DedupIndex.objects.get_or_create(name=name, defaults={"root": root})
    return index
