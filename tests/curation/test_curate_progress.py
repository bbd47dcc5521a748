"""`curate --wait`'s progress output (curation/management/commands/curate.py): in percent, one line per change
when the output is a file, and no 'no worker' warning while a worker that just started has yet to report."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management.base import OutputWrapper
from django.utils import timezone

from curation.management.commands import curate
from curation.models import Job
from curation.services.jobs import job_run_local, job_submit
from curation.services.workers import worker_heartbeat


def _command() -> tuple[curate.Command, io.StringIO]:
    err = io.StringIO()
    command = curate.Command()
    command.stderr = OutputWrapper(err)
    return command, err


@pytest.fixture
def finished_job(db: None, tmp_path: Path) -> Job:
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"id": "a", "text": "some text"}) + "\n", encoding="utf-8")
    job = job_run_local(job_submit(recipe="extract-only", inputs=[str(path)], output=str(tmp_path / "out")))
    assert job.status == Job.Status.COMPLETED
    return job


def test_progress_to_a_file_is_one_line_per_change_in_percent(finished_job: Job) -> None:
    command, err = _command()

    command._wait_with_lines(finished_job)

    lines = err.getvalue().splitlines()
    assert lines == [f"job {finished_job.pk}: 100% stage {finished_job.stage + 1}/{finished_job.stage_count} "
                     f"read=1 kept=1 completed"]
    assert "‰" not in err.getvalue()


def test_wait_gives_a_starting_worker_time_to_report_before_warning(finished_job: Job,
                                                                    monkeypatch: Any) -> None:
    # given a worker that reports only after the command has started waiting
    calls = {"n": 0}

    def alive() -> bool:
        calls["n"] += 1
        if calls["n"] == 3:
            worker_heartbeat("starting@host", 1, timezone.now())
        return curate_alive()

    from curation import selectors

    curate_alive = selectors.workers_alive
    monkeypatch.setattr(selectors, "workers_alive", alive)
    monkeypatch.setattr(curate, "POLL_SECONDS", 0.01)
    command, err = _command()

    command._wait(finished_job)

    assert "no worker has reported" not in err.getvalue()


def test_wait_warns_when_no_worker_reports_within_the_grace(finished_job: Job, monkeypatch: Any) -> None:
    monkeypatch.setattr(curate, "WORKER_GRACE_SECONDS", 0.05)
    monkeypatch.setattr(curate, "POLL_SECONDS", 0.01)
    command, err = _command()

    command._wait(finished_job)

    assert "no worker has reported" in err.getvalue()
