"""The last shard of a stage starts the next stage exactly once, even when shards finish at the same moment."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from curation import services
from curation.models import Shard
from curation.services import job_submit, shard_claim, shard_complete
from curation.steps.pipeline import plan_stages
from tests.fixtures.jobs import write_jsonl


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
    for shard, worker in zip(shards, ("w1", "w2")):
        assert shard_claim(shard.pk, worker) is not None
    started: list[int] = []
    original = services._start_stage
    barrier = threading.Barrier(2)

    def counting_start_stage(job: Any, stage: int) -> None:
        started.append(stage)
        original(job, stage)

    monkeypatch.setattr(services, "_start_stage", counting_start_stage)
    plan = plan_stages(services.job_recipe(job))[0]

    def finish(shard: Shard, worker: str) -> None:
        barrier.wait()
        try:
            shard_complete(shard.pk, worker, plan, {"steps": []})
        finally:
            connection.close()

    # when both complete at the same moment
    threads = [threading.Thread(target=finish, args=(s, w)) for s, w in zip(shards, ("w1", "w2"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then the next stage was started once, with one unit
    assert started == [1]
    assert job.shards.filter(stage=1).count() == 1
    assert set(job.shards.filter(stage=0).values_list("status", flat=True)) == {Shard.Status.DONE}
