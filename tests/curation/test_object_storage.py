"""Jobs whose outputs and dedup index live behind an fsspec URL rather than a local folder.

fsspec's in-memory filesystem stands in for an object store (s3:// in production): the same code paths
(url_to_fs, temporary name then move, listing) run, with no local path anywhere in the output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fsspec
import pytest

from curation.models import Job
from curation.services.jobs import job_run_local, job_submit
from curation.steps.writers import read_jsonl_zst
from tests.curation.test_dedup_jobs import article
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def memory_store(settings: Any) -> Any:
    fs = fsspec.filesystem("memory")
    fs.store.clear()
    settings.STORAGE_ROOT = "memory://store"
    yield fs
    fs.store.clear()


def test_job_output_and_dedup_index_in_object_storage(memory_store: Any, tmp_path: Path) -> None:
    # given an input with one exact copy, and an output URL in the store
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": article(i)} for i in range(4)]
                + [{"id": "copy", "text": article(1)}])
    # when dedup-only runs into the store, adding to a named index
    job = job_run_local(job_submit(recipe="dedup-only", inputs=[str(tmp_path / "a.jsonl")],
                                   output="memory://store/jobs/first", dedup_index="web"))
    # then the outputs, stats and index are all in the store
    assert job.status == Job.Status.COMPLETED, job.error
    kept = list(read_jsonl_zst("memory://store/jobs/first/kept/shard-00000.jsonl.zst"))
    assert [d["id"] for d in kept] == ["a0", "a1", "a2", "a3"]
    stats = json.loads(memory_store.cat("/store/jobs/first/stats.json"))
    assert stats["documents"] == {"read": 5, "kept": 4, "removed": 1}
    assert memory_store.exists("/store/dedup-index/web")
    assert not memory_store.glob("/store/jobs/first/**/*.tmp-*")
    # and a second job, reading its input from the store too, deduplicates against that index
    memory_store.pipe("/store/crawl/b.jsonl", (json.dumps({"id": "again", "text": article(2)}) + "\n").encode())
    second = job_run_local(job_submit(recipe="dedup-only", inputs=["memory://store/crawl/b.jsonl"],
                                      output="memory://store/jobs/second", dedup_index="web"))
    removed = list(read_jsonl_zst("memory://store/jobs/second/removed/shard-00000-m1.jsonl.zst"))
    assert [(d["id"], d["signals"]["duplicate_of"]) for d in removed] == [("again", "a2")]
    assert second.status == Job.Status.COMPLETED
