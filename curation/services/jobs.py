"""Jobs: validate and submit a recipe over inputs, cancel a job, or run all of it in this process.

A job is split into stages of units (shards); `curation.services.shards` runs and advances them.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import fsspec
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ApplicationError, Conflict, PermissionDenied, ValidationError
from core.services import audit_record
from core.validation import max_length_check
from curation import workflows
from curation.models import DedupIndex, Job, JobSchedule, Shard
from curation.services.dedup_indexes import dedup_index_ensure, dedup_index_release
from curation.services.locations import (
    input_files_check,
    inputs_check,
    output_release,
    output_reserve,
    output_resolve,
)
from curation.services.messages import localise
from curation.services.quality_models import quality_model_registries
from curation.services.shards import shard_execute
from curation.services.workers import worker_name
from curation.steps.base import RecipeError
from curation.steps.pipeline import plan_stages
from curation.steps.quality_classifier import ModelLocationError, resolve_model_dir
from curation.steps.readers import InputError, InputSplit, ReaderOptions, plan_splits
from curation.steps.recipe import Recipe, StepSpec, load_builtin_recipe, parse_recipe

logger = logging.getLogger(__name__)

LOCAL_WAIT_SECONDS = 1.0


def _reader_options(recipe: Recipe, overrides: dict[str, Any] | None) -> ReaderOptions:
    options = {**recipe.reader, **(overrides or {})}
    try:
        return ReaderOptions(**options)
    except (TypeError, ValueError) as error:
        raise ValidationError(f"bad reader options: {str(error).splitlines()[0]}", field="reader") from error


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
            try:
                pinned = resolve_model_dir(model, quality_model_registries())
            except ModelLocationError as error:
                raise PermissionDenied(str(error), field="recipe") from error
            steps.append(StepSpec(spec.name, {**spec.params, "model": pinned}))
    return recipe if tuple(steps) == recipe.steps else recipe.with_steps(tuple(steps))


def recipe_prepare(recipe: str) -> Recipe:
    """Load a built-in recipe by name, or parse recipe YAML text; configure and validate it.

    Never reads a path: a single line that is not a built-in name is refused (the API and the console offer
    built-in names or YAML text only; `curate` reads a recipe file itself). Changes nothing. Raises
    ValidationError with a one-line reason for an unknown recipe, step or parameter, an oversized or aliased
    recipe, or a missing model.
    """
    try:
        if "\n" in recipe or ":" in recipe:  # YAML text (a built-in name has neither)
            parsed = parse_recipe(recipe, "custom", validate=False)
        else:
            parsed = load_builtin_recipe(recipe.strip(), validate=False)
        parsed = _configure_models(parsed)
        parsed.build()
    except (RecipeError, OSError) as error:
        raise ValidationError(localise(str(error).splitlines()[0]), field="recipe") from error
    return parsed


def _plan_inline(inputs: Sequence[str]) -> bool:
    """Whether to plan a submit inside the request: a few local files; folders and URLs are walked by a task."""
    if len(inputs) > settings.CURATION_PLAN_INLINE_FILES:
        return False
    return all("://" not in path and not os.path.isdir(path) for path in inputs)


def _plan_splits(inputs: list[str], options: ReaderOptions) -> list[InputSplit]:
    """Expand and cut a job's inputs, checking every file against the allowed roots. Reads only file heads."""
    try:
        splits = plan_splits(inputs, options, target_bytes=settings.SHARD_TARGET_BYTES)
    except InputError as error:
        raise ValidationError(localise(str(error)), field="inputs") from error
    input_files_check(dict.fromkeys(split.path for split in splits))
    return splits


def _create_shards(job: Job, splits: Sequence[InputSplit]) -> None:
    """Create the first stage's shards and send them on commit (inside the caller's transaction)."""
    now = timezone.now()
    shards = Shard.objects.bulk_create(
        Shard(job=job, stage=0, index=i, kind=Shard.Kind.MAP, input_split=asdict(split), enqueued_at=now)
        for i, split in enumerate(splits)
    )
    workflows.enqueue_shards([s.pk for s in shards])


def job_submit(
    *,
    recipe: str,
    inputs: Sequence[str],
    output: str | None = None,
    user: AbstractBaseUser | AnonymousUser | None = None,
    reader_overrides: dict[str, Any] | None = None,
    dedup_index: str | None = None,
    schedule: JobSchedule | None = None,
) -> Job:
    """Validate everything, create the job, reserve its output, and send its work to the workers on commit.

    A bad recipe or a missing input raises ValidationError, an input or output outside CURATION_ALLOWED_ROOTS
    PermissionDenied, an occupied output folder Conflict, all before any work starts (nothing is written then).
    A few local files are planned here; folders, URLs and many files leave the job "planning" and a task plans
    it (`job_plan`). Each call creates a new job.
    """
    parsed = recipe_prepare(recipe)
    if not inputs:
        raise ValidationError(_("no input given"), field="inputs")
    options = _reader_options(parsed, reader_overrides)
    inputs_check(inputs)
    inline = _plan_inline(inputs)
    # A few local files: planned now (reads their first bytes), so a missing one is refused before anything.
    splits = _plan_splits(list(inputs), options) if inline else []
    stages = plan_stages(parsed)
    resolved_output = output_resolve(output) if output else None
    if resolved_output is not None:
        max_length_check(Job, "output", resolved_output)
    if dedup_index:
        max_length_check(DedupIndex, "name", dedup_index, field="dedup_index")
    # With the broker down, refuse now (503) rather than create a job whose work cannot be sent.
    workflows.broker_check()

    with transaction.atomic():
        index = dedup_index_ensure(dedup_index) if dedup_index else None
        job = Job.objects.create(
            recipe_name=parsed.name[:200],
            recipe_yaml=parsed.source_yaml,
            recipe_plan=parsed.to_plan(),
            inputs=list(inputs),
            output="",
            reader_options=asdict(options),
            dedup_index=index,
            status=Job.Status.PENDING if inline else Job.Status.PLANNING,
            stage_count=len(stages),
            shard_count=len(splits),
            created_by=user if user is not None and user.is_authenticated else None,
            schedule=schedule,
        )
        job.output = resolved_output or output_resolve(f"jobs/{job.pk}")
        try:
            # The database half of the reservation: a second unfinished job with this output fails here (on
            # PostgreSQL it waits for the first transaction and fails once that one commits).
            with transaction.atomic():
                job.save(update_fields=["output"])
        except IntegrityError as error:
            raise Conflict(_("output folder %(output)s is in use by an unfinished job") % {"output": job.output},
                           field="output") from error
        output_reserve(job.output, job.pk)
        audit_record(user, "submit", job, detail={"schedule": schedule.name} if schedule is not None else None)
        try:
            if inline:
                _create_shards(job, splits)
            else:
                workflows.enqueue_plan(job.pk)
        except BaseException:
            output_release(job.output, job.pk)
            raise
    logger.info("submitted %s (%s), output %s", job, job.status, job.output)
    return job


