"""Jobs through the service layer, run in-process (`curate --local` path): stages, outputs, stats, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import tests.support.global_step  # noqa: F401  (registers test_first_occurrence)
from core.errors import Conflict, ValidationError
from curation.models import Job, Shard
from curation.services.jobs import job_cancel, job_run_local, job_submit
from curation.services.shards import shard_execute
from tests.fixtures.jobs import write_jsonl
from tests.support.job_outputs import outputs

pytestmark = pytest.mark.django_db

DEDUP_RECIPE = """
name: first-occurrence
steps:
  - extract: {}
  - test_first_occurrence: {}
"""


def test_global_step_runs_as_collect_reduce_apply_across_shards(tmp_path: Path) -> None:
    # given three files where file 2 repeats two texts of file 0
    write_jsonl(tmp_path / "a.jsonl", [{"id": f"a{i}", "text": f"text {i}"} for i in range(5)])
    write_jsonl(tmp_path / "b.jsonl", [{"id": f"b{i}", "text": f"other {i}"} for i in range(5)])
    write_jsonl(tmp_path / "c.jsonl", [{"id": "c0", "text": "text 1"}, {"id": "c1", "text": "text 3"},
                                       {"id": "c2", "text": "new"}])
    inputs = [str(tmp_path / n) for n in ("a.jsonl", "b.jsonl", "c.jsonl")]
    # when the job runs
    job = job_run_local(job_submit(recipe=DEDUP_RECIPE, inputs=inputs, output=str(tmp_path / "out")))
    # then it went through map, reduce (partitions, then merge), map, finish and removed exactly the repeats,
    # naming the original
    assert job.status == Job.Status.COMPLETED, job.error
    assert list(job.shards.values_list("stage", "kind").distinct().order_by("stage")) == [
        (0, "map"), (1, "reduce"), (2, "reduce"), (3, "map"), (4, "finish")]
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
    inputs = [str(tmp_path / "a.jsonl")]
    first = job_run_local(job_submit(recipe=DEDUP_RECIPE, inputs=inputs, output=str(tmp_path / "1")))
    second = job_run_local(job_submit(recipe=DEDUP_RECIPE, inputs=inputs, output=str(tmp_path / "2")))
    # then ids are stable and the kept files are byte-identical
    assert outputs(first.output, "kept") == outputs(second.output, "kept")
    assert len(outputs(first.output, "kept")) == 7
    assert Path(first.output, "kept/shard-00000.jsonl.zst").read_bytes() == Path(
        second.output, "kept/shard-00000.jsonl.zst").read_bytes()


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
    with pytest.raises(ValidationError, match=message.replace("(", r"\(")) as error:
        job_submit(recipe=recipe, inputs=[p.format(tmp=tmp_path) for p in inputs], output=str(tmp_path / "o"))
    assert "\n" not in str(error.value)
    assert Job.objects.count() == 0
    assert not (tmp_path / "o").exists()


def test_output_folder_in_use_is_refused(tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "something").write_text("keep me")
    with pytest.raises(Conflict, match="not empty"):
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
