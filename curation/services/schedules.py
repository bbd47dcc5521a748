"""Schedules: repeat a recipe on a schedule, through django-celery-beat's database scheduler.

Beat fires `schedule_fire_task` (curation/tasks.py) with the schedule's id; each run submits a new job into its
own run-<timestamp> folder. A run that cannot start is recorded on the schedule (`last_error`), which the
console's schedules page shows.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from core.errors import ApplicationError, Conflict, ValidationError
from curation.models import Job, JobSchedule
from curation.services.dedup_indexes import dedup_index_ensure
from curation.services.jobs import job_submit, recipe_prepare
from curation.tasks import schedule_fire_task

logger = logging.getLogger(__name__)

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
    user: AbstractBaseUser | AnonymousUser | None = None,
) -> JobSchedule:
    """Create a schedule that submits the recipe every N minutes or on a crontab ("m h dom mon dow").

    Creates the schedule and its beat task together, or neither (ValidationError, Conflict).
    """
    recipe_prepare(recipe)
    if (every_minutes is None) == (crontab is None):
        raise ValidationError("give exactly one of every_minutes or crontab")
    if JobSchedule.objects.filter(name=name).exists():
        raise Conflict(f"a schedule named {name!r} exists already", field="name")
    schedule = JobSchedule.objects.create(
        name=name, recipe_name=recipe, inputs=list(inputs), output=output,
        dedup_index=dedup_index_ensure(dedup_index) if dedup_index else None,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    task = PeriodicTask(name=f"curation schedule {schedule.pk}: {name}", task=schedule_fire_task.name,
                        args=json.dumps([schedule.pk]), queue="default")
    if every_minutes is not None:
        if every_minutes < 1:
            raise ValidationError("every_minutes must be at least 1", field="every_minutes")
        task.interval, _ = IntervalSchedule.objects.get_or_create(every=every_minutes, period=IntervalSchedule.MINUTES)
    else:
        fields = (crontab or "").split()
        if len(fields) != 5:
            raise ValidationError(
                f"crontab {crontab!r} must have five fields: minute hour day-of-month month day-of-week",
                field="crontab",
            )
        minute, hour, day_of_month, month, day_of_week = fields
        task.crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month, day_of_week=day_of_week
        )
    task.save()
    schedule.periodic_task = task
    schedule.save(update_fields=["periodic_task"])
    return schedule


def schedule_fire(schedule_id: int) -> Job | None:
    """Submit one run of a schedule into OUTPUT/run-<UTC timestamp>; record the outcome on the schedule.

    Sets `last_fired_at`; `last_error` gets the reason when the run could not start (then None is returned) and is
    cleared when it could. Any other error is recorded too and raised again, for the worker's log. Every call
    submits a new run.
    """
    schedule = JobSchedule.objects.select_related("dedup_index", "created_by").get(pk=schedule_id)
    now = timezone.now()
    schedule.last_fired_at = now
    try:
        job = job_submit(
            recipe=schedule.recipe_name, inputs=schedule.inputs,
            output=f"{schedule.output.rstrip('/')}/run-{now.strftime('%Y%m%dT%H%M%SZ')}",
            dedup_index=schedule.dedup_index.name if schedule.dedup_index else None, schedule=schedule,
            user=schedule.created_by,
        )
    except ApplicationError as error:
        logger.warning("schedule %s could not start a run: %s", schedule, error)
        schedule.last_error = str(error)[:5000]
        schedule.save(update_fields=["last_fired_at", "last_error"])
        return None
    except Exception as error:
        schedule.last_error = f"{type(error).__name__}: {error}"[:5000]
        schedule.save(update_fields=["last_fired_at", "last_error"])
        raise
    schedule.last_error = ""
    schedule.save(update_fields=["last_fired_at", "last_error"])
    return job


@transaction.atomic
def schedule_delete(schedule: JobSchedule) -> None:
    """Delete a schedule and its beat task; the jobs it started stay (their `schedule` becomes empty)."""
    if schedule.periodic_task is not None:
        schedule.periodic_task.delete()
    schedule.delete()
