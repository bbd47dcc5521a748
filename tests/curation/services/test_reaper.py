"""The reaper under a backlog: tens of thousands of queued shards on PostgreSQL.

A queued shard is not lost because it is old; lost messages are sent again in capped batches picked with
SKIP LOCKED, so other jobs keep progressing and a cancel lands while the reaper runs. Times are measured and
printed (run with -s to see them), never asserted.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from curation import workflows
from curation.models import Job, Shard
from curation.selectors import job_recipe
from curation.services.jobs import job_cancel, job_submit
from curation.services.shards import shard_claim, shard_complete, shards_reap
from curation.steps.pipeline import ShardResult, plan_stages
from tests.fixtures.jobs import write_jsonl

BACKLOG = 30_000
BATCH = 200


def _backlog_job(tmp_path: Path, shards: int) -> Job:
    """A job with `shards` pending first-stage shards, all sent long ago (bulk-created: planning is not tested)."""
    write_jsonl(tmp_path / "big.jsonl", [{"text": "x"}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "big.jsonl")], output=str(tmp_path / "big"))
    long_ago = timezone.now() - timedelta(hours=3)
    split = job.shards.get().input_split
    Shard.objects.bulk_create(
        (Shard(job=job, stage=0, index=i, kind=Shard.Kind.MAP, input_split=split, enqueued_at=long_ago)
         for i in range(1, shards)), batch_size=5000)
    Shard.objects.filter(job=job).update(enqueued_at=long_ago)
    Job.objects.filter(pk=job.pk).update(shard_count=shards)
    return Job.objects.get(pk=job.pk)


@pytest.fixture
def postgres() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SKIP LOCKED and concurrent row locks need PostgreSQL")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """Record what would be sent to the broker instead of sending it."""
    batches: list[list[int]] = []
    monkeypatch.setattr(workflows, "enqueue_shards", lambda ids, countdown=None: batches.append(list(ids)))
    return batches


@pytest.mark.django_db
def test_queued_shards_are_not_lost_because_they_are_old(postgres: None, tmp_path: Path, settings: Any,
                                                         sent: list[list[int]],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    # given 30,000 shards queued three hours ago, whose messages still wait in the broker
    settings.SHARD_REAP_BATCH = BATCH
    _backlog_job(tmp_path, BACKLOG)
    sent.clear()
    monkeypatch.setattr(workflows, "queued_shard_messages", lambda: BACKLOG)
    # when the reaper runs, then it sends nothing again
    assert shards_reap() == []
    assert sent == []


@pytest.mark.django_db
def test_lost_messages_are_sent_again_in_capped_batches_longest_waiting_first(
        postgres: None, tmp_path: Path, settings: Any, sent: list[list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given 30,000 pending shards and an empty shard queue (their messages were lost)
    settings.SHARD_REAP_BATCH = BATCH
    job = _backlog_job(tmp_path, BACKLOG)
    first = list(job.shards.order_by("pk").values_list("pk", flat=True)[:BATCH])
    Shard.objects.filter(pk__in=first).update(enqueued_at=timezone.now() - timedelta(hours=4))
    monkeypatch.setattr(workflows, "queued_shard_messages", lambda: 0)
    # when the reaper runs twice
    one, two = shards_reap(), shards_reap()
    # then each pass touched at most its cap, the longest-waiting first, and never the same shard twice
    assert len(one) == len(two) == BATCH
    assert sorted(one) == first
    assert not set(one) & set(two)
    assert Shard.objects.filter(job=job, enqueued_at__gt=timezone.now() - timedelta(minutes=1)).count() == 2 * BATCH


@pytest.mark.django_db(transaction=True)
def test_a_reaper_running_through_a_backlog_lets_other_jobs_progress_and_a_cancel_land(
        postgres: None, tmp_path: Path, settings: Any, sent: list[list[int]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # given a job with 30,000 queued shards, another small job, and the reaper re-sending without pause (the
    # worst case: an empty queue, so every pass picks a batch of lost shards)
    settings.SHARD_REAP_BATCH = BATCH
    big = _backlog_job(tmp_path, BACKLOG)
    write_jsonl(tmp_path / "small.jsonl", [{"text": "small"}])
    small = job_submit(recipe="extract-only", inputs=[str(tmp_path / "small.jsonl")], output=str(tmp_path / "s"))
    monkeypatch.setattr(workflows, "queued_shard_messages", lambda: 0)
    stop = threading.Event()
    passes: list[int] = []

    def reaper() -> None:
        try:
            while not stop.is_set():
                passes.append(len(shards_reap(timezone.now() + timedelta(hours=1))))
        finally:
            connection.close()

    thread = threading.Thread(target=reaper)
    thread.start()
    try:
        while len(passes) < 3:
            time.sleep(0.01)
        # when the small job's shard runs and completes, and the big job is cancelled, while the reaper works
        started = time.perf_counter()
        shard = small.shards.get()
        assert shard_claim(shard.pk, "worker-small") is not None
        plan = plan_stages(job_recipe(small))[0]
        result = ShardResult(map_stage=0, steps=[], read={"docs": 1, "bytes": 5, "errors": {}}, docs_in=1,
                             docs_kept=1, docs_removed=0, kept_samples=[], removed_samples=[], seconds=0.0)
        shard_complete(shard.pk, "worker-small", plan, result)
        progressed = time.perf_counter() - started
        started = time.perf_counter()
        job_cancel(big)
        cancelled = time.perf_counter() - started
    finally:
        stop.set()
        thread.join()
    # then the small job moved on to its next stage, the cancel landed on every shard, and no pass of the
    # reaper touched more than its cap
    assert Job.objects.get(pk=small.pk).units_done == 1
    assert Shard.objects.filter(job=small, stage=1).exists()
    assert Job.objects.get(pk=big.pk).status == Job.Status.CANCELLED
    assert not Shard.objects.filter(job=big, status=Shard.Status.PENDING).exists()
    assert passes and max(passes) <= BATCH
    print(f"\nreaper: {len(passes)} passes over {BACKLOG} queued shards (at most {max(passes)} each); "
          f"another job's shard completed in {progressed:.3f} s; the cancel of {BACKLOG} shards took "
          f"{cancelled:.3f} s")
