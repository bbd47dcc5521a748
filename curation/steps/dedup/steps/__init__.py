"""The deduplication steps: `exact_dedup` (`exact.py`) and `minhash_dedup` (`minhash.py`) over the phases they
share (`base.py`: collect, reduce, apply, commit; which copy a cluster keeps; the signals written)."""

from curation.steps.dedup.steps.base import (
    CLUSTERS_FILE,
    DECISIONS_DIR,
    QUALITY_SIGNAL,
    REASON_EMPTY,
    REASON_EXACT,
    REASON_NEAR,
    SIDECAR_PATTERN,
    SIGNAL_CLUSTER_ID,
    SIGNAL_CLUSTER_SIZE,
    SIGNAL_DUPLICATE_OF,
    SIGNAL_DUPLICATE_OF_JOB,
    SIGNAL_EXACT_CLUSTER_SIZE,
    SIGNAL_SIMILARITY,
    SUMMARY_FILE,
    Deduplicator,
    decisions_url,
    sidecar_url,
)
from curation.steps.dedup.steps.exact import ExactDeduplicator, ExactDedupParams
from curation.steps.dedup.steps.minhash import MinHashDeduplicator, MinHashDedupParams

__all__ = [
    "CLUSTERS_FILE",
    "DECISIONS_DIR",
    "QUALITY_SIGNAL",
    "REASON_EMPTY",
    "REASON_EXACT",
    "REASON_NEAR",
    "SIDECAR_PATTERN",
    "SIGNAL_CLUSTER_ID",
    "SIGNAL_CLUSTER_SIZE",
    "SIGNAL_DUPLICATE_OF",
    "SIGNAL_DUPLICATE_OF_JOB",
    "SIGNAL_EXACT_CLUSTER_SIZE",
    "SIGNAL_SIMILARITY",
    "SUMMARY_FILE",
    "Deduplicator",
    "ExactDedupParams",
    "ExactDeduplicator",
    "MinHashDedupParams",
    "MinHashDeduplicator",
    "decisions_url",
    "sidecar_url",
]
