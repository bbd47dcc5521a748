"""What the console reads back: clusters with kept and removed members, and the histogram of cluster sizes."""

from __future__ import annotations

import random
from pathlib import Path

from curation.steps.dedup.clusters import cluster_size_histogram, load_cluster, load_clusters, load_summary
from tests.support.dedup_jobs import run_job


def _text(rng: random.Random) -> str:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return " ".join("".join(rng.choice(letters) for _ in range(6)) for _ in range(150))


def test_clusters_list_the_kept_member_first_and_removed_members_with_similarity(tmp_path: Path) -> None:
    rng = random.Random(1)
    base, other = _text(rng), _text(rng)
    docs = [
        {"id": "orig", "text": base},
        {"id": "copy1", "text": base + " Read more at example.com today"},
        {"id": "copy2", "text": base.upper()},
        {"id": "pair-a", "text": other},
        {"id": "pair-b", "text": "Breaking news: " + other},
        *({"id": f"single{i}", "text": _text(rng)} for i in range(5)),
    ]
    run = run_job(docs, tmp_path / "work", shards=2)
    work_dir = run.work_dirs["minhash_dedup"]
    clusters = load_clusters(work_dir)
    assert [(c.cluster_id, c.size) for c in clusters] == [("copy1", 3), ("pair-b", 2)]
    first = clusters[0]
    assert first.kept.id == "copy1" and first.kept.kept and first.kept.similarity == 1.0
    # orig and copy2 have one canonical form, so one similarity to copy1; ties list by id.
    assert [m.id for m in first.removed] == ["copy2", "orig"]
    assert 0.8 <= first.removed[0].similarity == first.removed[1].similarity < 1.0
    assert first.removed[0].shard in (0, 1) and first.removed[0].position is not None
    assert load_cluster(work_dir, "pair-b") == clusters[1]
    assert load_cluster(work_dir, "nope") is None
    histogram = cluster_size_histogram(work_dir)
    assert histogram == {1: 5, 2: 1, 3: 1}
    assert load_summary(work_dir)["clusters"] == 2  # type: ignore[index]


def test_a_cluster_kept_in_an_earlier_job_names_that_job(tmp_path: Path) -> None:
    rng = random.Random(2)
    base = _text(rng)
    run_job([{"id": "old", "text": base}], tmp_path / "job1", job_id=1, index_root=tmp_path / "index")
    new = [{"id": "new", "text": base + " (updated)"}]
    run = run_job(new, tmp_path / "job2", job_id=2, index_root=tmp_path / "index")
    (cluster,) = load_clusters(run.work_dirs["minhash_dedup"])
    assert cluster.kept.id == "old" and cluster.kept.job_id == 1 and cluster.kept.shard is None
    assert cluster.removed[0].id == "new" and cluster.removed[0].job_id == 2


def test_nothing_to_show_before_reduce(tmp_path: Path) -> None:
    assert load_clusters(str(tmp_path)) == []
    assert cluster_size_histogram(str(tmp_path)) == {}
    assert load_summary(str(tmp_path)) is None


def test_clusters_come_in_pages_largest_first(tmp_path: Path) -> None:
    rng = random.Random(3)
    docs = []
    for group in range(6):
        base = _text(rng)
        docs += [{"id": f"g{group}-{copy}", "text": base + f" copy {'x' * copy}"} for copy in range(group % 3 + 2)]
    run = run_job(docs, tmp_path / "work")
    work_dir = run.work_dirs["minhash_dedup"]
    everything = load_clusters(work_dir)
    assert [c.size for c in everything] == [4, 4, 3, 3, 2, 2]
    assert load_clusters(work_dir, offset=2, limit=2) == everything[2:4]
    assert load_clusters(work_dir, min_size=4) == everything[:2]
    assert all(len(c.removed) == c.size - 1 for c in everything)
