"""The dedup-only recipe through the job engine's units (curation/steps/pipeline.py, driven by
curation/steps/inline.py, no Django): map shards that read byte ranges of one JSON Lines file and collect, reduce,
map shards that apply, commit; then a second job against the same index."""

from __future__ import annotations

import json
import random
from pathlib import Path

from curation.steps.dedup.clusters import load_clusters
from curation.steps.dedup.index import index_summary
from curation.steps.document import Document
from curation.steps.inline import InlineRun, run_job_inline
from curation.steps.readers import InputSplit
from curation.steps.recipe import load_recipe


def _run_engine_job(input_path: Path, output: Path, job_id: int, index_root: Path, shards: int = 2) -> InlineRun:
    # One split per shard: the input file is cut into equal byte ranges (records belong to the split they start in).
    size = input_path.stat().st_size
    bounds = [size * index // shards for index in range(shards + 1)]
    splits = [InputSplit(str(input_path), bounds[i], bounds[i + 1]) for i in range(shards)]
    return run_job_inline(load_recipe("dedup-only"), splits, str(output), job_id=job_id, index_root=str(index_root))


def _kept(run: InlineRun) -> dict[str, Document]:
    return {doc["id"]: doc for shard in run.kept for doc in shard}


def _removed(run: InlineRun) -> dict[str, Document]:
    return {doc["id"]: doc for doc in run.removed}


def test_dedup_only_runs_through_the_job_engine_and_deduplicates_a_second_job(tmp_path: Path) -> None:
    rng = random.Random(21)
    letters = "abcdefghijklmnopqrstuvwxyz"

    def text() -> str:
        return " ".join("".join(rng.choice(letters) for _ in range(6)) for _ in range(120))

    texts = [text() for _ in range(30)]
    first = [{"id": f"a{i:02d}", "text": t} for i, t in enumerate(texts)]
    first += [{"id": "a00-exact", "text": texts[0]}, {"id": "a01-near", "text": texts[1].upper() + " Read more."}]
    first += [{"id": "a-empty", "text": "!!!"}]
    input1 = tmp_path / "job1.jsonl"
    input1.write_text("".join(json.dumps(doc) + "\n" for doc in first), encoding="utf-8")
    index = tmp_path / "index"
    run1 = _run_engine_job(input1, tmp_path / "out1", 1, index)

    kept1 = _kept(run1)
    removed1 = _removed(run1)
    assert len(kept1) == 30
    assert removed1["a00-exact"]["reason"] == "exact_duplicate"
    assert removed1["a01"]["reason"] == "near_duplicate"  # the longer copy is kept
    assert removed1["a01"]["signals"]["duplicate_of"] == "a01-near"
    assert removed1["a-empty"]["reason"] == "empty"
    minhash_work = run1.layout.step_work_dir(1, "minhash_dedup")
    assert [cluster.size for cluster in load_clusters(minhash_work)] == [2]

    second = [{"id": "b-copy", "text": texts[5]}, {"id": "b-near", "text": texts[6] + " Subscribe now."}]
    second += [{"id": "b-new", "text": text()}]
    input2 = tmp_path / "job2.jsonl"
    input2.write_text("".join(json.dumps(doc) + "\n" for doc in second), encoding="utf-8")
    run2 = _run_engine_job(input2, tmp_path / "out2", 2, index)
    assert set(_kept(run2)) == {"b-new"}
    removed2 = _removed(run2)
    assert removed2["b-copy"]["signals"]["duplicate_of"] == "a05"
    assert removed2["b-near"]["signals"]["duplicate_of"] == "a06"
    assert removed2["b-near"]["signals"]["duplicate_of_job"] == 1
    assert index_summary(str(index))["jobs"] == [1, 2]