def job_plan(job_id: int) -> None:
    """Plan a job submitted in state "planning": expand its inputs, create its shards, send them. Safe to re-run.

    Runs in a task, outside any request. A job no longer planning (cancelled, or planned by a duplicate
    message) is left alone. Inputs that cannot be read or are not allowed fail the job with the reason and
    free its output folder.
    """
    job = Job.objects.get(pk=job_id)
    if job.status != Job.Status.PLANNING:
        return
    try:
        splits = _plan_splits(list(job.inputs), ReaderOptions(**job.reader_options))
        error = ""
    except ApplicationError as refused:
        splits, error = [], str(refused)
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status != Job.Status.PLANNING:
            return
        if not error:
            job.status = Job.Status.PENDING
            job.shard_count = len(splits)
            job.save(update_fields=["status", "shard_count"])
            _create_shards(job, splits)
            return
        job.status = Job.Status.FAILED
        job.error = f"planning failed: {error}"[:5000]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        dedup_index_release(job)
    # Nothing was written but the marker: free the folder for the corrected submit.
    output_release(job.output, job.pk)


def job_cancel(job: Job, user: AbstractBaseUser | AnonymousUser | None = None) -> Job:
    """Cancel a job: pending shards never run, running ones stop at their next heartbeat. Idempotent (a finished
    job is returned as it is, and only the cancel that changed it is recorded in the audit log, with `user`).

    Refused (Conflict) once the job's finish unit has published to its dedup index (see shards._publish_guard).
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        if job.published_at is not None:
            raise Conflict(f"{job} has already published to its dedup index and is completing; "
                           "it can no longer be cancelled")
        job.status = Job.Status.CANCELLED
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "finished_at"])
        audit_record(user, "cancel", job)
        job.shards.filter(status__in=[Shard.Status.PENDING, Shard.Status.RUNNING]).update(
            status=Shard.Status.CANCELLED, lease_owner="", lease_expires_at=None
        )
        dedup_index_release(job)
    return job


def job_delete(job: Job, user: AbstractBaseUser | AnonymousUser | None = None) -> None:
    """Delete a failed or cancelled job: its files under the output folder, then its row, shards and samples.

    Removes only what the job writes there (kept/, removed/, _work/, stats.json, the job's own reservation marker)
    and the folder once empty; anything else in it stays. Raises Conflict for a job that is not failed or
    cancelled (a completed job's output is a result; an unfinished job's is being written). The audit log keeps
    who deleted it. Safe to re-run on files half removed; a deleted job is gone (NotFound for the caller).
    """
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status not in (Job.Status.FAILED, Job.Status.CANCELLED):
            raise Conflict(f"{job} is {job.status}: only failed or cancelled jobs can be deleted")
        job_id, output = job.pk, job.output
        audit_record(user, "delete", job, detail={"output": output, "status": job.status})
        job.delete()
    # After the commit: a job that could not be deleted keeps its files.
    if output:
        _job_files_remove(output, job_id)
    logger.info("deleted job %s and its files under %s", job_id, output)


def _job_files_remove(output: str, job_id: int) -> None:
    """Remove a job's files under its output folder (see job_delete). Idempotent."""
    fs, path = fsspec.core.url_to_fs(output)
    path = path.rstrip("/")
    for name in ("_work", "kept", "removed", "stats.json"):
        target = f"{path}/{name}"
        if fs.exists(target):
            fs.rm(target, recursive=True)
    output_release(output, job_id)
    if fs.exists(path) and fs.isdir(path) and not fs.ls(path):
        fs.rmdir(path)


def job_run_local(job: Job) -> Job:
    """Run every unit of a job in this process, through the same code the workers run (`curate --local`).

    When another job holds the job's dedup index, this waits for it, as a worker would. Safe to re-run: units
    already done are skipped.
    """
    worker = f"local:{worker_name()}"
    with workflows.running_locally():
        while True:
            job.refresh_from_db()
            if job.is_finished:
                return job
            if job.status == Job.Status.PLANNING:
                job_plan(job.pk)
                continue
            shard = job.shards.filter(status=Shard.Status.PENDING).order_by("stage", "index").first()
            if shard is None:
                raise Conflict(f"{job} has no pending shard but is {job.status}")
            shard_execute(shard.pk, worker)
            shard.refresh_from_db()
            if shard.status == Shard.Status.PENDING:  # deferred (another job holds the index) or to be retried
                time.sleep(LOCAL_WAIT_SECONDS)
