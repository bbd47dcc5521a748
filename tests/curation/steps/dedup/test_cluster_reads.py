"""The dedup pages read only what they show: filters are pushed into the Parquet reads of clusters.parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from curation.steps.dedup import clusters, storage
from curation.steps.dedup.steps import CLUSTERS_FILE


def _clusters_file(work_dir: Path, count: int) -> None:
    rows: dict[str, list[Any]] = {k: [] for k in ("cluster_id", "cluster_size", "kept", "member_id", "member_job",
                                                  "similarity", "from_earlier_job", "shard", "position")}
    for number in range(count):
        size = 2 + number % 3
        for member in range(size):
            rows["cluster_id"].append(f"c{number:05d}")
            rows["cluster_size"].append(size)
            rows["kept"].append(member == 0)
            rows["member_id"].append(f"c{number:05d}" if member == 0 else f"c{number:05d}-{member}")
            rows["member_job"].append(1)
            rows["similarity"].append(1.0 if member == 0 else 0.9)
            rows["from_earlier_job"].append(False)
            rows["shard"].append(0)
            rows["position"].append(len(rows["position"]))
    storage.write_parquet(str(work_dir / CLUSTERS_FILE), pa.table(rows))


def test_cluster_pages_and_single_clusters_never_read_the_whole_file(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # given a step's 3,000 clusters
    _clusters_file(tmp_path, 3000)
    reads: list[dict[str, Any]] = []
    real_read = storage.read_parquet

    def recorded(url: str, columns: list[str] | None = None, filters: Any = None) -> pa.Table:
        table = real_read(url, columns=columns, filters=filters)
        reads.append({"columns": columns, "filters": filters, "rows": table.num_rows})
        return table

    monkeypatch.setattr(storage, "read_parquet", recorded)
    # when one page of 10 and one cluster are read
    page = clusters.load_clusters(str(tmp_path), offset=20, limit=10)
    one = clusters.load_cluster(str(tmp_path), "c00042")
    # then they are the right ones, and every read was narrowed by a filter
    assert len(page) == 10 and all(cluster.size == 4 for cluster in page)
    assert one is not None and one.size == 2 + 42 % 3 and one.kept.id == "c00042"
    assert reads and all(read["filters"] is not None for read in reads)
    assert max(read["rows"] for read in reads) <= 3000  # the kept members only (the file has 9,000 rows)
