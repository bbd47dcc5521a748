"""What-if recounts, recipe versions saved from them, and re-applying a version to a job's stored signals."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from core.errors import Conflict, ValidationError
from curation.models import Job
from curation.selectors import job_recipe
from curation.steps.base import Filter, RecipeError, step_class
from curation.steps.recipe import Recipe, StepSpec, parse_recipe
from loop.models import FilterAudit, RecipeVersion
from loop.reapply import DestinationNotEmpty, reapply
from loop.services.audits import audit_labels_by_document
from loop.services.tables import signal_table_ensure
from loop.signal_table import WhatIf, whatif


def step_position(job: Job, step: str | int) -> int:
    """The recipe position of a signal-based step named (or numbered) `step`; ValidationError otherwise."""
    recipe = job_recipe(job)
    if isinstance(step, int) or str(step).isdigit():
        position = int(step)
        if not 0 <= position < len(recipe.steps):
            raise ValidationError(f"the recipe has no step at position {position}", field="step")
    else:
        matches = [p for p, spec in enumerate(recipe.steps) if spec.name == step]
        if not matches:
            raise ValidationError(f"the recipe has no step {step!r}", field="step")
        position = matches[0]
    if not issubclass(step_class(recipe.steps[position].name), Filter):
        raise ValidationError(f"step {recipe.steps[position].name!r} does not decide from signals "
                              "(only filters can be re-tuned)", field="step")
    return position


def parse_value(text: str) -> Any:
    """A parameter value as typed on a command line or form: YAML scalars (0.5, null, true, [1, 2])."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ValidationError(f"bad value {text!r}", field="params") from error


def whatif_run(job: Job, step: str | int, changes: Mapping[str, Any], audit: FilterAudit | None = None) -> WhatIf:
    """Recount `step` and the job with `changes` to the step's parameters, from stored signals; change nothing."""
    if job.status != Job.Status.COMPLETED:
        raise ValidationError(f"job {job.pk} is {job.status}; what-ifs need a completed job", field="job")
    position = step_position(job, step)
    table = signal_table_ensure(job)
    if audit is None:
        audit = FilterAudit.objects.filter(job=job).order_by("-created_at").first()
    labels = audit_labels_by_document(audit) if audit is not None else None
    try:
        return whatif(table, job_recipe(job), position, changes, labels=labels)
    except (RecipeError, ValueError) as error:
        raise ValidationError(str(error), field="params") from error


def _recipe_with(recipe: Recipe, position: int, changes: Mapping[str, Any]) -> Recipe:
    steps = list(recipe.steps)
    steps[position] = StepSpec(steps[position].name, {**dict(steps[position].params), **dict(changes)})
    return recipe.with_steps(tuple(steps))


def recipe_version_save(job: Job, step: str | int, changes: Mapping[str, Any],
                        user: AbstractBaseUser | None = None) -> RecipeVersion:
    """Store the job's recipe with `changes` to one step as the job's next recipe version; return it.

    The new recipe is checked by building every step (a refused parameter is a ValidationError). Not
    idempotent: each call stores a new version.
    """
    position = step_position(job, step)
    if not changes:
        raise ValidationError("no parameter changed", field="params")
    recipe = _recipe_with(job_recipe(job), position, changes)
    try:
        recipe.build()
    except RecipeError as error:
        raise ValidationError(str(error), field="params") from error
    for _attempt in range(3):
        try:
            with transaction.atomic():
                latest = RecipeVersion.objects.filter(job=job).aggregate(n=Max("version"))["n"] or 0
                return RecipeVersion.objects.create(
                    job=job, version=latest + 1, recipe_name=recipe.name, recipe_yaml=recipe.source_yaml,
                    position=position, step=recipe.steps[position].name, changes=dict(changes), created_by=user)
        except IntegrityError:
            continue  # another save took the number: take the next one
    raise Conflict("recipe versions are being saved concurrently; try again")


def recipe_version_apply(version: RecipeVersion, output: str | None = None) -> RecipeVersion:
    """Re-decide the job's outputs under `version` into a new folder (default `<job output>/v<version>`).

    Writes the new folder (loop.reapply) and records it with its stats on the version. Refuses a folder that
    already holds outputs (Conflict).
    """
    job = version.job
    if job.status != Job.Status.COMPLETED:
        raise ValidationError(f"job {job.pk} is {job.status}", field="job")
    recipe = parse_recipe(version.recipe_yaml, version.recipe_name, validate=False)
    dest = output or f"{job.output.rstrip('/')}/v{version.version}"
    try:
        stats = reapply(recipe, version.position, job.output, dest)
    except DestinationNotEmpty as error:
        raise Conflict(str(error)) from error
    version.applied_output = dest
    version.applied_stats = stats
    version.applied_at = timezone.now()
    version.save(update_fields=["applied_output", "applied_stats", "applied_at"])
    return version
