"""Reads for the console, the API and the CLI: job progress, the funnel, samples. No writes here."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, ExpressionWrapper, F, IntegerField, Q, QuerySet, Sum
from django.http import Http404

from accounts.roles import can_curate
from curation.models import DocumentSample, Job, JobSchedule, Shard
from curation.services import job_recipe, job_stats
from curation.steps.pipeline import plan_stages


def access_job_by_id(user: AbstractBaseUser | AnonymousUser, job_id: int) -> Job:
    """The job, if this user may see it; 404 otherwise (annotators never see curation jobs)."""
    if not can_curate(user):
        raise Http404("no such job")
    job = Job.objects.select_related("dedup_index", "created_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("no such job")
    return job


def jobs_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Job]:
    if not can_curate(user):
        return Job.objects.none()
    return Job.objects.select_related("dedup_index", "created_by").order_by("-id")


def job_progress(job: Job) -> dict[str, Any]:
    """Where the job stands: units per stage by status, documents so far, and the per-step funnel."""
    plans = plan_stages(job_recipe(job))
    counts: dict[int, dict[str, int]] = {}
    for row in job.shards.values("stage", "status").annotate(n=Count("id")):
        counts.setdefault(row["stage"], {})[row["status"]] = row["n"]
    stages = []
    for stage, plan in enumerate(plans):
        by_status = counts.get(stage, {})
        total = job.shard_count if plan.kind == Shard.Kind.MAP else 1
        stages.append({
            "stage": stage,
            "kind": plan.kind,
            "total": total,
            "done": by_status.get(Shard.Status.DONE, 0),
            "running": by_status.get(Shard.Status.RUNNING, 0),
            "pending": by_status.get(Shard.Status.PENDING, 0),
            "failed": by_status.get(Shard.Status.FAILED, 0),
        })
    units_total = sum(s["total"] for s in stages)
    units_done = sum(s["done"] for s in stages)
    stats = job.stats if job.stats else job_stats(job)
    funnel = [{"name": "read", "docs_in": stats["read"]["docs"], "kept": stats["read"]["docs"]}]
    funnel += [{"name": s["name"], "docs_in": s["docs_in"], "kept": s["kept"], "removed": s["removed"]}
               for s in stats["steps"]]
    return {
        "id": job.pk,
        "status": job.status,
        "error": job.error,
        "stage": job.stage,
        "stage_count": job.stage_count,
        "fraction_done": units_done / units_total if units_total else 0.0,
        "stages": stages,
        "documents": stats["documents"],
        "errors_by_kind": stats["errors_by_kind"],
        "read_errors": stats["read"]["errors"],
        "funnel": funnel,
    }


def job_samples(job: Job, *, kept: bool | None = None, reason: str | None = None) -> QuerySet[DocumentSample]:
    samples = job.samples.all()
    if kept is not None:
        samples = samples.filter(kept=kept)
    if reason:
        samples = samples.filter(reason=reason)
    return samples.order_by("kept", "removed_by", "reason", "shard_index", "id")


def job_removal_reasons(job: Job) -> list[dict[str, Any]]:
    """Removed sample counts per (step, reason), for the console's filter."""
    return list(
        job.samples.filter(kept=False).values("removed_by", "reason").annotate(n=Count("id")).order_by("-n")
    )


def jobs_overview(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Job]:
    """The jobs this user may see, annotated for the console's list in one query.

    `units_done` / `units_total` give the progress of `job_progress` without building recipes: a job has
    `stage_count` = 2K+2 stages (K+1 map stages of `shard_count` units, K reduce units and one finish unit;
    see `plan_stages`), so (K+1) * (shard_count + 1) units in all. `docs_read` counts the first map stage's input,
    `docs_kept` the last map stage's output (as `job_stats` does).
    """
    map_shards = Q(shards__kind=Shard.Kind.MAP, shards__status=Shard.Status.DONE)
    return jobs_visible_to(user).annotate(
        units_done=Count("shards", filter=Q(shards__status=Shard.Status.DONE)),
        units_total=ExpressionWrapper(F("stage_count") / 2 * (F("shard_count") + 1), output_field=IntegerField()),
        docs_read=Sum("shards__docs_in", filter=map_shards & Q(shards__stage=0), default=0),
        docs_kept=Sum("shards__docs_kept", filter=map_shards & Q(shards__stage=F("stage_count") - 2), default=0),
    )


def schedules_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[JobSchedule]:
    """Job schedules with their beat timing and run count; none for users who may not curate."""
    if not can_curate(user):
        return JobSchedule.objects.none()
    return (
        JobSchedule.objects.select_related("dedup_index", "periodic_task__interval", "periodic_task__crontab")
        .annotate(job_count=Count("jobs"))
        .order_by("name")
    )


def access_schedule_by_id(user: AbstractBaseUser | AnonymousUser, schedule_id: int) -> JobSchedule:
    """The schedule, if this user may manage it; 404 otherwise."""
    if not can_curate(user):
        raise Http404("no such schedule")
    schedule = JobSchedule.objects.select_related("periodic_task").filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404("no such schedule")
    return schedule
