"""Shards that never end or kill their worker, the lease heartbeat under database errors, cancel during finish."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from core.errors import Conflict
from curation.models import Job, Shard
from curation.services import shards as shard_services
from curation.services.jobs import job_cancel, job_run_local, job_submit
from curation.services.shards import _lease_heartbeat, shard_claim, shards_reap
from curation.steps.dedup.index import index_summary
from curation.tasks import shard_run_task
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


def test_a_shard_that_kills_its_worker_is_started_at_most_max_attempts_times(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a shard whose every worker dies mid-run (its lease expires, the reaper sends it again)
    monkeypatch.setattr("curation.workflows.queued_shard_messages", lambda: 0)
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))
    shard = job.shards.get()
    claims = 0
    for attempt in range(shard_services.MAX_SHARD_ATTEMPTS + 2):
        if shard_claim(shard.pk, f"doomed-{attempt}") is None:
            break
        claims += 1
        Shard.objects.filter(pk=shard.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
        shards_reap()
    # then it was started MAX_SHARD_ATTEMPTS times, and the next claim failed the job with the reason
    assert claims == shard_services.MAX_SHARD_ATTEMPTS
    job.refresh_from_db()
    shard.refresh_from_db()
    assert (job.status, shard.status) == (Job.Status.FAILED, Shard.Status.FAILED)
    assert "never finished" in job.error


def test_the_shard_task_has_a_time_limit_from_settings(settings: Any) -> None:
    assert shard_run_task.soft_time_limit == settings.SHARD_TIME_LIMIT_SECONDS
    assert shard_run_task.time_limit is not None and shard_run_task.time_limit > shard_run_task.soft_time_limit


def _fast_leases(settings: Any, monkeypatch: pytest.MonkeyPatch, lease_seconds: int) -> None:
    settings.SHARD_LEASE_SECONDS = lease_seconds
    monkeypatch.setattr(shard_services, "RENEW_RETRY_SECONDS", 0.05)


def test_the_lease_heartbeat_retries_after_database_errors(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a database that fails the first two renewals, then recovers
    _fast_leases(settings, monkeypatch, lease_seconds=3)  # renew every second
    calls: list[str] = []

    def flaky_renew(shard_id: int, worker: str) -> datetime:
        calls.append("call")
        if len(calls) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        return timezone.now() + timedelta(seconds=3)

    monkeypatch.setattr(shard_services, "shard_lease_renew", flaky_renew)
    # when a shard runs long enough for several renewals
    with _lease_heartbeat(1, "worker-1") as stop:
        finished_early = stop.wait(2.5)
    # then the heartbeat kept going after the errors and the shard was never told to stop
    assert not finished_early
    assert len(calls) >= 4


def test_the_lease_heartbeat_stops_the_shard_once_its_lease_deadline_passes(
        settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a database that stays down
    _fast_leases(settings, monkeypatch, lease_seconds=2)
    calls: list[str] = []

    def broken_renew(shard_id: int, worker: str) -> datetime:
        calls.append("call")
        raise OperationalError("could not connect to server")

    monkeypatch.setattr(shard_services, "shard_lease_renew", broken_renew)
    # when the shard keeps running, then it is told to stop (another worker may take it over now)
    with _lease_heartbeat(1, "worker-1") as stop:
        assert stop.wait(30)
    assert len(calls) > 1


def test_persistent_database_connections_are_health_checked(settings: Any) -> None:
    if connection.vendor == "sqlite":
        pytest.skip("the embedded SQLite default opens a connection per request")
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


DEDUP_RECIPE = "name: d\nsteps:\n  - extract: {}\n  - exact_dedup: {}\n"


def test_a_cancel_during_the_finish_stage_never_publishes_to_the_dedup_index(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a dedup job on a named index whose finish unit is running when an engineer cancels the job
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": f"document {i % 3}"} for i in range(9)])
    job = job_submit(recipe=DEDUP_RECIPE, inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"),
                     dedup_index="web")
    real_job_stats = shard_services.job_stats

    def cancelled_meanwhile(job: Job, recipe: Any = None) -> dict[str, Any]:
        stats = real_job_stats(job, recipe)
        job_cancel(job)  # lands after the finish unit was claimed, before it publishes
        return stats

    monkeypatch.setattr(shard_services, "job_stats", cancelled_meanwhile)
    # when the job runs to its end
    job = job_run_local(job)
    # then it is cancelled and the index holds nothing of it
    assert job.status == Job.Status.CANCELLED
    assert index_summary(job.dedup_index.root)["jobs"] == []


def test_a_cancel_after_the_job_published_is_refused(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, published_at=timezone.now())
    with pytest.raises(Conflict, match="already published"):
        job_cancel(job)


def test_a_dedup_job_left_alone_publishes_once(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": f"document {i % 3}"} for i in range(9)])
    job = job_run_local(job_submit(recipe=DEDUP_RECIPE, inputs=[str(tmp_path / "a.jsonl")],
                                   output=str(tmp_path / "o"), dedup_index="web"))
    assert job.status == Job.Status.COMPLETED, job.error
    assert job.published_at is not None
    assert index_summary(job.dedup_index.root)["jobs"] == [job.pk]

