"""Running a whole job in one process through the job engine's own stages (curation/steps/inline.py)."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

from curation.steps.inline import run_job_inline
from curation.steps.recipe import load_recipe
from tests.support.dedup_jobs import recipe_of, word_text, write_shards


def test_a_job_in_memory_gives_the_documents_and_stats_of_the_same_job_on_disk(tmp_path: Path) -> None:
    # given six documents, one of them an exact copy, in two shards
    rng = random.Random(31)
    docs = [{"id": f"d{i}", "text": word_text(rng, 60)} for i in range(5)]
    docs.append({"id": "copy", "text": docs[2]["text"]})
    splits = write_shards(docs, 2)
    recipe = load_recipe("dedup-only")

    # when the same job runs with its files on disk and in memory://
    on_disk = run_job_inline(recipe, splits, str(tmp_path / "out"))
    in_memory = run_job_inline(recipe, splits, f"memory://inline-tests/{uuid.uuid4().hex}")

    # then both keep and remove the same documents, laid out as a real job's files
    assert on_disk.kept == in_memory.kept
    assert on_disk.removed == in_memory.removed
    # (of two equal texts the smaller id is kept)
    assert sorted(doc["id"] for shard in on_disk.kept for doc in shard) == ["copy", "d0", "d1", "d3", "d4"]
    assert [(doc["id"], doc["reason"]) for doc in on_disk.removed] == [("d2", "exact_duplicate")]
    assert (tmp_path / "out" / "kept" / "shard-00001.jsonl.zst").is_file()
    assert set(on_disk.work_dirs) == set(on_disk.summaries) == {"exact_dedup", "minhash_dedup"}
    assert Path(on_disk.work_dirs["minhash_dedup"]).is_dir()
    # and the merged stats count every document once, per step
    stats = on_disk.stats()
    assert stats["read"]["docs"] == 6
    assert [(step["name"], step["docs_in"], step["kept"]) for step in stats["steps"]] == [
        ("exact_dedup", 6, 5),
        ("minhash_dedup", 5, 5),
    ]


def test_a_recipe_without_global_steps_runs_as_one_map_stage(tmp_path: Path) -> None:
    docs = [{"id": "long", "text": word_text(random.Random(32), 120)}, {"id": "short", "text": "Too short."}]

    run = run_job_inline(recipe_of("gopher_quality: {}"), write_shards(docs, 1), str(tmp_path / "out"))

    assert [doc["id"] for doc in run.kept[0]] == ["long"]
    assert [(doc["id"], doc["removed_by"]) for doc in run.removed] == [("short", "gopher_quality")]
    assert run.summaries == {} and run.work_dirs == {}
    assert len(run.map_results) == 1
