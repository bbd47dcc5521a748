"""Map stages that only apply one global step and collect the next write no work documents: the next stage
reads the input again and replays the applies (curation/steps/pipeline.py, `plan_stages`)."""

from __future__ import annotations

import json
import random
from pathlib import Path

from curation.steps.inline import run_job_inline
from curation.steps.pipeline import plan_stages
from curation.steps.readers import InputSplit
from curation.steps.recipe import load_recipe
from tests.support.dedup_jobs import recipe_of


def test_dedup_only_plans_two_stages_that_write_no_documents_and_a_last_one_that_replays_exact() -> None:
    # Given the dedup-only recipe (exact_dedup, then minhash_dedup)
    plans = [plan for plan in plan_stages(load_recipe("dedup-only")) if plan.kind == "map"]

    # Then the two collecting stages write nothing, and the last reads the input and replays exact's apply
    assert [plan.writes_docs for plan in plans] == [False, False, True]
    assert [plan.source_stage for plan in plans] == [-1, -1, -1]
    assert [plan.replays for plan in plans] == [(), (), (0,)]


def test_a_stage_with_its_own_steps_still_writes_its_documents_for_the_next() -> None:
    # Given a filter before exact_dedup (the first stage runs a step of its own)
    recipe = recipe_of("gopher_repetition: {}", "exact_dedup: {}", "minhash_dedup: {}")

    # When it is planned
    plans = [plan for plan in plan_stages(recipe) if plan.kind == "map"]

    # Then the first stage writes its documents and the last reads them, replaying exact's apply
    assert [plan.writes_docs for plan in plans] == [True, False, True]
    assert [(plan.source_stage, plan.replays) for plan in plans] == [(-1, ()), (0, ()), (0, (1,))]


def test_replayed_stages_remove_each_document_once_and_leave_no_work_documents(tmp_path: Path) -> None:
    # Given documents with exact copies, near copies and distinct ones, in two shards
    rng = random.Random(5)
    words = ["".join(rng.choice("abcdefghij") for _ in range(5)) for _ in range(400)]
    texts = [" ".join(rng.choice(words) for _ in range(150)) for _ in range(20)]
    docs = [{"id": f"d{i:02d}", "text": text} for i, text in enumerate(texts)]
    docs += [{"id": f"x{i:02d}", "text": texts[i]} for i in range(5)]
    docs += [{"id": f"n{i:02d}", "text": texts[i + 5].upper().rsplit(" ", 2)[0]} for i in range(5)]
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(doc) + "\n" for doc in docs), encoding="utf-8")
    size = path.stat().st_size
    splits = [InputSplit(str(path), 0, size // 2), InputSplit(str(path), size // 2, size)]

    # When dedup-only runs through the engine's stages
    run = run_job_inline(load_recipe("dedup-only"), splits, str(tmp_path / "out"), job_id=1)

    # Then every copy is removed exactly once, by the step that found it, and exact's signals reach the output
    removed = [doc["id"] for doc in run.removed]
    assert sorted(removed) == sorted([f"x{i:02d}" for i in range(5)] + [f"n{i:02d}" for i in range(5)])
    assert {doc["removed_by"] for doc in run.removed if doc["id"].startswith("x")} == {"exact_dedup"}
    assert {doc["removed_by"] for doc in run.removed if doc["id"].startswith("n")} == {"minhash_dedup"}
    kept = [doc for shard in run.kept for doc in shard]
    assert len(kept) == 20
    assert all("exact_cluster_size" in doc["signals"] and "cluster_size" in doc["signals"] for doc in kept)
    # And each step counted its documents once
    steps = {step["name"]: step for step in run.stats()["steps"]}
    assert (steps["exact_dedup"]["docs_in"], steps["minhash_dedup"]["docs_in"]) == (30, 25)
    # And no stage wrote work documents
    assert not (tmp_path / "out" / "_work" / "docs").exists()
