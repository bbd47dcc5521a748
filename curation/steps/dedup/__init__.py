"""Deduplication: exact and MinHash near-duplicate removal across shards and jobs, and plain functions on texts.

Modules: `normalize` (canonical form, tokens), `minhash` (signatures), `lsh` (bands, candidates, clusters,
`NearDuplicateIndex`), `index` (the persistent per-collection index), `steps` (`exact_dedup`, `minhash_dedup`:
a shared base, exact, MinHash), `clusters` (what the console shows), `storage` (atomic fsspec writes). To run the
steps outside a worker, drive the job engine's own stages: `curation.steps.inline.run_job_inline`.
"""

from curation.steps.dedup.clusters import (
    Cluster,
    ClusterMember,
    cluster_size_histogram,
    load_cluster,
    load_clusters,
    load_summary,
)
from curation.steps.dedup.index import (
    IndexMismatchError,
    index_delete,
    index_delete_job,
    index_jobs,
    index_list,
    index_summary,
)
from curation.steps.dedup.lsh import NearDuplicateIndex, choose_bands
from curation.steps.dedup.minhash import MinHashParams, estimate_similarity, shingles, signature, signatures
from curation.steps.dedup.normalize import exact_hash, normalize_text, tokenize
from curation.steps.dedup.steps import (
    ExactDeduplicator,
    ExactDedupParams,
    MinHashDeduplicator,
    MinHashDedupParams,
)

__all__ = [
    "Cluster",
    "ClusterMember",
    "ExactDedupParams",
    "ExactDeduplicator",
    "IndexMismatchError",
    "MinHashDedupParams",
    "MinHashDeduplicator",
    "MinHashParams",
    "NearDuplicateIndex",
    "choose_bands",
    "cluster_size_histogram",
    "estimate_similarity",
    "exact_hash",
    "index_delete",
    "index_delete_job",
    "index_jobs",
    "index_list",
    "index_summary",
    "load_cluster",
    "load_clusters",
    "load_summary",
    "normalize_text",
    "shingles",
    "signature",
    "signatures",
    "tokenize",
]
