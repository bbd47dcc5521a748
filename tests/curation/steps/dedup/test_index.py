"""The persistent dedup index: layout, summary, deleting a job or the whole index, half-published jobs."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from curation.steps.dedup.index import (
    SubIndex,
    index_delete,
    index_delete_job,
    index_jobs,
    index_list,
    index_summary,
    job_key,
)
from tests.support.dedup_jobs import kept_ids, run_job


def _docs(seed: int, count: int, prefix: str) -> list[dict]:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [
        {"id": f"{prefix}{i}", "text": " ".join("".join(rng.choice(letters) for _ in range(6)) for _ in range(120))}
        for i in range(count)
    ]


def test_index_is_partitioned_by_band_with_one_file_per_job(tmp_path: Path) -> None:
    index = tmp_path / "indexes" / "news"
    run_job(_docs(1, 8, "a"), tmp_path / "job1", job_id=1, index_root=index)
    run_job(_docs(2, 4, "b"), tmp_path / "job2", job_id=2, index_root=index)
    assert (index / "minhash" / "MANIFEST.json").is_file()
    assert sorted(p.name for p in (index / "minhash" / "band=00").iterdir()) == [
        f"{job_key(1)}.parquet",
        f"{job_key(2)}.parquet",
    ]
    assert len(list((index / "minhash").glob("band=*"))) == 21
    assert len(list((index / "exact").glob("part=*"))) == 16
    summary = index_summary(str(index))
    assert summary["jobs"] == [1, 2]
    assert summary["documents"] == 12
    assert summary["kinds"]["minhash"]["jobs"][0]["documents"] == 8
    assert summary["kinds"]["minhash"]["manifest"]["bands"] == 21
    assert summary["bytes"] > 0
    assert index_list(str(tmp_path / "indexes")) == ["news"]


def test_deleting_a_job_stops_it_from_deduplicating_later_jobs(tmp_path: Path) -> None:
    index = tmp_path / "index"
    docs = _docs(3, 6, "a")
    run_job(docs, tmp_path / "job1", job_id=1, index_root=index)
    copies = [dict(doc, id=f"copy-{doc['id']}") for doc in docs]
    assert kept_ids(run_job(copies, tmp_path / "job2", job_id=2, index_root=index)) == set()
    index_delete_job(str(index), 1)
    index_delete_job(str(index), 1)  # safe to repeat
    assert index_jobs(str(index)) == [2]  # job 2 kept nothing but committed (an empty contribution)
    assert not any(job_key(1) in path.name for path in index.rglob("*"))
    assert len(kept_ids(run_job(copies, tmp_path / "job3", job_id=3, index_root=index))) == 6


def test_a_job_without_its_marker_is_invisible(tmp_path: Path) -> None:
    index = tmp_path / "index"
    docs = _docs(4, 5, "a")
    run_job(docs, tmp_path / "job1", job_id=1, index_root=index)
    # Simulate a job that crashed while publishing: its files are there, its marker is not.
    for kind in ("exact", "minhash"):
        (index / kind / "jobs" / f"{job_key(1)}.json").unlink()
    assert SubIndex(str(index), "minhash").committed_jobs() == []
    copies = [dict(doc, id=f"copy-{doc['id']}") for doc in docs]
    assert len(kept_ids(run_job(copies, tmp_path / "job2", job_id=2, index_root=index))) == 5


def test_deleting_the_index_removes_everything_and_is_safe_to_repeat(tmp_path: Path) -> None:
    index = tmp_path / "index"
    run_job(_docs(5, 3, "a"), tmp_path / "job1", job_id=1, index_root=index)
    index_delete(str(index))
    index_delete(str(index))
    assert not index.exists()
    summary = index_summary(str(index))
    assert summary["exists"] is False and summary["documents"] == 0 and summary["jobs"] == []


def test_index_on_an_fsspec_memory_filesystem(tmp_path: Path) -> None:
    # Any fsspec URL works for the index (object stores in production); memory:// stands in for one here.
    docs = _docs(6, 4, "a")
    run_job(docs, tmp_path / "job1", job_id=1, index_root="memory://dedup-test/index")
    try:
        summary = index_summary("memory://dedup-test/index")
        assert summary["jobs"] == [1] and summary["documents"] == 4
        copies = [dict(doc, id=f"copy-{doc['id']}") for doc in docs]
        run = run_job(copies, tmp_path / "job2", job_id=2, index_root="memory://dedup-test/index")
        assert kept_ids(run) == set()
    finally:
        index_delete("memory://dedup-test/index")
    shutil.rmtree(tmp_path, ignore_errors=True)
