"""Read a dedup step's clusters back, for the console's per-job page (histogram and side-by-side members).

`reduce` writes `{work_dir}/clusters.parquet` (every member of every cluster of two or more documents) and
`{work_dir}/summary.json` (with the histogram of cluster sizes, singletons included).

Texts are not copied here: a member of this job is in shard `shard` of the job, so its text is in that shard's kept
or removed output, found by id; a member from an earlier job (`job_id` differs, no shard) is in that job's output.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from curation.steps.dedup import storage
from curation.steps.dedup.steps import CLUSTERS_FILE, SUMMARY_FILE


@dataclass(frozen=True)
class ClusterMember:
    id: str
    job_id: int
    kept: bool
    similarity: float  # estimated Jaccard similarity to the kept member (1.0 for the kept member, exact dups)
    shard: int | None  # shard index in this job, None for a member from an earlier job
    position: int | None  # 0-based position in that shard's input to the step


@dataclass(frozen=True)
class Cluster:
    cluster_id: str  # the kept member's id
    size: int
    kept: ClusterMember
    removed: tuple[ClusterMember, ...]  # most similar first

    @property
    def members(self) -> tuple[ClusterMember, ...]:
        return (self.kept, *self.removed)


def load_clusters(work_dir: str, min_size: int = 2, offset: int = 0, limit: int | None = None) -> list[Cluster]:
    """Return the clusters a dedup step found in one job, largest first (ties by cluster id), one page of them."""
    url = storage.join(work_dir, CLUSTERS_FILE)
    if not storage.exists(url):
        return []
    # Only the kept members' ids and sizes are read to order the clusters (one row per cluster, filtered while
    # reading); then only the page's clusters' rows are read, again filtered in the Parquet read.
    heads = storage.read_parquet(url, columns=["cluster_id", "cluster_size"],
                                 filters=[("kept", "=", True), ("cluster_size", ">=", min_size)])
    if heads.num_rows == 0:
        return []
    cluster_ids = np.array(heads.column("cluster_id").to_pylist(), dtype=object)
    sizes = heads.column("cluster_size").to_numpy()
    order = np.lexsort((cluster_ids.astype(str), -sizes))
    page = order[offset : None if limit is None else offset + limit]
    wanted = [cluster_ids[row] for row in page.tolist()]
    if not wanted:
        return []
    grouped: dict[str, list[ClusterMember]] = {cluster_id: [] for cluster_id in wanted}
    subset = storage.read_parquet(url, filters=[("cluster_id", "in", wanted)]).to_pylist()
    for row in subset:
        grouped[row["cluster_id"]].append(_member(row))
    result = []
    for cluster_id, members in grouped.items():
        kept = next(member for member in members if member.kept)
        removed = sorted((m for m in members if not m.kept), key=lambda m: (-m.similarity, m.job_id, m.id))
        result.append(Cluster(cluster_id=cluster_id, size=len(members), kept=kept, removed=tuple(removed)))
    return result


def load_cluster(work_dir: str, cluster_id: str) -> Cluster | None:
    """Return one cluster by id (the kept member's id), or None."""
    url = storage.join(work_dir, CLUSTERS_FILE)
    if not storage.exists(url):
        return None
    members = [_member(row) for row in storage.read_parquet(url, filters=[("cluster_id", "=", cluster_id)]).to_pylist()]
    if not members:
        return None
    kept = next(member for member in members if member.kept)
    removed = sorted((m for m in members if not m.kept), key=lambda m: (-m.similarity, m.job_id, m.id))
    return Cluster(cluster_id=cluster_id, size=len(members), kept=kept, removed=tuple(removed))


def cluster_size_histogram(work_dir: str) -> dict[int, int]:
    """Return {cluster size: number of clusters} for one job's step, singletons (size 1) included."""
    summary = load_summary(work_dir)
    histogram: dict[str, int] = summary.get("cluster_size_histogram", {}) if summary else {}
    return {int(size): count for size, count in sorted(histogram.items(), key=lambda item: int(item[0]))}


def load_summary(work_dir: str) -> dict[str, Any] | None:
    """Return what `reduce` reported (documents, kept, duplicates, clusters, ...), or None before reduce."""
    url = storage.join(work_dir, SUMMARY_FILE)
    if not storage.exists(url):
        return None
    summary: dict[str, Any] = storage.read_json(url)
    return summary


def _member(row: dict[str, Any]) -> ClusterMember:
    local = not row["from_earlier_job"]
    return ClusterMember(
        id=row["member_id"],
        job_id=int(row["member_job"]),
        kept=bool(row["kept"]),
        similarity=round(float(row["similarity"]), 4),
        shard=int(row["shard"]) if local else None,
        position=int(row["position"]) if local else None,
    )
