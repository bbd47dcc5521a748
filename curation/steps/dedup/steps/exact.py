"""`exact_dedup`: remove documents whose text is identical to another's, within the job and against the index.

`exact_dedup` hashes the text byte for byte after stripping surrounding whitespace by default (`normalize: false`):
fast, and it never removes anything but an identical text. With `normalize: true` it hashes the canonical form
instead (see `normalize`), so copies differing only in case, spacing, punctuation or digits go too; in the
`dedup-only` recipe `minhash_dedup` removes those anyway (their estimated similarity is exactly 1).

The phases, the choice of the kept copy and the signals are shared with `minhash_dedup`: see `base.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import xxhash

from curation.steps.base import register_step
from curation.steps.dedup.index import INDEX_FORMAT
from curation.steps.dedup.normalize import NORMALIZATION_VERSION, exact_hashes, tokenize_batch
from curation.steps.dedup.steps.base import (
    QUALITY_SIGNAL,
    REASON_EXACT,
    SIGNAL_EXACT_CLUSTER_SIZE,
    Deduplicator,
    empty_texts,
)

# Exact hashes are spread over this many index partitions by their top 4 bits.
_EXACT_PARTITIONS = 16


@dataclass(frozen=True)
class ExactDedupParams:
    """`normalize`: hash the canonical form instead of the stripped text (see the module docstring).
    `quality_signal`: the signal that decides which copy is kept, higher is better."""

    normalize: bool = False
    quality_signal: str = QUALITY_SIGNAL

    def __post_init__(self) -> None:
        if not isinstance(self.normalize, bool):
            raise ValueError("normalize must be true or false")
        if not isinstance(self.quality_signal, str) or not self.quality_signal:
            raise ValueError("quality_signal must be a signal name")


@register_step
class ExactDeduplicator(Deduplicator[ExactDedupParams]):
    """Remove documents whose text is identical to another's (within the job and against the index)."""

    name = "exact_dedup"
    Params = ExactDedupParams
    kind = "exact"
    reason = REASON_EXACT
    # Equal 128-bit hashes are the duplicates: no verification, and one earlier copy per document is enough.
    _index_limit = 1
    _verify_candidates = False

    def _keys_of_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        if self.params.normalize:
            batch = tokenize_batch(texts)
            return exact_hashes(batch), batch.token_counts() == 0
        empty = empty_texts(texts)
        keys = np.empty((len(texts), 2), dtype=np.uint64)
        mask = (1 << 64) - 1
        digests = [xxhash.xxh3_128_intdigest(text.strip().encode("utf-8", "surrogatepass")) for text in texts]
        keys[:, 0] = [digest >> 64 for digest in digests]
        keys[:, 1] = [digest & mask for digest in digests]
        return keys, empty

    def _key_schema(self) -> list[pa.Field]:
        return [pa.field("hash_hi", pa.uint64()), pa.field("hash_lo", pa.uint64())]

    def _no_keys(self) -> np.ndarray:
        return np.zeros((0, 2), dtype=np.uint64)

    def _key_columns(self, keys: np.ndarray) -> dict[str, pa.Array]:
        return {"hash_hi": pa.array(keys[:, 0]), "hash_lo": pa.array(keys[:, 1])}

    def _keys_from_table(self, table: pa.Table) -> np.ndarray:
        keys = np.empty((table.num_rows, 2), dtype=np.uint64)
        keys[:, 0] = table.column("hash_hi").to_numpy()
        keys[:, 1] = table.column("hash_lo").to_numpy()
        return keys

    def _fetch_columns(self) -> list[str]:
        return ["hash_hi", "hash_lo"]

    def _groups(self) -> list[str]:
        return [f"part={part:02d}" for part in range(_EXACT_PARTITIONS)]

    def _group_columns(self, group: str) -> list[str]:
        return ["hash_hi", "hash_lo"]

    def _group_keys(self, table: pa.Table, group: str) -> tuple[list[np.ndarray], np.ndarray]:
        high, low = table.column("hash_hi").to_numpy(), table.column("hash_lo").to_numpy()
        return [high, low], (high >> np.uint64(60)).astype(np.int64) == int(group.split("=")[1])

    def _index_group_keys(self, table: pa.Table) -> list[np.ndarray]:
        return [table.column("hash_hi").to_numpy(), table.column("hash_lo").to_numpy()]

    def _verify(self, keys_a: np.ndarray, keys_b: np.ndarray) -> np.ndarray:
        return np.asarray((keys_a == keys_b).all(axis=1))

    def _similarity(self, keys_a: np.ndarray, keys_b: np.ndarray) -> np.ndarray:
        return (keys_a == keys_b).all(axis=1).astype(np.float32)

    def _manifest(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "format": INDEX_FORMAT,
            "normalization_version": NORMALIZATION_VERSION,
            "normalize": self.params.normalize,
        }

    def _partitions(self, keys: np.ndarray, rows: np.ndarray) -> dict[str, pa.Table]:
        partition = (keys[:, 0] >> np.uint64(60)).astype(np.int64) if len(keys) else np.zeros(0, dtype=np.int64)
        tables = {}
        for part in range(_EXACT_PARTITIONS):
            selected = partition == part
            tables[f"part={part:02d}"] = pa.table(
                {
                    "hash_hi": pa.array(keys[selected, 0], type=pa.uint64()),
                    "hash_lo": pa.array(keys[selected, 1], type=pa.uint64()),
                    "row": pa.array(rows[selected].astype(np.uint32), type=pa.uint32()),
                }
            )
        return tables

    def _kept_signals(self, signals: dict[str, Any], cluster_id: str, cluster_size: int) -> None:
        signals[SIGNAL_EXACT_CLUSTER_SIZE] = cluster_size
