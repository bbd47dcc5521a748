"""Big submits are planned by a task; progress counters are kept on the job instead of summed over shards."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from curation.models import Job
from curation.selectors import jobs_overview
from curation.services.jobs import job_cancel, job_plan, job_run_local, job_submit
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


def test_a_folder_submit_is_planned_by_a_task_not_in_the_request(tmp_path: Path) -> None:
    # given a folder of inputs
    folder = tmp_path / "crawl"
    folder.mkdir()
    for name in ("a", "b", "c"):
        write_jsonl(folder / f"{name}.jsonl", [{"text": name}])
    # when it is submitted, then the request walks nothing: the job waits in "planning" without shards
    job = job_submit(recipe="extract-only", inputs=[str(folder)], output=str(tmp_path / "o"))
    assert (job.status, job.shard_count, job.shards.count()) == (Job.Status.PLANNING, 0, 0)
    # and once the planning task has run, its shards are there and it runs to completion
    job_plan(job.pk)
    job.refresh_from_db()
    assert (job.status, job.shard_count, job.shards.count()) == (Job.Status.PENDING, 3, 3)
    job_plan(job.pk)  # a duplicate message changes nothing
    assert job.shards.count() == 3
    assert job_run_local(job).status == Job.Status.COMPLETED


def test_many_files_are_planned_by_a_task_too(tmp_path: Path, settings: Any) -> None:
    settings.CURATION_PLAN_INLINE_FILES = 2
    paths = [write_jsonl(tmp_path / f"{i}.jsonl", [{"text": str(i)}]) for i in range(3)]
    job = job_submit(recipe="extract-only", inputs=[str(p) for p in paths], output=str(tmp_path / "o"))
    assert job.status == Job.Status.PLANNING


def test_a_planning_job_that_cannot_be_planned_fails_with_the_reason_and_frees_its_output(tmp_path: Path) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    (folder / "notes.txt").write_text("no supported files here")
    job = job_submit(recipe="extract-only", inputs=[str(folder)], output=str(tmp_path / "o"))
    job_plan(job.pk)
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "no supported input files" in job.error
    assert not (tmp_path / "o").exists()


def test_a_planning_job_can_be_cancelled_and_is_then_never_planned(tmp_path: Path) -> None:
    folder = tmp_path / "crawl"
    folder.mkdir()
    write_jsonl(folder / "a.jsonl", [{"text": "a"}])
    job = job_cancel(job_submit(recipe="extract-only", inputs=[str(folder)], output=str(tmp_path / "o")))
    job_plan(job.pk)
    assert not job.shards.exists()


def test_the_job_list_reads_counters_kept_on_the_job(tmp_path: Path, engineer: Any) -> None:
    # given a finished job with one global step (map, reduce partitions, merge, map, finish) that removed two
    # documents
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": f"text {i % 3}"} for i in range(5)])
    job = job_run_local(job_submit(recipe="name: d\nsteps:\n  - extract: {}\n  - exact_dedup: {}\n",
                                   inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o")))
    assert job.status == Job.Status.COMPLETED, job.error
    # then the job's own counters say what its stats say
    assert (job.docs_read, job.docs_kept, job.docs_removed) == (5, 3, 2)
    units = 2 + settings.DEDUP_REDUCE_PARTITIONS + 1 + 1
    assert job.units_done == job.shards.count() == units
    # and the console's list gets them without a join over shards
    overview = jobs_overview(engineer)
    assert "curation_shard" not in str(overview.query)
    row = overview.get(pk=job.pk)
    assert (row.units_done, row.units_total, row.docs_read, row.docs_kept) == (units, units, 5, 3)
