"""The shard runner without the control plane: stages of a recipe, stopping, per-step stats."""

from __future__ import annotations

from pathlib import Path

import pytest

from curation.steps.pipeline import JobLayout, ShardStopped, plan_stages, run_map_shard
from curation.steps.readers import InputSplit, ReaderOptions
from curation.steps.recipe import parse_recipe
from tests.fixtures.jobs import write_jsonl

FILTER_RECIPE = "name: r\nsteps:\n  - extract: {}\n  - gopher_quality: {}\n"


def test_each_global_step_adds_two_reduce_stages_and_a_map_stage() -> None:
    recipe = parse_recipe("name: r\nsteps:\n  - extract: {}\n  - exact_dedup: {}\n  - minhash_dedup: {}\n"
                          "  - pii: {}\n", "r", validate=False)
    plans = plan_stages(recipe)
    assert [(p.kind, p.reduce_phase, p.step_positions, p.global_position) for p in plans] == [
        ("map", "", (0, 1), None), ("reduce", "partition", (), 1), ("reduce", "merge", (), 1),
        ("map", "", (2,), 1), ("reduce", "partition", (), 2), ("reduce", "merge", (), 2), ("map", "", (3,), 2),
        ("finish", "", (), None)]


def test_a_stopped_shard_publishes_nothing(tmp_path: Path) -> None:
    # given a shard of 1,200 documents and a job that is cancelled while it runs
    write_jsonl(tmp_path / "in.jsonl", [{"id": str(i), "text": "short"} for i in range(1200)])
    recipe = parse_recipe(FILTER_RECIPE, "r")
    layout = JobLayout(str(tmp_path / "out"))
    # when the shard runs, and its stop check says stop (every document is removed, so none is kept)
    with pytest.raises(ShardStopped):
        run_map_shard(recipe, plan_stages(recipe)[0], layout=layout, shard=0, shard_count=1, job_id=1,
                      split=InputSplit(str(tmp_path / "in.jsonl")), reader_options=ReaderOptions(),
                      should_stop=lambda: True)
    # then neither the kept nor the removed file exists, and no temporary file is left
    assert not Path(layout.kept(0)).exists() and not Path(layout.removed(0, 0)).exists()
    assert not list((tmp_path / "out").rglob("*.tmp-*"))


def test_shard_stats_count_every_step_and_time_each_one_on_its_own(tmp_path: Path) -> None:
    prose = "The river rose in the night and the people of the town went up to the hills with their animals. " * 3
    write_jsonl(tmp_path / "in.jsonl", [{"text": prose}, {"text": "too short"}, {"text": prose + " again"}])
    recipe = parse_recipe(FILTER_RECIPE, "r")
    result = run_map_shard(recipe, plan_stages(recipe)[0], layout=JobLayout(str(tmp_path / "out")), shard=0,
                           shard_count=1, job_id=1, split=InputSplit(str(tmp_path / "in.jsonl")),
                           reader_options=ReaderOptions())
    assert (result.docs_in, result.docs_kept, result.docs_removed) == (3, 2, 1)
    extract, gopher = result.steps
    assert (extract["name"], extract["docs_in"], extract["kept"]) == ("extract", 3, 3)
    assert (gopher["name"], gopher["docs_in"], gopher["kept"], gopher["removed"]) == (
        "gopher_quality", 3, 2, {"gopher_word_count": 1})
    assert all(step["seconds"] >= 0 for step in result.steps)
    assert [d["text"] for d in result.removed_samples] == ["too short"]
