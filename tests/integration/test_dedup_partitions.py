"""A dedup job whose reduce is split into partitions, run by two real Celery workers, against an earlier job in a
persistent index: the same decisions and clusters as one partition in one process, and later jobs see it."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from curation.models import Job, Shard
from curation.services.jobs import job_run_local, job_submit
from curation.steps.pipeline import JobLayout
from tests.fixtures.jobs import write_jsonl
from tests.fixtures.workers import wait_for
from tests.support import planted_dedup as planting
from tests.support.dedup_jobs import decisions
from tests.support.job_outputs import outputs

pytestmark = pytest.mark.integration

PARTITIONS = 5


def _planted(seed: int, count: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    originals = planting.compose_documents(planting.synthetic_paragraphs(rng, 600), count, rng, target_bytes=1200)
    return [dict(doc) for doc in planting.plant(originals, rng).docs]


def _clusters(job: Job) -> list[dict[str, Any]]:
    """Every step's clusters, with job ids written as "self" or "earlier" (the two runs' job ids differ)."""
    rows = []
    for position, name in ((0, "exact_dedup"), (1, "minhash_dedup")):
        work_dir = JobLayout(job.output).step_work_dir(position, name)
        for row in pq.read_table(f"{work_dir}/clusters.parquet").to_pylist():
            row["member_job"] = "self" if row["member_job"] == job.pk else "earlier"
            rows.append({"step": name, **row})
    return rows


def _summaries(job: Job) -> list[dict[str, Any]]:
    """Each dedup step's summary, without the job ids that differ between the two runs."""
    return [{key: value for key, value in summary.items() if key not in ("job_id", "index_jobs")}
            for summary in job.stats["global_steps"]]


def _outcome(job: Job) -> dict[str, tuple[Any, ...]]:
    return decisions(outputs(job.output, "kept"), outputs(job.output, "removed"), job.pk)


def test_a_partitioned_reduce_on_two_workers_decides_as_one_partition_in_process(
    celery_workers: Any, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an earlier job's documents, and a later job in three files holding near and exact copies of its own
    # documents and of the earlier job's
    earlier = _planted(1, 120)
    later = _planted(2, 150) + [{**doc, "id": f"again-{doc['id']}"} for doc in earlier[::3]]
    random.Random(3).shuffle(later)
    write_jsonl(tmp_path / "earlier.jsonl", earlier)
    inputs = [str(write_jsonl(tmp_path / f"later-{i}.jsonl", later[i::3])) for i in range(3)]
    # and two indexes holding the earlier job, one to decide in process, one on the workers
    settings.DEDUP_REDUCE_PARTITIONS = 1
    for name in ("single", "spread"):
        first = job_run_local(job_submit(recipe="dedup-only", inputs=[str(tmp_path / "earlier.jsonl")],
                                         output=str(tmp_path / f"earlier-{name}"), dedup_index=name))
        assert first.status == Job.Status.COMPLETED, first.error
    single = job_run_local(job_submit(recipe="dedup-only", inputs=inputs, output=str(tmp_path / "single"),
                                      dedup_index="single"))
    assert single.status == Job.Status.COMPLETED, single.error

    # when the later job runs on two worker processes, each reduce split into five partitions
    monkeypatch.setenv("DEDUP_REDUCE_PARTITIONS", str(PARTITIONS))
    settings.DEDUP_REDUCE_PARTITIONS = PARTITIONS
    workers = [celery_workers("p1"), celery_workers("p2")]
    spread = job_submit(recipe="dedup-only", inputs=inputs, output=str(tmp_path / "spread"), dedup_index="spread")
    wait_for(lambda: Job.objects.get(pk=spread.pk).is_finished, 180, "the partitioned job to finish", workers)
    spread.refresh_from_db()

    # then it completed through five partition units per dedup step
    assert spread.status == Job.Status.COMPLETED, spread.error
    partition_units = spread.shards.filter(kind=Shard.Kind.REDUCE).exclude(index=-1)
    assert partition_units.count() == 2 * PARTITIONS
    assert set(partition_units.values_list("status", flat=True)) == {Shard.Status.DONE}
    # and every document's decision (kept or removed, by which step, duplicate of what, in which cluster) and
    # every cluster are those of the single partition run in process
    outcome = _outcome(spread)
    assert outcome == _outcome(single)
    assert _clusters(spread) == _clusters(single)
    assert any(value[0] == "removed" and value[4] == "earlier" for value in outcome.values())
    assert any(value[0] == "removed" and value[4] == "self" for value in outcome.values())
    assert _summaries(spread) == _summaries(single)

    # and a later job on the same index sees what the partitioned job kept
    kept = outputs(spread.output, "kept")
    write_jsonl(tmp_path / "third.jsonl", [{"id": f"third-{doc['id']}", "text": doc["text"]} for doc in kept[:20]])
    # (on the workers: a local run would race them for the units its submit sends them)
    third = job_submit(recipe="dedup-only", inputs=[str(tmp_path / "third.jsonl")], output=str(tmp_path / "third"),
                       dedup_index="spread")
    wait_for(lambda: Job.objects.get(pk=third.pk).is_finished, 180, "the third job to finish", workers)
    third.refresh_from_db()
    assert third.status == Job.Status.COMPLETED, third.error
    removed = outputs(third.output, "removed")
    assert {doc["signals"]["duplicate_of_job"] for doc in removed} == {spread.pk}
    assert len(removed) == 20


SLOW_RECIPE = """
name: slow-dedup
steps:
  - exact_dedup: {}
  - test_slow_minhash_dedup: {partition_seconds: 2.0}
"""


def test_a_worker_killed_in_a_reduce_partition_is_taken_over_and_decisions_equal_a_clean_run(
    celery_workers: Any, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a clean in-process run of a job whose MinHash reduce partitions are slow
    import tests.support.slow_step  # noqa: F401  (registers test_slow_minhash_dedup in this process too)

    docs = _planted(4, 80)
    inputs = [str(write_jsonl(tmp_path / f"in-{i}.jsonl", docs[i::2])) for i in range(2)]
    settings.DEDUP_REDUCE_PARTITIONS = 1
    clean = job_run_local(job_submit(recipe=SLOW_RECIPE, inputs=inputs, output=str(tmp_path / "clean")))
    assert clean.status == Job.Status.COMPLETED, clean.error
    # and the same job on worker A, its MinHash reduce in three partitions
    monkeypatch.setenv("DEDUP_REDUCE_PARTITIONS", "3")
    settings.DEDUP_REDUCE_PARTITIONS = 3
    worker_a = celery_workers("a")
    job = job_submit(recipe=SLOW_RECIPE, inputs=inputs, output=str(tmp_path / "out"))
    minhash_partitions = 4  # stages: map, exact partitions, exact merge, map, MinHash partitions
    wait_for(lambda: job.shards.filter(stage=minhash_partitions, status=Shard.Status.RUNNING).exists(),
             120, "worker A to start a MinHash reduce partition", [worker_a])
    killed = job.shards.get(stage=minhash_partitions, status=Shard.Status.RUNNING)

    # when worker A dies in the middle of that partition and worker B starts
    worker_a.kill_hard()
    worker_b = celery_workers("b")

    # then B takes the partition over and the job completes
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, 180, "the job to finish on worker B",
             [worker_a, worker_b])
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED, job.error
    killed.refresh_from_db()
    assert killed.attempts >= 2
    # and every document's decision is the clean run's, with no temporary file left behind
    assert _outcome(job) == _outcome(clean)
    assert not list(Path(job.output).rglob("*.tmp-*"))
