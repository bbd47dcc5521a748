"""Deduplication through the job engine: within a job, and incrementally across jobs via a named index."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from curation.models import DedupIndex, Job, Shard
from curation.selectors import dedup_index_summary
from curation.services.dedup_indexes import dedup_index_delete
from curation.services.jobs import job_run_local, job_submit
from curation.services.shards import shard_execute
from curation.workflows import running_locally
from tests.fixtures.jobs import write_jsonl
from tests.support.job_outputs import outputs

pytestmark = pytest.mark.django_db

WORDS = ("river harbour council budget school garden winter market railway museum doctor village festival "
         "engine library student theatre farmer bridge orchestra").split()


def article(seed: int, length: int = 120) -> str:
    """Distinct prose-like text: words chosen by a hash chain, so two seeds share few 5-word shingles."""
    words = []
    state = hashlib.sha256(str(seed).encode()).digest()
    while len(words) < length:
        state = hashlib.sha256(state).digest()
        words.extend(WORDS[b % len(WORDS)] for b in state[:8])
    return " ".join(words[:length]) + "."


def edited(text: str) -> str:
    words = text.split()
    words[10] = "zebra"
    return " ".join(words)


def test_dedup_only_removes_exact_and_near_copies_across_shards(tmp_path: Path) -> None:
    # given two files: originals in one, an exact copy and an edited copy of two of them in the other
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": article(i)} for i in range(20)])
    write_jsonl(tmp_path / "b.jsonl", [{"id": "exact", "text": article(3)}, {"id": "near", "text": edited(article(7))},
                                       {"id": "new", "text": article(100)}, {"id": "blank", "text": "  "}])
    # when dedup-only runs
    job = job_run_local(job_submit(recipe="dedup-only", inputs=[str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl")],
                                   output=str(tmp_path / "out")))
    # then the copies are removed naming what they duplicate, and the empty text is dropped as empty
    assert job.status == Job.Status.COMPLETED, job.error
    removed = {d["id"]: d for d in outputs(job.output, "removed")}
    assert set(removed) == {"exact", "near", "blank"}
    assert (removed["exact"]["reason"], removed["exact"]["signals"]["duplicate_of"]) == ("exact_duplicate", "a3")
    assert (removed["near"]["reason"], removed["near"]["signals"]["duplicate_of"]) == ("near_duplicate", "a7")
    assert removed["blank"]["reason"] == "empty"
    kept = {d["id"]: d for d in outputs(job.output, "kept")}
    assert len(kept) == 21 and kept["a7"]["signals"]["cluster_size"] == 2
    stats = json.loads(Path(job.output, "stats.json").read_text())
    assert stats["documents"] == {"read": 24, "kept": 21, "removed": 3}


def test_second_job_drops_what_the_first_job_kept_without_reopening_it(tmp_path: Path) -> None:
    # given job A, deduplicated into the "news" index
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": article(i)} for i in range(10)])
    job_a = job_run_local(job_submit(recipe="dedup-only", inputs=[str(tmp_path / "a.jsonl")],
                                     output=str(tmp_path / "A"), dedup_index="news"))
    a_files = {p: p.read_bytes() for p in Path(job_a.output).rglob("*") if p.is_file()}
    # when job B, with copies of two of A's documents and new ones, runs against the same index
    write_jsonl(tmp_path / "b.jsonl", [{"id": "copy", "text": article(2)}, {"id": "near", "text": edited(article(5))},
                                       {"id": "b-new", "text": article(50)}])
    job_b = job_run_local(job_submit(recipe="dedup-only", inputs=[str(tmp_path / "b.jsonl")],
                                     output=str(tmp_path / "B"), dedup_index="news"))
    # then B removed the copies as duplicates of A's documents and kept the new one
    removed = {d["id"]: d["signals"]["duplicate_of"] for d in outputs(job_b.output, "removed")}
    assert removed == {"copy": "a2", "near": "a5"}
    assert [d["id"] for d in outputs(job_b.output, "kept")] == ["b-new"]
    # and A's outputs were not touched
    assert {p: p.read_bytes() for p in Path(job_a.output).rglob("*") if p.is_file()} == a_files
    # and the index knows both jobs' kept documents
    summary = dedup_index_summary(DedupIndex.objects.get(name="news"))
    assert summary["jobs"] == sorted([job_a.pk, job_b.pk])
    # ("near", which B's exact_dedup kept but its minhash_dedup removed, is in neither part of the index)
    assert (summary["kinds"]["exact"]["documents"], summary["kinds"]["minhash"]["documents"]) == (11, 11)


def test_without_an_index_a_rerun_deduplicates_within_itself_only(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": article(i)} for i in range(5)])
    inputs = [str(tmp_path / "a.jsonl")]
    first = job_run_local(job_submit(recipe="dedup-only", inputs=inputs, output=str(tmp_path / "1")))
    second = job_run_local(job_submit(recipe="dedup-only", inputs=inputs, output=str(tmp_path / "2")))
    assert outputs(first.output, "kept") == outputs(second.output, "kept")
    assert len(outputs(second.output, "kept")) == 5


def test_index_can_be_listed_shown_and_deleted(tmp_path: Path, capsys: Any) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": article(i)} for i in range(5)])
    job_run_local(job_submit(recipe="dedup-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "1"),
                             dedup_index="crawl-2026"))
    call_command("dedup_index", "list")
    assert "crawl-2026" in capsys.readouterr().out
    call_command("dedup_index", "show", "crawl-2026")
    shown = json.loads(capsys.readouterr().out)
    assert shown["name"] == "crawl-2026" and shown["documents"] >= 5
    root = DedupIndex.objects.get(name="crawl-2026").root
    dedup_index_delete(DedupIndex.objects.get(name="crawl-2026"))
    assert not DedupIndex.objects.filter(name="crawl-2026").exists()
    assert not Path(root).exists()


def test_concurrent_jobs_on_one_index_decide_one_after_the_other(tmp_path: Path) -> None:
    # given jobs A and B on the same index, B holding copies of A's documents, both submitted before either ran
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": article(i)} for i in range(6)])
    write_jsonl(tmp_path / "b.jsonl", [{"id": "copy", "text": article(4)}, {"id": "b-new", "text": article(60)}])
    job_a = job_submit(recipe="dedup-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "A"),
                       dedup_index="shared")
    job_b = job_submit(recipe="dedup-only", inputs=[str(tmp_path / "b.jsonl")], output=str(tmp_path / "B"),
                       dedup_index="shared")
    # when A has made its first dedup decision (it now holds the index) and B reaches its own
    with running_locally():
        for stage in (0, 1):
            for shard in job_a.shards.filter(stage=stage):
                shard_execute(shard.pk, "worker-a")
        shard_execute(job_b.shards.get(stage=0).pk, "worker-b")
        b_reduce = job_b.shards.filter(stage=1).order_by("index").first()  # a partition of its first reduce
        assert b_reduce is not None
        shard_execute(b_reduce.pk, "worker-b")
    # then B's decision waits (its reduce is back to pending, no attempt counted) while A holds the index
    b_reduce.refresh_from_db()
    assert (b_reduce.status, b_reduce.attempts) == (Shard.Status.PENDING, 0)
    assert DedupIndex.objects.get(name="shared").holder_id == job_a.pk
    # and once A has finished, B runs and removes the copy of A's document
    job_a = job_run_local(job_a)
    assert DedupIndex.objects.get(name="shared").holder_id is None
    job_b = job_run_local(job_b)
    assert job_b.status == Job.Status.COMPLETED, job_b.error
    assert {d["id"]: d["signals"]["duplicate_of"] for d in outputs(job_b.output, "removed")} == {"copy": "a4"}
    assert DedupIndex.objects.get(name="shared").holder_id is None


def test_a_document_removed_after_dedup_is_not_published_to_the_index(tmp_path: Path) -> None:
    # given job A, where a step after deduplication removes one of the documents dedup kept
    prose = ("The river rose in the night and the people of the town went up to the hills with their animals. "
             "By morning the water had reached the steps of the church, and the baker was rowing his boat down the "
             "main street with bread for the families who had stayed. ") * 2
    write_jsonl(tmp_path / "a.jsonl", [{"id": "kept", "text": prose}, {"id": "short", "text": "Too short."}])
    recipe = "name: r\nsteps:\n  - exact_dedup: {}\n  - minhash_dedup: {}\n  - gopher_quality: {}\n"
    job_a = job_run_local(job_submit(recipe=recipe, inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "A"),
                                     dedup_index="later"))
    assert [d["id"] for d in outputs(job_a.output, "removed")] == ["short"]
    # when job B holds a copy of each
    write_jsonl(tmp_path / "b.jsonl", [{"id": "b-kept", "text": prose}, {"id": "b-short", "text": "Too short."}])
    job_b = job_run_local(job_submit(recipe="dedup-only", inputs=[str(tmp_path / "b.jsonl")],
                                     output=str(tmp_path / "B"), dedup_index="later"))
    # then only the copy of what A kept is a duplicate: A's removed document never entered the index
    assert {d["id"]: d["signals"]["duplicate_of"] for d in outputs(job_b.output, "removed")} == {"b-kept": "kept"}
    assert [d["id"] for d in outputs(job_b.output, "kept")] == ["b-short"]
