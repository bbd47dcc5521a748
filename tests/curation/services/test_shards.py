"""Shards through the service layer: leases, re-delivery, the reaper, failures, and the stage advance."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from curation.models import Job, Shard
from curation.selectors import job_recipe
from curation.services import shards as shard_services
from curation.services.jobs import job_run_local, job_submit
from curation.services.shards import shard_claim, shard_complete, shard_execute, shards_reap
from curation.steps.base import RecipeError
from curation.steps.pipeline import plan_stages
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


def test_rerunning_a_finished_shard_is_a_no_op(tmp_path: Path) -> None:
    # given a finished job
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": f"text {i}"} for i in range(10)])
    inputs = [str(tmp_path / "a.jsonl")]
    job = job_run_local(job_submit(recipe="extract-only", inputs=inputs, output=str(tmp_path / "o")))
    shard = job.shards.get(stage=0)
    before = (shard.stats, shard.attempts, Path(job.output, "kept/shard-00000.jsonl.zst").stat().st_mtime_ns)
    # when its first shard's task is delivered again
    shard_execute(shard.pk, "another-worker")
    # then nothing changes
    shard.refresh_from_db()
    assert (shard.stats, shard.attempts, Path(job.output, "kept/shard-00000.jsonl.zst").stat().st_mtime_ns) == before


def test_a_live_lease_is_not_taken_by_a_second_worker(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))
    shard = job.shards.get()
    assert shard_claim(shard.pk, "worker-1") is not None
    assert shard_claim(shard.pk, "worker-2") is None
    shard.refresh_from_db()
    assert (shard.status, shard.lease_owner) == (Shard.Status.RUNNING, "worker-1")


def test_reaper_sends_again_a_shard_whose_lease_expired_and_leaves_live_ones(tmp_path: Path) -> None:
    # given two running shards, one of whose workers stopped heartbeating a while ago
    for name in ("a", "b"):
        write_jsonl(tmp_path / f"{name}.jsonl", [{"text": name}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")],
                     output=str(tmp_path / "o"))
    dead, live = job.shards.order_by("index")
    shard_claim(dead.pk, "dead-worker")
    shard_claim(live.pk, "live-worker")
    Shard.objects.filter(pk=dead.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    # when the reaper runs
    sent = shards_reap()
    # then only the dead worker's shard is pending again, and a live worker can claim it
    assert sent == [dead.pk]
    dead.refresh_from_db()
    live.refresh_from_db()
    assert (dead.status, dead.lease_owner) == (Shard.Status.PENDING, "")
    assert (live.status, live.lease_owner) == (Shard.Status.RUNNING, "live-worker")
    assert shard_claim(dead.pk, "new-worker") is not None


def test_a_shard_that_keeps_failing_fails_its_job_with_the_reason(tmp_path: Path, monkeypatch: Any) -> None:
    # given a job whose steps cannot be built on this worker (as when a step plugin is missing here)
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))
    def recipe_without_the_plugin(job: Job) -> Any:
        raise RecipeError("unknown step 'from_a_plugin'")

    monkeypatch.setattr(shard_services, "job_recipe", recipe_without_the_plugin)
    # when the job runs
    job = job_run_local(job)
    # then each attempt was counted, and the job failed with a one-line reason naming the problem
    shard = job.shards.get()
    assert (job.status, shard.status, shard.attempts) == (Job.Status.FAILED, Shard.Status.FAILED, 3)
    assert "unknown step 'from_a_plugin'" in job.error


# The last shard of a stage starts the next stage exactly once, even when shards finish at the same moment.
@pytest.mark.django_db(transaction=True)
def test_two_shards_finishing_together_start_the_next_stage_once(tmp_path: Path, monkeypatch: Any) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises all writers anyway)")
    # given a two-shard job whose shards are both running
    for name in ("a", "b"):
        write_jsonl(tmp_path / f"{name}.jsonl", [{"text": name}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")],
                     output=str(tmp_path / "o"))
    shards = list(job.shards.order_by("index"))
    for shard, worker in zip(shards, ("w1", "w2"), strict=True):
        assert shard_claim(shard.pk, worker) is not None
    started: list[int] = []
    original = shard_services._start_stage
    barrier = threading.Barrier(2)

    def counting_start_stage(job: Any, stage: int) -> None:
        started.append(stage)
        original(job, stage)

    monkeypatch.setattr(shard_services, "_start_stage", counting_start_stage)
    plan = plan_stages(job_recipe(job))[0]

    def finish(shard: Shard, worker: str) -> None:
        barrier.wait()
        try:
            shard_complete(shard.pk, worker, plan, {"steps": []})
        finally:
            connection.close()

    # when both complete at the same moment
    threads = [threading.Thread(target=finish, args=(s, w)) for s, w in zip(shards, ("w1", "w2"), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then the next stage was started once, with one unit
    assert started == [1]
    assert job.shards.filter(stage=1).count() == 1
    assert set(job.shards.filter(stage=0).values_list("status", flat=True)) == {Shard.Status.DONE}
