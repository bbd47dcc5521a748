"""Schedules: a run that cannot start is recorded on the schedule; the next good run clears the record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from curation.models import Job, JobSchedule
from curation.services.schedules import schedule_create, schedule_fire
from curation.tasks import schedule_fire_task
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def schedule(tmp_path: Path, engineer: Any) -> JobSchedule:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    return schedule_create(name="nightly", recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")],
                           output=str(tmp_path / "runs"), crontab="0 3 * * *", user=engineer)


def test_a_run_whose_input_is_gone_records_why_on_the_schedule(schedule: JobSchedule, tmp_path: Path) -> None:
    # given a schedule whose input file was removed since it was created
    (tmp_path / "a.jsonl").unlink()
    before = timezone.now()
    # when beat fires it
    job = schedule_fire(schedule.pk)
    # then no job started, and the schedule says when it fired and why nothing ran
    assert job is None
    assert not Job.objects.exists()
    schedule.refresh_from_db()
    assert schedule.last_fired_at is not None and schedule.last_fired_at >= before
    assert "a.jsonl" in schedule.last_error and "\n" not in schedule.last_error


def test_a_good_run_clears_the_last_error(schedule: JobSchedule) -> None:
    # given a schedule whose last run failed
    JobSchedule.objects.filter(pk=schedule.pk).update(last_error="input gone")
    # when it fires and the run starts
    job = schedule_fire(schedule.pk)
    # then the job belongs to the schedule, and the error is gone
    assert job is not None and job.schedule_id == schedule.pk
    schedule.refresh_from_db()
    assert schedule.last_error == ""
    assert schedule.last_fired_at is not None


def test_the_task_reports_a_run_that_could_not_start_without_failing(schedule: JobSchedule, tmp_path: Path) -> None:
    # the worker runs the task body; a refused run is an outcome, not an exception for Celery to retry
    (tmp_path / "a.jsonl").unlink()
    assert schedule_fire_task.run(schedule.pk) is None
    schedule.refresh_from_db()
    assert schedule.last_error


def test_beat_fires_the_task_that_curation_registers(schedule: JobSchedule) -> None:
    assert schedule.periodic_task is not None
    assert schedule.periodic_task.task == schedule_fire_task.name
