"""Jobs on real Celery workers: completion, and recovery when a worker is killed with SIGKILL mid-job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import zstandard
from django.core.management import call_command

import tests.support.slow_step  # noqa: F401  (registers test_slow_passthrough in this process too)
from curation.models import Job, Shard
from curation.services.jobs import job_run_local, job_submit
from tests.curation.test_dedup_jobs import article, edited
from tests.fixtures.jobs import write_jsonl
from tests.fixtures.workers import wait_for

pytestmark = pytest.mark.integration

SLOW_RECIPE = """
name: slow-extract
steps:
  - extract: {}
  - test_slow_passthrough: {seconds_per_doc: 0.04}
"""


def kept_documents(output: str) -> list[tuple[str, str]]:
    docs = []
    for path in sorted(Path(output, "kept").glob("*.jsonl.zst")):
        with path.open("rb") as raw:
            for line in zstandard.ZstdDecompressor().stream_reader(raw).read().decode().splitlines():
                record: dict[str, Any] = json.loads(line)
                docs.append((record["id"], record["text"]))
    return sorted(docs)


def test_job_runs_to_completion_on_a_worker(celery_workers: Any, jsonl_files: Any, tmp_path: Path) -> None:
    # given a worker and a three-shard job
    worker = celery_workers("solo")
    inputs = [str(p) for p in jsonl_files(files=3, per_file=40)]
    # when the job is submitted
    job = job_submit(recipe="extract-only", inputs=inputs, output=str(tmp_path / "out"))
    # then the worker completes it and its output holds every document once
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, 90, "the job to finish", [worker])
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED, job.error
    assert len(kept_documents(job.output)) == 120
    stats = json.loads(Path(job.output, "stats.json").read_text())
    assert stats["documents"] == {"read": 120, "kept": 120, "removed": 0}


def test_killed_worker_shards_are_taken_over_and_output_equals_a_clean_run(
    celery_workers: Any, jsonl_files: Any, tmp_path: Path
) -> None:
    # given a clean run's output of a six-shard job
    inputs = [str(p) for p in jsonl_files(files=6, per_file=60)]
    clean = job_run_local(job_submit(recipe=SLOW_RECIPE, inputs=inputs, output=str(tmp_path / "clean")))
    assert clean.status == Job.Status.COMPLETED
    expected = kept_documents(clean.output)
    # and the same job running on worker A
    worker_a = celery_workers("a")
    job = job_submit(recipe=SLOW_RECIPE, inputs=inputs, output=str(tmp_path / "out"))
    wait_for(
        lambda: job.shards.filter(status=Shard.Status.DONE).exists()
        and job.shards.filter(status=Shard.Status.RUNNING).exists(),
        90, "worker A to finish one shard and start another", [worker_a],
    )
    killed = job.shards.get(status=Shard.Status.RUNNING)
    # when worker A dies mid-shard and worker B starts
    worker_a.kill_hard()
    worker_b = celery_workers("b")
    # then B takes the dead lease over and the job completes
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, 120, "the job to finish on worker B", [worker_a, worker_b])
    job.refresh_from_db()
    assert job.status == Job.Status.COMPLETED, job.error
    killed.refresh_from_db()
    assert killed.attempts >= 2
    # and its kept output equals the clean run's: same ids and texts, nothing missing or duplicated
    got = kept_documents(job.output)
    assert got == expected
    assert len({doc_id for doc_id, _ in got}) == len(got) == 360
    # and no temporary file was left behind by the killed shard
    assert not list(Path(job.output).rglob("*.tmp-*"))


def test_dedup_only_on_workers_equals_the_local_run(celery_workers: Any, tmp_path: Path) -> None:
    # given two shards that share exact and near copies across them
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": article(i)} for i in range(30)])
    write_jsonl(tmp_path / "b.jsonl", [{"id": f"b{i}", "text": edited(article(i)) if i % 3 else article(i)}
                                       for i in range(0, 60, 2)])
    inputs = [str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")]
    local = job_run_local(job_submit(recipe="dedup-only", inputs=inputs, output=str(tmp_path / "local")))
    # when the same job runs on two workers
    workers = [celery_workers("d1"), celery_workers("d2")]
    job = job_submit(recipe="dedup-only", inputs=inputs, output=str(tmp_path / "workers"))
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, 120, "the dedup job to finish", workers)
    job.refresh_from_db()
    # then it completed with the same kept documents as the in-process run, and removed the 15 copies
    assert job.status == Job.Status.COMPLETED, job.error
    assert kept_documents(job.output) == kept_documents(local.output)
    assert job.stats["documents"]["removed"] == 15


def test_curate_wait_follows_the_job_on_a_worker_and_exits_zero(
    celery_workers: Any, jsonl_files: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    worker = celery_workers("cli")
    inputs = [str(p) for p in jsonl_files(files=2, per_file=10)]
    call_command("curate", "--recipe", "extract-only", "--input", *inputs, "--output", str(tmp_path / "out"), "--wait")
    out = capsys.readouterr().out
    assert "completed: 20 read, 20 kept, 0 removed" in out, worker.log.read_text()[-2000:]
