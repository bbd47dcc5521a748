"""`minhash_dedup`: remove near-duplicate documents (MinHash signatures, LSH bands, verified pairs, clusters).

`minhash_dedup` defaults: 5-shingles and 128 permutations (Gopher, Rae et al. 2021, appendix A.1.1, and datatrove's
`MinhashConfig`); estimated Jaccard similarity >= 0.8 to count as a near duplicate (the issue's target, and
datasketch's `MinHashLSH` threshold in the benchmark baseline); bands and rows chosen from the threshold for recall,
21 x 6 at 0.8 (see `lsh.choose_bands`), every candidate pair then verified against the threshold. On planted copies
of real English and Chinese pages this removes every must-remove copy and no distinct page (bench/RESULTS.md).

The phases, the choice of the kept copy and the signals are shared with `exact_dedup`: see `base.py`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from curation.steps.base import register_step
from curation.steps.dedup import storage
from curation.steps.dedup.index import INDEX_FORMAT, SubIndex
from curation.steps.dedup.lsh import band_hashes, choose_bands
from curation.steps.dedup.minhash import MinHashParams, signatures_of_batch
from curation.steps.dedup.normalize import NORMALIZATION_VERSION, tokenize_batch
from curation.steps.dedup.steps.base import (
    QUALITY_SIGNAL,
    REASON_NEAR,
    SIGNAL_SIMILARITY,
    Deduplicator,
)


@dataclass(frozen=True)
class MinHashDedupParams:
    """How near duplicates are found (defaults and their sources: see the module docstring).

    `threshold`: estimated Jaccard similarity at or above which two documents are duplicates. `bands`/`rows`: LSH
    banding, 0 and 0 to choose them from the threshold. `kernel`: "rensa" (fast) or "datasketch" (bit-identical to
    datasketch). `quality_signal`: the signal that decides which copy is kept, higher is better.
    """

    shingle_size: int = 5
    num_perm: int = 128
    threshold: float = 0.8
    bands: int = 0
    rows: int = 0
    seed: int = 1
    kernel: str = "rensa"
    quality_signal: str = QUALITY_SIGNAL

    def __post_init__(self) -> None:
        minhash = self.minhash()  # validates shingle_size, num_perm, seed and kernel
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, (int, float)):
            raise ValueError("threshold must be a number")
        if not 0.0 < float(self.threshold) <= 1.0:
            raise ValueError("threshold must be in (0, 1]")
        for name in ("bands", "rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be a non-negative integer")
        if (self.bands == 0) != (self.rows == 0):
            raise ValueError("give both bands and rows, or neither")
        if self.bands * self.rows > minhash.num_perm:
            raise ValueError(f"bands * rows ({self.bands * self.rows}) exceeds num_perm ({minhash.num_perm})")
        if not isinstance(self.quality_signal, str) or not self.quality_signal:
            raise ValueError("quality_signal must be a signal name")

    def minhash(self) -> MinHashParams:
        return MinHashParams(
            shingle_size=self.shingle_size, num_perm=self.num_perm, seed=self.seed, kernel=self.kernel
        )

    def banding(self) -> tuple[int, int]:
        if self.bands and self.rows:
            return self.bands, self.rows
        return choose_bands(float(self.threshold), self.num_perm)

    def required_matches(self) -> int:
        """The number of equal slots out of num_perm that reaches the threshold."""
        return math.ceil(float(self.threshold) * self.num_perm - 1e-9)


def _verified(sigs_a: np.ndarray, sigs_b: np.ndarray, required: int) -> np.ndarray:
    """Return, per row pair, whether at least `required` slots are equal."""
    out = np.empty(len(sigs_a), dtype=bool)
    step = 1 << 15
    for start in range(0, len(sigs_a), step):
        equal = np.count_nonzero(sigs_a[start : start + step] == sigs_b[start : start + step], axis=1)
        out[start : start + step] = equal >= required
    return out


@register_step
class MinHashDeduplicator(Deduplicator[MinHashDedupParams]):
    """Remove near-duplicate documents: MinHash signatures, LSH band buckets, verified pairs, clusters."""

    name = "minhash_dedup"
    Params = MinHashDedupParams
    kind = "minhash"
    reason = REASON_NEAR
    _banding: tuple[int, int] | None = None

    def _prepare(self, index: SubIndex | None) -> None:
        # With automatic banding, an existing index's bands and rows win, so a job may change the threshold
        # without rebuilding the index (only pairs at the new threshold are then candidates with a little less
        # than 99% probability when the threshold is lower than the one the index was built for).
        self._banding = self.params.banding()
        manifest = index.manifest() if index is not None and not self.params.bands else None
        if manifest is not None and manifest.get("bands") and manifest.get("rows"):
            bands, rows = int(manifest["bands"]), int(manifest["rows"])
            if bands * rows <= self.params.num_perm:
                self._banding = (bands, rows)

    def banding(self) -> tuple[int, int]:
        """The bands and rows in use: set by the last phase from the parameters and the index."""
        return self._banding or self.params.banding()

    def _keys_of_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        batch = tokenize_batch(texts)
        return signatures_of_batch(batch, self.params.minhash()), batch.token_counts() == 0

    def _key_schema(self) -> list[pa.Field]:
        bands, _ = self.banding()
        return [
            pa.field("signature", pa.binary(4 * self.params.num_perm)),
            *(pa.field(_band_column(band), pa.uint64()) for band in range(bands)),
        ]

    def _no_keys(self) -> np.ndarray:
        return np.zeros((0, self.params.num_perm), dtype=np.uint32)

    def _key_columns(self, keys: np.ndarray) -> dict[str, pa.Array]:
        # The band hashes are written next to the signature, so a reduce partition reads only its bands' columns.
        bands, rows = self.banding()
        hashes = band_hashes(keys, bands, rows) if len(keys) else np.zeros((0, bands), dtype=np.uint64)
        return {
            "signature": _signature_array(keys, self.params.num_perm),
            **{_band_column(band): pa.array(hashes[:, band], type=pa.uint64()) for band in range(bands)},
        }

    def _keys_from_table(self, table: pa.Table) -> np.ndarray:
        return _signatures_from_column(table.column("signature"), self.params.num_perm)

    def _fetch_columns(self) -> list[str]:
        return ["signature"]

    def _groups(self) -> list[str]:
        bands, _ = self.banding()
        return [f"band={band:02d}" for band in range(bands)]

    def _group_columns(self, group: str) -> list[str]:
        return [_band_column(int(group.split("=")[1]))]

    def _read_group(self, url: str, group: str) -> pa.Table:
        table = super()._read_group(url, group)
        column = self._group_columns(group)[0]
        if column in table.column_names:
            return table
        # A sidecar collected before band columns were written (a job in flight across that upgrade): its band
        # hashes from its signatures, as collect computes them. Every band is hashed for one: this path only
        # serves such jobs.
        collected = storage.read_parquet(url, columns=["empty", "signature"])
        bands, rows = self.banding()
        hashes = band_hashes(self._keys_from_table(collected), bands, rows)[:, int(group.split("=")[1])]
        return pa.table({"empty": collected.column("empty"), column: pa.array(hashes, type=pa.uint64())})

    def _group_keys(self, table: pa.Table, group: str) -> tuple[list[np.ndarray], np.ndarray]:
        hashes = table.column(self._group_columns(group)[0]).to_numpy()
        return [hashes], np.ones(len(hashes), dtype=bool)

    def _index_group_keys(self, table: pa.Table) -> list[np.ndarray]:
        return [table.column("band_hash").to_numpy()]

    def _verify(self, keys_a: np.ndarray, keys_b: np.ndarray) -> np.ndarray:
        return _verified(keys_a, keys_b, self.params.required_matches())

    def _index_keys(self, index: SubIndex, job: int, rows: np.ndarray) -> np.ndarray | None:
        table = index.read_docs(job, rows, columns=["signature"])
        return _signatures_from_column(table.column("signature"), self.params.num_perm)

    def _pair_counters(self, candidates: int, verified: int) -> dict[str, int]:
        return {"candidate_pairs": candidates, "verified_pairs": verified}

    def _similarity(self, keys_a: np.ndarray, keys_b: np.ndarray) -> np.ndarray:
        out = np.empty(len(keys_a), dtype=np.float32)
        step = 1 << 15
        for start in range(0, len(keys_a), step):
            equal = np.count_nonzero(keys_a[start : start + step] == keys_b[start : start + step], axis=1)
            out[start : start + step] = equal / np.float32(self.params.num_perm)
        return out

    def _manifest(self) -> dict[str, Any]:
        bands, rows = self.banding()
        return {
            "kind": self.kind,
            "format": INDEX_FORMAT,
            "normalization_version": NORMALIZATION_VERSION,
            "shingle_size": self.params.shingle_size,
            "num_perm": self.params.num_perm,
            "seed": self.params.seed,
            "kernel": self.params.kernel,
            "bands": bands,
            "rows": rows,
        }

    def _partitions(self, keys: np.ndarray, rows: np.ndarray) -> dict[str, pa.Table]:
        bands, band_rows = self.banding()
        hashes = band_hashes(keys, bands, band_rows) if len(keys) else np.zeros((0, bands), dtype=np.uint64)
        return {
            f"band={band:02d}": pa.table(
                {
                    "band_hash": pa.array(hashes[:, band], type=pa.uint64()),
                    "row": pa.array(rows.astype(np.uint32), type=pa.uint32()),
                }
            )
            for band in range(bands)
        }

    def _index_doc_columns(self, keys: np.ndarray) -> dict[str, pa.Array]:
        return {"signature": _signature_array(keys, self.params.num_perm)}

    def _removed_signals(self, signals: dict[str, Any], decisions: dict[str, list[Any]], row: int) -> None:
        super()._removed_signals(signals, decisions, row)
        signals[SIGNAL_SIMILARITY] = round(float(decisions["similarity"][row]), 4)



def _band_column(band: int) -> str:
    return f"band_{band:02d}"


def _signature_array(sigs: np.ndarray, num_perm: int) -> pa.Array:
    data = np.ascontiguousarray(sigs, dtype="<u4")
    buffers = [None, pa.py_buffer(data)]
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(4 * num_perm), len(data), buffers)


def _signatures_from_column(column: pa.ChunkedArray | pa.Array, num_perm: int) -> np.ndarray:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if len(array) == 0:
        return np.zeros((0, num_perm), dtype=np.uint32)
    # A read-only view of Arrow's buffer: reduce and commit only read signatures.
    values = np.frombuffer(array.buffers()[1], dtype="<u4").view(np.uint32)
    start = array.offset * num_perm
    return values[start : start + len(array) * num_perm].reshape(len(array), num_perm)

