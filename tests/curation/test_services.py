"""Jobs through the service layer, run in-process (`curate --local` path): stages, outputs, stats, errors."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import zstandard
from django.utils import timezone

import tests.support.global_step  # noqa: F401  (registers test_first_occurrence)
from curation.models import Job, Shard
from curation.services import (
    JobError,
    job_cancel,
    job_run_local,
    job_submit,
    shard_claim,
    shard_execute,
    shards_reap,
)
from curation.steps.base import RecipeError
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db

DEDUP_RECIPE = """
name: first-occurrence
steps:
  - extract: {}
  - test_first_occurrence: {}
"""


def read_zst_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open("rb") as raw:
        text = zstandard.ZstdDecompressor().stream_reader(raw).read().decode()
    return [json.loads(line) for line in text.splitlines()]


def outputs(output: str, kind: str) -> list[dict[str, Any]]:
    return [doc for path in sorted(Path(output, kind).glob("*.jsonl.zst")) for doc in read_zst_jsonl(path)]


def test_global_step_runs_as_collect_reduce_apply_across_shards(tmp_path: Path) -> None:
    # given three files where file 2 repeats two texts of file 0
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": f"text {i}"} for i in range(5)])
    write_jsonl(tmp_path / "b.jsonl", [{"id": f"b{i}", "text": f"other {i}"} for i in range(5)])
    write_jsonl(tmp_path / "c.jsonl", [{"id": "c0", "text": "text 1"}, {"id": "c1", "text": "text 3"},
                                       {"id": "c2", "text": "new"}])
    inputs = [str(tmp_path / n) for n in ("a.jsonl", "b.jsonl", "c.jsonl")]
    # when the job runs
    job = job_run_local(job_submit(recipe=DEDUP_RECIPE, inputs=inputs, output=str(tmp_path / "out")))
    # then it went through map, reduce, map, finish and removed exactly the repeats, naming the original
    assert job.status == Job.Status.COMPLETED, job.error
    assert list(job.shards.values_list("stage", "kind").distinct().order_by("stage")) == [
        (0, "map"), (1, "reduce"), (2, "map"), (3, "finish")]
    kept_ids = sorted(d["id"] for d in outputs(job.output, "kept"))
    assert kept_ids == sorted([f"a{i}" for i in range(5)] + [f"b{i}" for i in range(5)] + ["c2"])
    removed = {d["id"]: d for d in outputs(job.output, "removed")}
    assert set(removed) == {"c0", "c1"}
    assert removed["c0"]["removed_by"] == "test_first_occurrence"
    assert removed["c0"]["signals"]["duplicate_of"] == "a1"
    # and stats.json counts every step, and the intermediate documents are gone
    stats = json.loads(Path(job.output, "stats.json").read_text())
    assert stats["documents"] == {"read": 13, "kept": 11, "removed": 2}
    assert [s["name"] for s in stats["steps"]] == ["extract", "test_first_occurrence"]
    assert stats["steps"][1]["removed"] == {"duplicate": 2}
    assert not Path(job.output, "_work", "docs").exists()


def test_same_input_twice_gives_identical_output(tmp_path: Path) -> None:
    # given one input
    write_jsonl(tmp_path / "a.jsonl", [{"text": f"text {i % 7}"} for i in range(30)])
    # when two jobs run it
    first = job_run_local(job_submit(recipe=DEDUP_RECIPE, inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "1")))
    second = job_run_local(job_submit(recipe=DEDUP_RECIPE, inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "2")))
    # then ids are stable and the kept files are byte-identical
    assert outputs(first.output, "kept") == outputs(second.output, "kept")
    assert len(outputs(first.output, "kept")) == 7
    assert Path(first.output, "kept/shard-00000.jsonl.zst").read_bytes() == Path(
        second.output, "kept/shard-00000.jsonl.zst").read_bytes()


def test_rerunning_a_finished_shard_is_a_no_op(tmp_path: Path) -> None:
    # given a finished job
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": f"text {i}"} for i in range(10)])
    job = job_run_local(job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o")))
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


@pytest.mark.parametrize(
    ("recipe", "inputs", "message"),
    [
        ("no-such-recipe", ["{tmp}/a.jsonl"], "unknown recipe 'no-such-recipe'"),
        ("name: x\nsteps:\n  - no_such_step: {}\n", ["{tmp}/a.jsonl"], "unknown step 'no_such_step'"),
        ("name: x\nsteps:\n  - extract: {bogus: 1}\n", ["{tmp}/a.jsonl"], "takes no parameter 'bogus'"),
        ("extract-only", ["{tmp}/missing.jsonl"], "missing.jsonl"),
    ],
)
def test_bad_recipe_or_missing_path_fails_before_any_work(tmp_path: Path, recipe: str, inputs: list[str],
                                                            message: str) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    with pytest.raises(JobError, match=message.replace("(", r"\(")) as error:
        job_submit(recipe=recipe, inputs=[p.format(tmp=tmp_path) for p in inputs], output=str(tmp_path / "o"))
    assert "\n" not in str(error.value)
    assert Job.objects.count() == 0
    assert not (tmp_path / "o").exists()


def test_output_folder_in_use_is_refused(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "something").write_text("keep me")
    with pytest.raises(JobError, match="not empty"):
        job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))
    assert (tmp_path / "o" / "something").read_text() == "keep me"


def test_cancelled_job_runs_no_more_shards(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    job = job_submit(recipe="extract-only", inputs=[str(tmp_path / "a.jsonl")], output=str(tmp_path / "o"))
    job_cancel(job)
    shard = job.shards.get()
    shard_execute(shard.pk, "worker-1")
    shard.refresh_from_db()
    job.refresh_from_db()
    assert (job.status, shard.status) == (Job.Status.CANCELLED, Shard.Status.CANCELLED)
    assert not Path(job.output, "kept").exists()


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

    monkeypatch.setattr("curation.services.job_recipe", recipe_without_the_plugin)
    # when the job runs
    job = job_run_local(job)
    # then each attempt was counted, and the job failed with a one-line reason naming the problem
    shard = job.shards.get()
    assert (job.status, shard.status, shard.attempts) == (Job.Status.FAILED, Shard.Status.FAILED, 3)
    assert "unknown step 'from_a_plugin'" in job.error
