"""Repeating a recipe on a schedule, through django-celery-beat's database scheduler."""

from __future__ import annotations

import json
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from curation.models import Job, JobSchedule
from curation.services import JobError, dedup_index_ensure, job_submit, recipe_prepare


@transaction.atomic
def schedule_create(
    *,
    name: str,
    recipe: str,
    inputs: Sequence[str],
    output: str,
    every_minutes: int | None = None,
    crontab: str | None = None,
    dedup_index: str | None = None,
    user: AbstractBaseUser | None = None,
) -> JobSchedule:
    """Create a schedule that submits the recipe every N minutes or on a crontab ("m h dom mon dow")."""
    recipe_prepare(recipe)
    if (every_minutes is None) == (crontab is None):
        raise JobError("give exactly one of every_minutes or crontab")
    if JobSchedule.objects.filter(name=name).exists():
        raise JobError(f"a schedule named {name!r} exists already")
    schedule = JobSchedule.objects.create(
        name=name, recipe_name=recipe, inputs=list(inputs), output=output,
        dedup_index=dedup_index_ensure(dedup_index) if dedup_index else None,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    task = PeriodicTask(name=f"curation schedule {schedule.pk}: {name}", task="curation.schedule_fire",
                        args=json.dumps([schedule.pk]), queue="default")
    if every_minutes is not None:
        if every_minutes < 1:
            raise JobError("every_minutes must be at least 1")
        task.interval, _ = IntervalSchedule.objects.get_or_create(every=every_minutes, period=IntervalSchedule.MINUTES)
    else:
        fields = (crontab or "").split()
        if len(fields) != 5:
            raise JobError(f"crontab {crontab!r} must have five fields: minute hour day-of-month month day-of-week")
        minute, hour, day_of_month, month, day_of_week = fields
        task.crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month, day_of_week=day_of_week
        )
    task.save()
    schedule.periodic_task = task
    schedule.save(update_fields=["periodic_task"])
    return schedule


def schedule_fire(schedule_id: int) -> Job:
    """Submit one run of a schedule into OUTPUT/run-<UTC timestamp>."""
    schedule = JobSchedule.objects.select_related("dedup_index").get(pk=schedule_id)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    return job_submit(
        recipe=schedule.recipe_name, inputs=schedule.inputs, output=f"{schedule.output.rstrip('/')}/run-{stamp}",
        dedup_index=schedule.dedup_index.name if schedule.dedup_index else None, schedule=schedule,
        user=schedule.created_by,
    )


@transaction.atomic
def schedule_delete(schedule: JobSchedule) -> None:
    if schedule.periodic_task is not None:
        schedule.periodic_task.delete()
    schedule.delete()
