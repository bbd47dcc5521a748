"""Reads of the loop app: access guards and what the audit page and API show."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeAlias

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import can_curate
from annotation.models import Project
from core.errors import NotFound, PermissionDenied
from curation.models import Job
from curation.selectors import job_recipe
from curation.steps.base import Filter, step_class
from loop.models import FilterAudit, RecipeVersion

User: TypeAlias = AbstractBaseUser | AnonymousUser


def access_job_for_audit(user: User, job_id: int) -> Job:
    """The job, if the user may curate (audit, re-tune) it; NotFound otherwise (annotators never see jobs)."""
    if not can_curate(user):
        raise NotFound("no such job")
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound("no such job")
    return job


def access_audit_by_id(user: User, audit_id: int) -> FilterAudit:
    if not can_curate(user):
        raise NotFound("no such audit")
    audit = FilterAudit.objects.select_related("job", "project").filter(pk=audit_id).first()
    if audit is None:
        raise NotFound("no such audit")
    return audit


def access_recipe_version_by_id(user: User, version_id: int) -> RecipeVersion:
    if not can_curate(user):
        raise NotFound("no such recipe version")
    version = RecipeVersion.objects.select_related("job").filter(pk=version_id).first()
    if version is None:
        raise NotFound("no such recipe version")
    return version


def access_label_project_for_training(user: User, project_id: int) -> Project:
    """A label project whose labels may train the quality classifier: data engineers and admins only."""
    if not can_curate(user):
        raise PermissionDenied("only data engineers may train the quality classifier")
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFound("no such project")
    return project


def tunable_steps(job: Job) -> list[dict[str, Any]]:
    """The job's signal-based steps and their numeric thresholds (current values), for the what-if controls."""
    recipe = job_recipe(job)
    steps = []
    for position, spec in enumerate(recipe.steps):
        cls = step_class(spec.name)
        if not issubclass(cls, Filter):
            continue
        defaults = cls.Params.__dataclass_fields__
        params = []
        for name, field in defaults.items():
            if name in ("max_chars", "batch_size", "per_language", "model"):
                continue
            value = spec.params.get(name, field.default if field.default is not dataclasses.MISSING else None)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            kind = "int" if isinstance(value, int) else "float"
            upper = 1.0 if kind == "float" and value <= 1.0 else max(10.0, float(value) * 3)
            params.append({"name": name, "value": value, "kind": kind, "min": 0, "max": upper,
                           "step": 1 if kind == "int" else round(upper / 1000, 6)})
        steps.append({"position": position, "step": spec.name, "params": params})
    return steps


def job_audits(job: Job) -> list[FilterAudit]:
    return list(FilterAudit.objects.filter(job=job).select_related("project").order_by("-created_at"))


def job_recipe_versions(job: Job) -> list[RecipeVersion]:
    return list(RecipeVersion.objects.filter(job=job).order_by("-version"))


def audit_as_dict(audit: FilterAudit) -> dict[str, Any]:
    return {
        "id": audit.pk, "job": audit.job_id, "project": audit.project_id, "steps": audit.steps, "seed": audit.seed,
        "half_width": audit.half_width, "labels": audit.labels, "good_labels": audit.good_labels,
        "strata": audit.strata, "samples": audit.samples.count(), "results": audit.results,
        "results_at": audit.results_at.isoformat() if audit.results_at else None,
        "created_at": audit.created_at.isoformat(),
    }


def recipe_version_as_dict(version: RecipeVersion) -> dict[str, Any]:
    return {
        "id": version.pk, "job": version.job_id, "version": version.version, "recipe": version.recipe_name,
        "step": version.step, "position": version.position, "changes": version.changes,
        "recipe_yaml": version.recipe_yaml, "applied_output": version.applied_output or None,
        "applied_stats": version.applied_stats or None,
        "applied_at": version.applied_at.isoformat() if version.applied_at else None,
    }
