"""The dedup reduce split into partitions (curation/steps/dedup/steps/base.py, `reduce_partition` and
`reduce_merge`): the same decisions, clusters and summaries whatever the number of partitions, with and without
an earlier job in the persistent index; re-runs write the same bytes; no unit reads more than its share."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from curation.steps.base import GlobalStep, ShardWork
from curation.steps.dedup.steps import base
from curation.steps.dedup.steps.base import reduce_url
from curation.steps.inline import InlineRun
from tests.support import planted_dedup as planting
from tests.support.dedup_jobs import decisions, dedup_recipe, run_job, tree_digest


def _planted(seed: int, count: int) -> planting.PlantedSet:
    rng = random.Random(seed)
    originals = planting.compose_documents(planting.synthetic_paragraphs(rng, 600), count, rng, target_bytes=1200)
    return planting.plant(originals, rng)


def _reduced_in_three(tmp_path: Path, seed: int) -> tuple[GlobalStep, Path]:
    """A finished job whose MinHash reduce ran in three partitions: its MinHash step and work folder."""
    recipe = dedup_recipe()
    run = run_job(_planted(seed, 120).docs, tmp_path / "job", shards=2, reduce_partitions=3, recipe=recipe)
    minhash = recipe.build()[1]
    assert isinstance(minhash, GlobalStep)
    return minhash, Path(run.work_dirs["minhash_dedup"])


Outcome = tuple[dict[str, tuple[Any, ...]], dict[str, Any], dict[str, Any]]


def _everything(run: InlineRun, job_id: int) -> Outcome:
    outcome = decisions([doc for shard in run.kept for doc in shard], run.removed, job_id)
    clusters = {name: pq.read_table(f"{work_dir}/clusters.parquet").to_pylist()
                for name, work_dir in run.work_dirs.items()}
    summaries = {name: {k: v for k, v in summary.items() if k not in ("job_id", "index_jobs")}
                 for name, summary in run.summaries.items()}
    return outcome, clusters, summaries


@pytest.mark.parametrize("partitions", [2, 5, 21, 30])
def test_any_number_of_partitions_gives_the_decisions_of_one(tmp_path: Path, partitions: int) -> None:
    # Given an earlier job in a persistent index, and a job holding copies of its documents and of its own
    first, second = _planted(1, 150), _planted(2, 150)
    later_docs = second.docs + [{**doc, "id": f"again-{doc['id']}"} for doc in first.docs[::3]]
    results = []
    for count, name in ((1, "one"), (partitions, "many")):
        index = tmp_path / name / "index"
        run_job(first.docs, tmp_path / name / "job1", shards=2, job_id=1, index_root=index, reduce_partitions=count)
        # When the later job's reduce runs in one partition, and in several
        run = run_job(later_docs, tmp_path / name / "job2", shards=3, job_id=2, index_root=index,
                      reduce_partitions=count)
        results.append(_everything(run, 2))

    # Then every document's decision, every cluster and every summary are the same
    assert results[0] == results[1]
    outcome = results[0][0]
    assert any(value[0] == "removed" and value[4] == "earlier" for value in outcome.values())
    assert any(value[0] == "removed" and value[4] == "self" for value in outcome.values())


def test_rerunning_a_partition_and_the_merge_writes_the_same_bytes(tmp_path: Path) -> None:
    # Given a finished job whose reduce ran in three partitions
    minhash, work_dir = _reduced_in_three(tmp_path, 3)
    before = tree_digest(work_dir)

    # When one partition and the merge run again
    work = ShardWork(str(work_dir), -1, 2, 1)
    minhash.reduce_partition(work, 1, 3)
    minhash.reduce_merge(work, 3)

    # Then every file is byte for byte what it was
    assert tree_digest(work_dir) == before


def test_a_partition_reads_only_its_bands(tmp_path: Path) -> None:
    # Given a collected job and a partition unit of 21 bands dealt to 7 partitions
    recipe = dedup_recipe()
    run = run_job(_planted(4, 60).docs, tmp_path / "job", shards=2, recipe=recipe)
    minhash = recipe.build()[1]
    assert isinstance(minhash, GlobalStep)
    work = ShardWork(run.work_dirs["minhash_dedup"], -1, 2, 1)

    # When partition 2 of 7 runs
    summary = minhash.reduce_partition(work, 2, 7)

    # Then it looked at bands 2, 9 and 16 only, and wrote its own pairs file
    assert summary["groups"] == 3
    assert Path(reduce_url(work.work_dir, "pairs", 2)).exists()


def test_a_partition_outside_the_range_is_refused(tmp_path: Path) -> None:
    recipe = dedup_recipe()
    run = run_job(_planted(5, 20).docs, tmp_path / "job", shards=1, recipe=recipe)
    exact = recipe.build()[0]
    assert isinstance(exact, GlobalStep)
    with pytest.raises(ValueError, match="partition 4 is not one of 4"):
        exact.reduce_partition(ShardWork(run.work_dirs["exact_dedup"], -1, 1, 1), 4, 4)


def test_keys_read_in_small_chunks_give_the_same_decisions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given an earlier job in an index and a later job with copies of both
    first, second = _planted(6, 80), _planted(7, 80)
    later_docs = second.docs + [{**doc, "id": f"again-{doc['id']}"} for doc in first.docs[::2]]
    results = []
    for chunk, name in ((base.PAIRS_PER_CHUNK, "whole"), (3, "chunked")):
        # When candidate pairs are verified, and similarities computed, three pairs at a time
        monkeypatch.setattr(base, "PAIRS_PER_CHUNK", chunk)
        index = tmp_path / name / "index"
        run_job(first.docs, tmp_path / name / "job1", job_id=1, index_root=index, reduce_partitions=2)
        run = run_job(later_docs, tmp_path / name / "job2", job_id=2, index_root=index, reduce_partitions=2)
        results.append(_everything(run, 2))

    # Then nothing changes
    assert results[0] == results[1]


def test_a_crowded_bucket_is_linked_by_a_star_and_a_chain_not_all_pairs(tmp_path: Path) -> None:
    # Given 60 near-copies of one page (a template and a word of its own each): their bands fall into buckets far
    # larger than ALL_PAIRS_BUCKET
    rng = random.Random(3)
    words = ["".join(rng.choice("abcdefghij") for _ in range(7)) for _ in range(400)]
    template = " ".join(rng.choice(words) for _ in range(180))
    docs = [{"id": f"d{n}", "text": f"{template} variant{n}"} for n in range(60)]
    assert len(docs) > base.ALL_PAIRS_BUCKET
    # When the job runs, its reduce in three partitions
    summary = run_job(docs, tmp_path / "job", shards=3, reduce_partitions=3).summaries["minhash_dedup"]
    # Then they are one cluster, one page kept, from a few candidate pairs per document rather than all 1,770 pairs
    assert (summary["clusters"], summary["largest_cluster"], summary["kept"]) == (1, 60, 1)
    assert summary["candidate_pairs"] <= 4 * 60


def test_a_job_collected_before_band_columns_existed_reduces_to_the_same_files(tmp_path: Path) -> None:
    # Given a finished job whose reduce ran in three partitions
    minhash, work_dir = _reduced_in_three(tmp_path, 8)
    sidecars = sorted(work_dir.glob("shard-*.parquet"))
    reduced = {name: digest for name, digest in tree_digest(work_dir).items() if not name.startswith("shard-")}
    assert sidecars and any(name.startswith("reduce/") for name in reduced)

    # When its sidecars lose their band columns (as an earlier version collected them) and the reduce runs again
    for sidecar in sidecars:
        table = pq.read_table(sidecar)
        bands = [name for name in table.column_names if name.startswith("band_")]
        assert bands
        pq.write_table(table.drop_columns(bands), sidecar)
    work = ShardWork(str(work_dir), -1, 2, 1)
    for partition in range(3):
        minhash.reduce_partition(work, partition, 3)
    minhash.reduce_merge(work, 3)

    # Then the band hashes come from the signatures: every file the reduce writes is byte for byte what it was
    assert {name: digest for name, digest in tree_digest(work_dir).items() if not name.startswith("shard-")} == reduced
