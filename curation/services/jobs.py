"""Jobs: validate and submit a recipe over inputs, cancel a job, or run all of it in this process.

A job is split into stages of units (shards); `curation.services.shards` runs and advances them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import fsspec
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, ValidationError
from curation import workflows
from curation.models import Job, JobSchedule, Shard
from curation.services.dedup_indexes import dedup_index_ensure, dedup_index_release
from curation.services.shards import shard_execute
from curation.services.workers import worker_name
from curation.steps.base import RecipeError
from curation.steps.pipeline import plan_stages
from curation.steps.quality_classifier import resolve_model_dir
from curation.steps.readers import InputError, ReaderOptions, plan_splits
from curation.steps.recipe import Recipe, StepSpec, load_recipe, parse_recipe

logger = logging.getLogger(__name__)

LOCAL_WAIT_SECONDS = 1.0


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
        raise Conflict(f"output folder {output} already exists and is not empty", field="output")


def _reader_options(recipe: Recipe, overrides: dict[str, Any] | None) -> ReaderOptions:
    options = {**recipe.reader, **(overrides or {})}
    try:
        return ReaderOptions(**options)
    except (TypeError, ValueError) as error:
        raise ValidationError(f"bad reader options {options}: {error}") from error


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

    Changes nothing. Raises ValidationError with a one-line reason for an unknown recipe, step or parameter, or a
    missing model.
    """
    try:
        if "\n" in recipe:
            parsed = parse_recipe(recipe, "custom", validate=False)
        else:
            parsed = load_recipe(recipe, validate=False)
        parsed = _configure_models(parsed)
        parsed.build()
    except (RecipeError, OSError) as error:
        raise ValidationError(str(error).splitlines()[0], field="recipe") from error
    return parsed


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
    """Validate everything, create the job and its first-stage shards, and send them to the workers on commit.

    A bad recipe or a missing input raises ValidationError, an occupied output folder Conflict, before any work
    starts (nothing is written then). Each call creates a new job.
    """
    parsed = recipe_prepare(recipe)
    if not inputs:
        raise ValidationError("no input given", field="inputs")
    options = _reader_options(parsed, reader_overrides)
    try:
        splits = plan_splits(list(inputs), options, target_bytes=settings.SHARD_TARGET_BYTES)
    except InputError as error:
        raise ValidationError(str(error), field="inputs") from error
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

    When another job holds the job's dedup index, this waits for it, as a worker would. Safe to re-run: units
    already done are skipped.
    """
    worker = f"local:{worker_name()}"
    with workflows.running_locally():
        while True:
            job.refresh_from_db()
            if job.is_finished:
                return job
            shard = job.shards.filter(status=Shard.Status.PENDING).order_by("stage", "index").first()
            if shard is None:
                raise Conflict(f"{job} has no pending shard but is {job.status}")
            shard_execute(shard.pk, worker)
            shard.refresh_from_db()
            if shard.status == Shard.Status.PENDING:  # deferred (another job holds the index) or to be retried
                time.sleep(LOCAL_WAIT_SECONDS)
