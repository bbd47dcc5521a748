"""What exact_dedup and minhash_dedup share (curation/steps/dedup/steps/base.py), through the job engine: the
`dedup-only` recipe on planted duplicates, sharding, idempotency, the signals and the keep policy, incremental
dedup against the persistent index, bad input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from curation.steps.base import GlobalStep, ShardWork
from curation.steps.dedup.index import index_summary
from curation.steps.dedup.steps import (
    REASON_EMPTY,
    REASON_EXACT,
    REASON_NEAR,
    ExactDeduplicator,
    MinHashDeduplicator,
)
from curation.steps.document import Document
from curation.steps.inline import InlineRun
from curation.steps.recipe import load_recipe
from tests.support import planted_dedup as planting
from tests.support.dedup_jobs import dedup_recipe, kept_ids, removed_by_id, run_job, tree_digest, word_text


def test_dedup_only_recipe_is_exact_then_minhash_on_the_text_field() -> None:
    recipe = load_recipe("dedup-only")
    assert [spec.name for spec in recipe.steps] == ["exact_dedup", "minhash_dedup"]
    assert recipe.reader == {"text_field": "text"}
    steps = recipe.build()
    assert isinstance(steps[0], ExactDeduplicator) and isinstance(steps[1], MinHashDeduplicator)


def _assert_targets(planted: planting.PlantedSet, kept: set[str]) -> None:
    score = planting.score(planted, kept)
    assert score["recall"] >= 0.97, score
    assert score["distinct_removed_rate"] <= 0.003, score
    assert score["exact_copies_kept"] == 0, score
    assert score["hard_negative_members_removed"] == 0, score


def test_planted_duplicates_in_generated_text_meet_the_targets(tmp_path: Path) -> None:
    rng = random.Random(1)
    originals = planting.compose_documents(planting.synthetic_paragraphs(rng, 1500), 800, rng, target_bytes=1500)
    planted = planting.plant(originals, rng)
    run = run_job(planted.docs, tmp_path / "work")
    _assert_targets(planted, kept_ids(run))


def test_planted_duplicates_in_real_english_and_chinese_meet_the_targets(shared_data: Path, tmp_path: Path) -> None:
    rng = random.Random(2)
    originals = planting.compose_documents(planting.corpus_paragraphs(shared_data), 3000, rng)
    planted = planting.plant(originals, rng)
    assert sum(planting.is_cjk_text(text) for text in originals) > 800  # both languages are well represented
    run = run_job(planted.docs, tmp_path / "work", shards=3)
    _assert_targets(planted, kept_ids(run))


def _mixed_docs(seed: int = 4) -> list[Document]:
    rng = random.Random(seed)
    originals = [word_text(rng) for _ in range(60)]
    docs: list[Document] = [{"id": f"o{i:03d}", "text": text} for i, text in enumerate(originals)]
    for i in range(0, 60, 2):
        docs.append({"id": f"n{i:03d}", "text": planting.mutate(originals[i], "edits", rng)})
    for i in range(0, 60, 5):
        docs.append({"id": f"q{i:03d}", "text": originals[i].upper(), "signals": {"quality_score": 0.9}})
    docs.append({"id": "e1", "text": "!!!"})
    rng.shuffle(docs)
    return docs


def _outcome(run: InlineRun) -> dict[str, tuple[object, ...]]:
    result: dict[str, tuple[object, ...]] = {}
    for shard in run.kept:
        for doc in shard:
            result[doc["id"]] = ("kept", doc["signals"].get("cluster_id"), doc["signals"].get("cluster_size"))
    for doc in run.removed:
        signals = doc.get("signals", {})
        result[doc["id"]] = (doc["reason"], signals.get("duplicate_of"), signals.get("similarity"))
    return result


def test_three_shards_decide_exactly_like_one(tmp_path: Path) -> None:
    docs = _mixed_docs()
    one = run_job(docs, tmp_path / "one", shards=1)
    three = run_job(docs, tmp_path / "three", shards=3)
    assert _outcome(one) == _outcome(three)
    assert len(kept_ids(one)) == 60


def test_rerunning_a_job_without_an_index_gives_the_same_output(tmp_path: Path) -> None:
    docs = _mixed_docs()
    first = run_job(docs, tmp_path / "first")
    second = run_job(docs, tmp_path / "second")
    assert first.kept == second.kept
    assert sorted(first.removed, key=lambda d: d["id"]) == sorted(second.removed, key=lambda d: d["id"])
    assert tree_digest(tmp_path / "first") == tree_digest(tmp_path / "second")


def test_collect_and_reduce_rerun_rewrite_identical_files(tmp_path: Path) -> None:
    docs = _mixed_docs()
    step = MinHashDeduplicator()
    shards = [docs[0::2], docs[1::2]]
    work_dir = str(tmp_path / "work")
    for index, shard in enumerate(shards):
        list(step.collect(iter(shard), ShardWork(work_dir, index, 2, 1)))
    step.reduce(ShardWork(work_dir, -1, 2, 1))
    before = tree_digest(tmp_path / "work")
    for index, shard in enumerate(shards):
        list(step.collect(iter(shard), ShardWork(work_dir, index, 2, 1)))
    step.reduce(ShardWork(work_dir, -1, 2, 1))
    step.reduce(ShardWork(work_dir, -1, 2, 1))
    assert tree_digest(tmp_path / "work") == before
    assert not [path for path in (tmp_path / "work").rglob("*.tmp-*")]


def test_apply_refuses_documents_that_collect_did_not_see(tmp_path: Path) -> None:
    docs = _mixed_docs()
    step = ExactDeduplicator()
    work = ShardWork(str(tmp_path), 0, 1, 1)
    list(step.collect(iter(docs), work))
    step.reduce(ShardWork(str(tmp_path), -1, 1, 1))
    with pytest.raises(RuntimeError, match="collect saw"):
        list(step.apply(iter(list(reversed(docs))), work))
    with pytest.raises(RuntimeError, match="collect"):
        list(step.apply(iter(docs[:-1]), work))


def test_reduce_without_every_sidecar_says_which_shard_is_missing(tmp_path: Path) -> None:
    step = ExactDeduplicator()
    list(step.collect(iter(_mixed_docs()), ShardWork(str(tmp_path), 0, 2, 1)))
    with pytest.raises(FileNotFoundError, match="shard 1"):
        step.reduce(ShardWork(str(tmp_path), -1, 2, 1))


def test_removed_documents_name_the_kept_one_and_kept_documents_their_cluster(tmp_path: Path) -> None:
    rng = random.Random(5)
    text = word_text(rng)
    docs = [
        {"id": "a", "text": text},
        {"id": "b", "text": text + " Share this article on social media."},
        {"id": "c", "text": text},
        {"id": "z", "text": word_text(rng)},
    ]
    run = run_job(docs, tmp_path / "work")
    removed = removed_by_id(run)
    assert removed["c"]["removed_by"] == "exact_dedup" and removed["c"]["reason"] == REASON_EXACT
    assert removed["c"]["signals"]["duplicate_of"] == "a"
    assert removed["a"]["removed_by"] == "minhash_dedup" and removed["a"]["reason"] == REASON_NEAR
    assert removed["a"]["signals"]["duplicate_of"] == "b"  # the longest copy is kept
    assert removed["a"]["signals"]["duplicate_of_job"] == 1
    assert 0.8 <= removed["a"]["signals"]["similarity"] < 1.0
    kept = {doc["id"]: doc for shard in run.kept for doc in shard}
    assert kept["b"]["signals"]["cluster_id"] == "b" and kept["b"]["signals"]["cluster_size"] == 2
    assert kept["z"]["signals"]["cluster_size"] == 1
    assert kept["b"]["signals"]["exact_cluster_size"] == 1


def test_keep_policy_quality_then_length_then_id(tmp_path: Path) -> None:
    rng = random.Random(6)
    text = word_text(rng)
    docs: list[dict[str, object]] = [
        {"id": "long", "text": text + " with a longer tail of words"},
        {"id": "good", "text": text.upper(), "signals": {"quality_score": 0.8}},
        {"id": "better", "text": text + " x", "signals": {"quality_score": 0.9}},
    ]
    assert kept_ids(run_job(docs, tmp_path / "q")) == {"better"}
    # Without a quality signal the longest text is kept; between equally long ones, the smallest id.
    docs = [{"id": "c", "text": text + " tail"}, {"id": "b", "text": text.upper() + " TAIL"}, {"id": "a", "text": text}]
    assert kept_ids(run_job(docs, tmp_path / "length")) == {"b"}


def test_second_job_drops_what_duplicates_the_first_jobs_kept_documents(tmp_path: Path) -> None:
    rng = random.Random(7)
    first_texts = [word_text(rng) for _ in range(20)]
    job1 = [{"id": f"a{i}", "text": text} for i, text in enumerate(first_texts)]
    job1.append({"id": "a0-copy", "text": first_texts[0] + " Read more."})  # a within-job near copy
    index = tmp_path / "index"
    run1 = run_job(job1, tmp_path / "job1", job_id=1, index_root=index)
    kept1 = kept_ids(run1)
    assert len(kept1) == 20
    job1_files = tree_digest(tmp_path / "job1")

    new_texts = [word_text(rng) for _ in range(5)]
    job2 = [
        {"id": "b-exact", "text": first_texts[3]},
        {"id": "b-near", "text": first_texts[4].upper() + " Copyright 2005."},
        {"id": "b-of-removed", "text": first_texts[0]},  # job 1 kept a0-copy or a0; either way a duplicate
        *({"id": f"b-new{i}", "text": text} for i, text in enumerate(new_texts)),
        {"id": "b-new0-twin", "text": new_texts[0] + " Subscribe!"},
    ]
    run2 = run_job(job2, tmp_path / "job2", job_id=2, index_root=index)
    removed = removed_by_id(run2)
    assert removed["b-exact"]["reason"] == REASON_EXACT and removed["b-exact"]["signals"]["duplicate_of"] == "a3"
    assert removed["b-near"]["reason"] == REASON_NEAR and removed["b-near"]["signals"]["duplicate_of"] == "a4"
    # a0 passed job 1's exact stage and was then removed as a near copy of a0-copy: the exact index names it.
    assert removed["b-of-removed"]["signals"]["duplicate_of"] in {"a0", "a0-copy"}
    assert all(removed[doc_id]["signals"]["duplicate_of_job"] == 1 for doc_id in ("b-exact", "b-near"))
    assert kept_ids(run2) == {f"b-new{i}" for i in range(1, 5)} | ({"b-new0", "b-new0-twin"} & kept_ids(run2))
    assert len({"b-new0", "b-new0-twin"} & kept_ids(run2)) == 1
    assert run2.summaries["minhash_dedup"]["duplicates_of_earlier_jobs"] >= 1
    assert tree_digest(tmp_path / "job1") == job1_files  # job 1's outputs are never reopened
    assert index_summary(str(index))["jobs"] == [1, 2]


def test_committing_twice_changes_nothing(tmp_path: Path) -> None:
    rng = random.Random(8)
    docs = [{"id": f"d{i}", "text": word_text(rng)} for i in range(10)]
    index = tmp_path / "index"
    recipe = dedup_recipe()
    run = run_job(docs, tmp_path / "work", index_root=index, recipe=recipe)
    before = tree_digest(index)
    for step in recipe.build():
        assert isinstance(step, GlobalStep)
        step.commit(ShardWork(run.work_dirs[step.name], -1, 2, 1, str(index)))
    assert tree_digest(index) == before
    assert index_summary(str(index))["kinds"]["minhash"]["documents"] == 10


def test_rerunning_reduce_after_commit_does_not_match_the_job_against_itself(tmp_path: Path) -> None:
    rng = random.Random(9)
    docs = [{"id": f"d{i}", "text": word_text(rng)} for i in range(10)]
    index = tmp_path / "index"
    recipe = dedup_recipe()
    run = run_job(docs, tmp_path / "work", index_root=index, recipe=recipe)
    minhash = recipe.build()[1]
    assert isinstance(minhash, GlobalStep)
    summary = minhash.reduce(ShardWork(run.work_dirs["minhash_dedup"], -1, 2, 1, str(index)))
    assert summary["duplicates"] == 0 and summary["index_jobs"] == []


def test_without_an_index_a_job_deduplicates_within_itself_only(tmp_path: Path) -> None:
    rng = random.Random(10)
    docs = [{"id": f"d{i}", "text": word_text(rng)} for i in range(5)]
    run_job(docs, tmp_path / "job1", job_id=1, index_root=tmp_path / "index")
    again = run_job(docs, tmp_path / "job2", job_id=2)
    assert kept_ids(again) == {doc["id"] for doc in docs}


def test_bad_input_is_handled_and_empty_documents_are_dropped_as_empty(tmp_path: Path) -> None:
    rng = random.Random(12)
    huge = " ".join(word_text(rng, 2000) for _ in range(7))
    huge = (huge * (10_000_000 // len(huge) + 1))[:10_000_000]
    docs: list[dict[str, object]] = [
        {"id": "empty", "text": ""},
        {"id": "blank", "text": " \n\t "},
        {"id": "punct", "text": "!!! ... ？？？ 。。。"},
        {"id": "emoji", "text": "😀😀 👍🏽 🎉"},
        {"id": "mixed", "text": "Москва 東京 café ελληνικά عربي हिन्दी 한국어 " + word_text(rng, 50)},
        {"id": "huge", "text": huge},
        {"id": "huge-copy", "text": huge},
        {"text": "a document without an id, but with words enough to count"},
    ]
    run = run_job(docs, tmp_path / "work", shards=2)
    removed = removed_by_id(run)
    for doc_id in ("empty", "blank", "punct", "emoji"):
        assert removed[doc_id]["reason"] == REASON_EMPTY and removed[doc_id]["removed_by"] == "exact_dedup"
        assert "duplicate_of" not in removed[doc_id].get("signals", {})
    assert removed["huge-copy"]["reason"] == REASON_EXACT
    assert {"mixed", "huge"} <= kept_ids(run)
    assert sum(len(shard) for shard in run.kept) == 3


def test_documents_without_a_text_string_are_dropped_as_empty(tmp_path: Path) -> None:
    # The reader never yields such documents (it counts them as missing_text); an earlier step might.
    docs = [{"id": "none", "text": None}, {"id": "number", "text": 42}, {"id": "notext"}]
    docs.append({"id": "words", "text": word_text(random.Random(16))})
    for step in (ExactDeduplicator(), MinHashDeduplicator()):
        removed: list[Document] = []
        step.bind_removed_sink(removed.append)
        work = ShardWork(str(tmp_path / step.name), 0, 1, 1)
        collected = list(step.collect(iter([dict(doc) for doc in docs]), work))
        step.reduce(ShardWork(work.work_dir, -1, 1, 1))
        kept = list(step.apply(iter(collected), work))
        assert [doc["id"] for doc in kept] == ["words"]
        assert {doc["id"]: doc["reason"] for doc in removed} == {"none": "empty", "number": "empty", "notext": "empty"}
