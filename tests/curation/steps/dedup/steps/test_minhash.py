"""minhash_dedup (curation/steps/dedup/steps/minhash.py): parameters, empty documents, kernels, banding kept
by the index."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from curation.steps.base import RecipeError, build_step
from curation.steps.dedup.index import IndexMismatchError, index_summary
from tests.support.dedup_jobs import dedup_recipe, kept_ids, recipe_of, removed_by_id, run_job, word_text


def test_bad_parameters_are_refused_with_the_step_name() -> None:
    for params in ({"threshold": 1.5}, {"bands": 10}, {"bands": 20, "rows": 10}, {"kernel": "gpu"}, {"num_perm": 0}):
        with pytest.raises(RecipeError, match="minhash_dedup"):
            build_step("minhash_dedup", params)
    with pytest.raises(RecipeError, match="exact_dedup"):
        build_step("exact_dedup", {"normalize": "yes"})
    assert build_step("minhash_dedup", {"bands": 16, "rows": 8}).params.banding() == (16, 8)


def test_minhash_dedup_alone_drops_empty_documents_without_clustering_them(tmp_path: Path) -> None:
    docs = [{"id": "a", "text": "..."}, {"id": "b", "text": "😀"}, {"id": "c", "text": ""}, {"id": "w", "text": "word"}]
    run = run_job(docs, tmp_path / "work", recipe=recipe_of("minhash_dedup: {}"))
    removed = removed_by_id(run)
    assert {doc_id: doc["reason"] for doc_id, doc in removed.items()} == {"a": "empty", "b": "empty", "c": "empty"}
    assert all(doc["removed_by"] == "minhash_dedup" for doc in removed.values())
    assert run.summaries["minhash_dedup"]["clusters"] == 0


def test_datasketch_kernel_runs_through_the_step(tmp_path: Path) -> None:
    rng = random.Random(14)
    texts = [word_text(rng, 80) for _ in range(6)]
    docs = [{"id": f"d{i}", "text": text} for i, text in enumerate(texts)]
    docs.append({"id": "copy", "text": texts[2] + " (copy)"})
    run = run_job(docs, tmp_path / "work", recipe=dedup_recipe(kernel="datasketch"))
    assert removed_by_id(run)["d2"]["signals"]["duplicate_of"] == "copy"
    assert len(kept_ids(run)) == 6


def test_a_later_job_may_change_the_threshold_and_keeps_the_index_banding(tmp_path: Path) -> None:
    rng = random.Random(15)
    texts = [word_text(rng) for _ in range(5)]
    run_job([{"id": f"a{i}", "text": t} for i, t in enumerate(texts)], tmp_path / "job1", index_root=tmp_path / "i")
    later = [{"id": "copy", "text": texts[0] + " Share this page."}]
    run = run_job(later, tmp_path / "job2", job_id=2, index_root=tmp_path / "i", recipe=dedup_recipe(threshold=0.7))
    assert removed_by_id(run)["copy"]["signals"]["duplicate_of"] == "a0"
    manifest = index_summary(str(tmp_path / "i"))["kinds"]["minhash"]["manifest"]
    assert (manifest["bands"], manifest["rows"]) == (21, 6)


def test_an_index_built_with_other_parameters_is_refused(tmp_path: Path) -> None:
    rng = random.Random(11)
    docs = [{"id": f"d{i}", "text": word_text(rng)} for i in range(5)]
    run_job(docs, tmp_path / "job1", index_root=tmp_path / "index")
    with pytest.raises(IndexMismatchError, match="num_perm"):
        run_job(docs, tmp_path / "job2", job_id=2, index_root=tmp_path / "index", recipe=dedup_recipe(num_perm=64))
