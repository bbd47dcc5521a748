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
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from core.errors import ApplicationError, Conflict, ValidationError
from core.services import audit_record
from core.validation import max_length_check
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
    max_length_check(JobSchedule, "name", name)
    max_length_check(JobSchedule, "recipe_name", recipe, field="recipe")
    max_length_check(JobSchedule, "output", output)
    if (every_minutes is None) == (crontab is None):
        raise ValidationError(_("give exactly one of every_minutes or crontab"))
    if JobSchedule.objects.filter(name=name).exists():
        raise Conflict(_("a schedule named %(name)r exists already") % {"name": name}, field="name")
    schedule = JobSchedule.objects.create(
        name=name, recipe_name=recipe, inputs=list(inputs), output=output,
        dedup_index=dedup_index_ensure(dedup_index) if dedup_index else None,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    task = PeriodicTask(name=f"curation schedule {schedule.pk}: {name}", task=schedule_fire_task.name,
                        args=json.dumps([schedule.pk]), queue="default")
    _set_timing(task, every_minutes, crontab)
    task.save()
    schedule.periodic_task = task
    schedule.save(update_fields=["periodic_task"])
    audit_record(user, "create", schedule, detail={"recipe": recipe, "output": output})
    return schedule


def _set_timing(task: PeriodicTask, every_minutes: int | None, crontab: str | None) -> None:
    """Give the beat task an interval or a crontab (and drop the other); ValidationError names the field."""
    if every_minutes is not None:
        if every_minutes < 1:
            raise ValidationError(_("every_minutes must be at least 1"), field="every_minutes")
        task.interval, _created = IntervalSchedule.objects.get_or_create(
            every=every_minutes, period=IntervalSchedule.MINUTES
        )
        task.crontab = None
        return
    fields = (crontab or "").split()
    if len(fields) != 5:
        raise ValidationError(
            _("crontab %(crontab)r must have five fields: minute hour day-of-month month day-of-week")
            % {"crontab": crontab},
            field="crontab",
        )
    minute, hour, day_of_month, month, day_of_week = fields
    task.crontab, _created = CrontabSchedule.objects.get_or_create(
        minute=minute, hour=hour, day_of_month=day_of_month, month_of_year=month, day_of_week=day_of_week
    )
    task.interval = None


@transaction.atomic
def schedule_update(
    schedule: JobSchedule,
    *,
    recipe: str,
    inputs: Sequence[str],
    output: str,
    every_minutes: int | None = None,
    crontab: str | None = None,
    dedup_index: str | None = None,
) -> JobSchedule:
    """Change what a schedule runs and when; its name, its past jobs and its paused state stay.

    Checks the recipe and the timing first and changes nothing when either is wrong (ValidationError). Safe to
    re-run with the same values.
    """
    recipe_prepare(recipe)
    max_length_check(JobSchedule, "recipe_name", recipe, field="recipe")
    max_length_check(JobSchedule, "output", output)
    if (every_minutes is None) == (crontab is None):
        raise ValidationError(_("give exactly one of every_minutes or crontab"))
    schedule.recipe_name = recipe
    schedule.inputs = list(inputs)
    schedule.output = output
    schedule.dedup_index = dedup_index_ensure(dedup_index) if dedup_index else None
    schedule.save(update_fields=["recipe_name", "inputs", "output", "dedup_index"])
    task = schedule.periodic_task
    if task is None:
        task = PeriodicTask(name=f"curation schedule {schedule.pk}: {schedule.name}", task=schedule_fire_task.name,
                            args=json.dumps([schedule.pk]), queue="default")
    _set_timing(task, every_minutes, crontab)
    task.save()
    if schedule.periodic_task_id != task.pk:
        schedule.periodic_task = task
        schedule.save(update_fields=["periodic_task"])
    return schedule


@transaction.atomic
def schedule_set_paused(schedule: JobSchedule, paused: bool) -> JobSchedule:
    """Pause or resume a schedule: beat skips a disabled task. Safe to re-run."""
    task = schedule.periodic_task
    if task is None:
        raise Conflict(_("schedule %(name)r has no beat task; edit it to give it a timing") % {"name": schedule.name})
    task.enabled = not paused
    task.save(update_fields=["enabled"])
    return schedule


def schedule_run_now(schedule: JobSchedule) -> None:
    """Fire one run of the schedule now, on a worker, as beat would (paused or not). Every call fires a run."""
    transaction.on_commit(lambda: schedule_fire_task.delay(schedule.pk))


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
def schedule_delete(schedule: JobSchedule, user: AbstractBaseUser | AnonymousUser | None = None) -> None:
    """Delete a schedule and its beat task; the jobs it started stay (their `schedule` becomes empty). The audit
    log records who deleted it."""
    audit_record(user, "delete", schedule)
    if schedule.periodic_task is not None:
        schedule.periodic_task.delete()
    schedule.delete()
