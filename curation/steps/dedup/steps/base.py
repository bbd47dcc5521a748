"""`exact_dedup` and `minhash_dedup`: global steps that remove duplicate documents across all shards of a job,
and against everything earlier jobs of the same collection kept.

Both run in the job engine's three phases, plus a commit:

- collect (per shard): pass documents through unchanged; write a sidecar `shard-NNNNN.parquet` to the step's work
  dir with, per document, its position in the shard, id, text length, quality signal, emptiness and key (exact:
  a 128-bit hash; MinHash: the signature and its band hashes, one column per band).
- reduce, in two stages:
  - partitions (any number of units, each on any worker): the key groups (MinHash: its bands; exact: 16 ranges
    of the hash) are dealt round-robin to the units; a unit reads only its groups' key columns of every sidecar
    and its groups' files of the persistent index, one group at a time, finds the candidate pairs (equal keys),
    verifies them on the full keys of just those documents (MinHash: estimated similarity >= threshold) and
    writes them to `reduce/pairs-PPPPP.parquet` and `reduce/index-PPPPP.parquet`;
  - components (one unit): the connected components of the verified pairs, one kept document per cluster,
    `decisions/shard-NNNNN.parquet` (only documents in clusters of two or more: the others are kept alone),
    `clusters.parquet` (for the console) and `summary.json`. It holds the duplicates, never the whole job.
- apply (per shard): drop what reduce decided, with the reason and the kept document's id in the signals.
- commit (once, after every shard applied): publish the kept documents' keys to the persistent index, shard after
  shard.

Every phase rewrites the same files when re-run. Decisions depend on document ids, not on how the job was sharded
or how many partitions its reduce had.

Which document a cluster keeps, in order: one already in the persistent index (the earliest job first); the highest
quality signal (`signals["quality_score"]` by default, a float where higher is better; documents without it rank
below those with it); the longest text; the smallest id.

Signals written: kept documents get `cluster_id` (the kept document's id) and `cluster_size` (members, itself
included; 1 when it has no duplicate), or `exact_cluster_size` from `exact_dedup`; removed documents get
`duplicate_of` (the kept document's id), `duplicate_of_job` (the job that kept it), `cluster_id`, `cluster_size`
and, from `minhash_dedup`, `similarity` (estimated Jaccard similarity to the kept document). Documents whose
canonical form is empty (no letter, digit or CJK character) are removed with reason `empty` and never clustered.

Scale: no unit holds the whole job's signatures. A partition unit holds, for one key group at a time, 8 bytes of
key and 8 of document reference per document (exact: per document of its hash range), plus the full keys of the
documents in its candidate pairs; the components unit holds the documents in clusters (~600 bytes each); apply
and commit hold one shard. See docs/architecture.md and bench/dedup_sizing.py.

The steps themselves: `exact.py` (`exact_dedup`) and `minhash.py` (`minhash_dedup`) supply the keys; this module
holds the phases they share.
"""

from __future__ import annotations

import math
import re
from abc import abstractmethod
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np
import pyarrow as pa

from curation.steps.base import GlobalStep, ShardWork
from curation.steps.dedup import storage
from curation.steps.dedup.index import SubIndex
from curation.steps.dedup.lsh import ALL_PAIRS_BUCKET, clusters, small_bucket_pairs, star_and_chain
from curation.steps.dedup.normalize import has_tokens
from curation.steps.document import Document, signals_of

QUALITY_SIGNAL = "quality_score"

REASON_EMPTY = "empty"
REASON_EXACT = "exact_duplicate"
REASON_NEAR = "near_duplicate"

SIGNAL_CLUSTER_ID = "cluster_id"
SIGNAL_CLUSTER_SIZE = "cluster_size"
SIGNAL_EXACT_CLUSTER_SIZE = "exact_cluster_size"
SIGNAL_DUPLICATE_OF = "duplicate_of"
SIGNAL_DUPLICATE_OF_JOB = "duplicate_of_job"
SIGNAL_SIMILARITY = "similarity"

ACTION_KEEP = 0
ACTION_DUPLICATE = 1
ACTION_EMPTY = 2

SIDECAR_PATTERN = "shard-{index:05d}.parquet"
DECISIONS_DIR = "decisions"
REDUCE_DIR = "reduce"
CLUSTERS_FILE = "clusters.parquet"
SUMMARY_FILE = "summary.json"

# Documents are hashed in batches of about this many characters (numpy arrays stay in cache).
_BATCH_CHARS = 1 << 17
_BATCH_DOCS = 512
# At most this many earlier-job documents are compared per shared index bucket (the earliest jobs first).
INDEX_CANDIDATES_PER_BUCKET = 16


def sidecar_url(work_dir: str, shard_index: int) -> str:
    return storage.join(work_dir, SIDECAR_PATTERN.format(index=shard_index))


def decisions_url(work_dir: str, shard_index: int) -> str:
    return storage.join(work_dir, DECISIONS_DIR, SIDECAR_PATTERN.format(index=shard_index))


def merge_matches(
    index_keys: Sequence[np.ndarray], query_keys: Sequence[np.ndarray], index_tiebreak: np.ndarray, limit: int
) -> tuple[np.ndarray, np.ndarray]:
    """Match queries to index entries with equal keys; return (query, index entry) pairs.

    Keys are tuples of uint64 columns. Each query gets at most `limit` entries, those with the smallest tiebreak.
    """
    index_count = len(index_tiebreak)
    query_count = len(query_keys[0])
    if index_count == 0 or query_count == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    columns = [np.concatenate([i, q]) for i, q in zip(index_keys, query_keys, strict=True)]
    is_query = np.concatenate([np.zeros(index_count, dtype=np.int8), np.ones(query_count, dtype=np.int8)])
    tiebreak = np.concatenate([index_tiebreak, np.zeros(query_count, dtype=np.int64)])
    order = np.lexsort((tiebreak, is_query, *reversed(columns)))
    sorted_columns = [column[order] for column in columns]
    new_group = np.ones(len(order), dtype=bool)
    for column in sorted_columns:
        new_group[1:] &= column[1:] == column[:-1]
    new_group = ~new_group
    new_group[0] = True
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
    sorted_is_query = is_query[order]
    # Index entries come first in their group: count them per group.
    index_seen = np.concatenate([[0], np.cumsum(1 - sorted_is_query)])
    index_in_group = index_seen[1:] - index_seen[group_start]
    queries = np.flatnonzero(sorted_is_query == 1)
    available = np.minimum(index_in_group[queries], limit)
    hits = queries[available > 0]
    counts = available[available > 0]
    if len(hits) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    query_side = np.repeat(order[hits] - index_count, counts)
    starts = np.repeat(group_start[hits], counts)
    within = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    index_side = order[starts + within]
    return query_side.astype(np.int64), index_side.astype(np.int64)


def _quality_of(doc: Document, signal: str) -> float:
    signals = doc.get("signals")
    if not signals:
        return math.nan
    value = signals.get(signal)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return math.nan
    number = float(value)
    return number if math.isfinite(number) else math.nan


# A letter or digit: a text holding one is never empty once normalised (NFKC and case folding keep letters and
# digits letters and digits), so only texts without one need the full normalisation to tell.
_LETTER_OR_DIGIT = re.compile(r"[^\W_]")


def empty_texts(texts: Sequence[str]) -> np.ndarray:
    """Return, per text, whether its canonical form is empty."""
    empty = np.zeros(len(texts), dtype=bool)
    unsure = [index for index, text in enumerate(texts) if _LETTER_OR_DIGIT.search(text) is None]
    if unsure:
        empty[unsure] = ~has_tokens([texts[index] for index in unsure])
    return empty


class DedupParams(Protocol):
    """What both dedup steps' parameters have."""

    @property
    def quality_signal(self) -> str: ...


P = TypeVar("P", bound=DedupParams)


class Deduplicator(GlobalStep[P]):
    """Collect / reduce / apply / commit shared by the exact and the MinHash steps; subclasses supply keys."""

    kind: ClassVar[str]
    reason: ClassVar[str]

    # --- what subclasses implement ---------------------------------------------------------------------------

    @abstractmethod
    def _keys_of_batch(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Return (keys, empty mask) for a batch of texts."""
        raise NotImplementedError

    @abstractmethod
    def _key_columns(self, keys: np.ndarray) -> dict[str, pa.Array]:
        raise NotImplementedError

    @abstractmethod
    def _key_schema(self) -> list[pa.Field]:
        raise NotImplementedError

    @abstractmethod
    def _no_keys(self) -> np.ndarray:
        """The keys of an empty shard."""
        raise NotImplementedError

    @abstractmethod
    def _keys_from_table(self, table: pa.Table) -> np.ndarray:
        raise NotImplementedError

    @abstractmethod
    def _similarity(self, keys_a: np.ndarray, keys_b: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    @abstractmethod
    def _manifest(self) -> dict[str, Any]:
        raise NotImplementedError

    @abstractmethod
    def _partitions(self, keys: np.ndarray, rows: np.ndarray) -> dict[str, pa.Table]:
        raise NotImplementedError

    def _prepare(self, index: SubIndex | None) -> None:
        """Adopt what an existing index fixes before any phase runs (the MinHash banding). The default: nothing."""

    def _kept_signals(self, signals: dict[str, Any], cluster_id: str, cluster_size: int) -> None:
        signals[SIGNAL_CLUSTER_ID] = cluster_id
        signals[SIGNAL_CLUSTER_SIZE] = cluster_size

    def _removed_signals(self, signals: dict[str, Any], decisions: dict[str, list[Any]], row: int) -> None:
        """Sign a removed document with its decision, row `row` of its shard's decisions."""
        signals[SIGNAL_DUPLICATE_OF] = decisions["duplicate_of"][row]
        signals[SIGNAL_DUPLICATE_OF_JOB] = decisions["duplicate_of_job"][row]
        signals[SIGNAL_CLUSTER_ID] = decisions["cluster_id"][row]
        signals[SIGNAL_CLUSTER_SIZE] = decisions["cluster_size"][row]

    # --- collect ---------------------------------------------------------------------------------------------

    def _sidecar_schema(self) -> pa.Schema:
        return pa.schema(
            [
                pa.field("position", pa.int64()),
                pa.field("id", pa.string()),
                pa.field("length", pa.int64()),
                pa.field("quality", pa.float64()),
                pa.field("empty", pa.bool_()),
                *self._key_schema(),
            ]
        )

    def _index(self, work: ShardWork) -> SubIndex | None:
        return SubIndex(work.index_root, self.kind) if work.index_root else None

    def collect(self, docs: Iterator[Document], work: ShardWork) -> Iterator[Document]:
        """Pass documents through and write the shard's sidecar once all have gone by (re-run: same file).

        The sidecar is written when the input is exhausted, so the caller must consume the whole generator.
        """
        index = self._index(work)
        self._prepare(index)
        if index is not None:
            index.check_manifest(self._manifest())
        signal = self._quality_signal()
        ids: list[str] = []
        lengths: list[int] = []
        qualities: list[float] = []
        keys: list[np.ndarray] = []
        empties: list[np.ndarray] = []
        buffer: list[Document] = []
        texts: list[str] = []
        buffered_chars = 0

        def flush() -> None:
            batch_keys, batch_empty = self._keys_of_batch(texts)
            keys.append(batch_keys)
            empties.append(batch_empty)

        for doc in docs:
            text = doc.get("text")
            if not isinstance(text, str):
                text = ""
            doc_id = doc.get("id")
            ids.append(str(doc_id) if doc_id is not None else f"{work.shard_index:05d}:{len(ids)}")
            lengths.append(len(text))
            qualities.append(_quality_of(doc, signal) if doc.get("signals") else math.nan)
            buffer.append(doc)
            texts.append(text)
            buffered_chars += len(text)
            if buffered_chars >= _BATCH_CHARS or len(buffer) >= _BATCH_DOCS:
                flush()
                yield from buffer
                buffer, texts, buffered_chars = [], [], 0
        if buffer:
            flush()
            yield from buffer
        table = pa.table(
            {
                "position": pa.array(np.arange(len(ids), dtype=np.int64)),
                "id": pa.array(ids, type=pa.string()),
                "length": pa.array(np.array(lengths, dtype=np.int64)),
                "quality": pa.array(np.array(qualities, dtype=np.float64)),
                "empty": pa.array(np.concatenate(empties) if empties else np.zeros(0, dtype=bool)),
                **self._key_columns(np.concatenate(keys) if keys else self._no_keys()),
            },
            schema=self._sidecar_schema(),
        )
        storage.write_parquet(sidecar_url(work.work_dir, work.shard_index), table)

    def _quality_signal(self) -> str:
        signal: str = self.params.quality_signal
        return signal

    # --- reduce: partitions, then components -----------------------------------------------------------------

    @abstractmethod
    def _groups(self) -> list[str]:
        """The key groups of this step, each a bucket space of its own and a partition of the persistent index."""
        raise NotImplementedError

    @abstractmethod
    def _group_keys(self, table: pa.Table, group: str) -> tuple[list[np.ndarray], np.ndarray]:
        """Return a group's uint64 key columns for a sidecar's rows, and which rows belong to the group."""
        raise NotImplementedError

    @abstractmethod
    def _group_columns(self, group: str) -> list[str]:
        """The sidecar columns `_group_keys` reads for `group`."""
        raise NotImplementedError

    def _read_group(self, url: str, group: str) -> pa.Table:
        """Read a sidecar's `empty` column and the columns `_group_keys` reads for `group`."""
        return storage.read_parquet(url, columns=["empty", *self._group_columns(group)])

    @abstractmethod
    def _index_group_keys(self, table: pa.Table) -> list[np.ndarray]:
        """Return the key columns of an index partition's rows (as `_group_keys` gives them for documents)."""
        raise NotImplementedError

    # Index entries compared per shared bucket (the earliest jobs first), and whether a candidate pair must be
    # verified on the full keys (MinHash) or is a duplicate by its key alone (exact).
    _index_limit: ClassVar[int] = INDEX_CANDIDATES_PER_BUCKET
    _verify_candidates: ClassVar[bool] = True

    @abstractmethod
    def _verify(self, keys_a: np.ndarray, keys_b: np.ndarray) -> np.ndarray:
        """Return, per row pair, whether the two documents are duplicates."""
        raise NotImplementedError

    @abstractmethod
    def _fetch_columns(self) -> list[str]:
        """The sidecar columns `_keys_from_table` reads."""
        raise NotImplementedError

    def _index_keys(self, index: SubIndex, job: int, rows: np.ndarray) -> np.ndarray | None:
        """Return the keys of an earlier job's documents, or None when the index keeps none (exact)."""
        return None

    def _pair_counters(self, candidates: int, verified: int) -> dict[str, int]:
        return {}

    def _index_jobs(self, index: SubIndex | None, work: ShardWork) -> list[int]:
        # Earlier jobs only: after this job's own commit, a re-run of reduce must not find the job in the index.
        jobs = [job for job in index.committed_jobs() if job != work.job_id] if index is not None else []
        if index is not None and jobs:
            index.check_manifest(self._manifest())
        return jobs

    def _sidecars(self, work: ShardWork) -> list[str]:
        urls = [sidecar_url(work.work_dir, shard) for shard in range(work.shard_count)]
        for shard, url in enumerate(urls):
            if not storage.exists(url):
                raise FileNotFoundError(f"{self.name}: shard {shard} has not been collected ({url} is missing)")
        return urls

    def _fetch(self, work: ShardWork, refs: np.ndarray, columns: list[str]) -> pa.Table:
        """Read the sidecar rows of documents `refs` (sorted, unique), shard by shard, in that order."""
        shards = refs >> REF_SHIFT
        tables = []
        for shard in np.unique(shards).tolist():
            positions = refs[shards == shard] & REF_MASK
            tables.append(storage.read_rows(sidecar_url(work.work_dir, shard), positions, columns))
        if not tables:
            return self._sidecar_schema().empty_table().select(columns)
        return pa.concat_tables(tables)

    def _bucket_pairs(self, work: ShardWork, refs: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
        """Return the candidate pairs (left ref < right ref) among documents with equal keys, as (n, 2) int64.

        A bucket of up to ALL_PAIRS_BUCKET members gives all its pairs; a larger one a star around its first member
        in canonical order (id, shard, position) and a chain through the others, so the pairs, like every
        decision, follow ids and not how the job was sharded or partitioned.
        """
        if len(refs) < 2:
            return np.zeros((0, 2), dtype=np.int64)
        order = np.lexsort((refs, *reversed(keys)))
        same = np.ones(len(order), dtype=bool)
        same[0] = False
        for key in keys:
            column = key[order]
            same[1:] &= column[1:] == column[:-1]
        boundaries = np.flatnonzero(np.concatenate([~same, [True]]))
        sizes = np.diff(boundaries)
        firsts = boundaries[:-1]
        small_left, small_right = small_bucket_pairs(firsts, sizes)
        left = [refs[order[positions]] for positions in small_left]
        right = [refs[order[positions]] for positions in small_right]
        big = np.flatnonzero(sizes > ALL_PAIRS_BUCKET)
        if len(big):
            members_of = [refs[order[firsts[b] : firsts[b] + sizes[b]]] for b in big.tolist()]
            members_all = np.unique(np.concatenate(members_of))
            ids = np.array(self._fetch(work, members_all, ["id"]).column("id").to_pylist(), dtype=object)
            for in_ref_order in members_of:
                members = in_ref_order
                if self._verify_candidates:
                    member_ids = ids[np.searchsorted(members_all, members)]
                    # Members come in ref order, so a stable sort by id gives (id, shard, position) order.
                    members = members[sorted(range(len(members)), key=member_ids.__getitem__)]
                linked = star_and_chain(members)
                left.append(linked[0])
                right.append(linked[1])
        if not left:
            return np.zeros((0, 2), dtype=np.int64)
        a, b = np.concatenate(left), np.concatenate(right)
        return np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1).astype(np.int64)

    def reduce_partition(self, work: ShardWork, partition: int, partitions: int) -> dict[str, Any]:
        """Find the candidate pairs of one partition of the key groups, within the job and against the index.

        Reads only the partition's key columns of every sidecar, one group at a time, the partition's files of
        the persistent index, and the full keys of the documents in candidate pairs. Writes
        `reduce/pairs-PPPPP.parquet` (every candidate pair, and whether it verified) and
        `reduce/index-PPPPP.parquet` (verified matches with earlier jobs' documents). Re-running rewrites the same
        files; the index is only read.
        """
        if not 0 <= partition < partitions:
            raise ValueError(f"partition {partition} is not one of {partitions}")
        index = self._index(work)
        self._prepare(index)
        index_jobs = self._index_jobs(index, work)
        urls = self._sidecars(work)
        groups = self._groups()[partition::partitions]
        pairs: list[np.ndarray] = []
        index_doc: list[np.ndarray] = []
        index_job: list[np.ndarray] = []
        index_row: list[np.ndarray] = []
        for group in groups:
            refs_parts: list[np.ndarray] = []
            key_parts: list[list[np.ndarray]] = []
            for shard, url in enumerate(urls):
                table = self._read_group(url, group)
                keys, member = self._group_keys(table, group)
                member &= ~table.column("empty").to_numpy(zero_copy_only=False).astype(bool)
                rows = np.flatnonzero(member)
                refs_parts.append((np.int64(shard) << REF_SHIFT) | rows.astype(np.int64))
                key_parts.append([key[rows] for key in keys])
            refs = np.concatenate(refs_parts) if refs_parts else np.zeros(0, dtype=np.int64)
            keys = [np.concatenate(columns) for columns in zip(*key_parts, strict=True)] if key_parts else []
            pairs.append(self._bucket_pairs(work, refs, keys))
            if index is not None and index_jobs and len(refs):
                table, row_jobs = index.read_partition(group, index_jobs)
                if table.num_rows:
                    index_rows = table.column("row").to_numpy().astype(np.int64)
                    query, entry = merge_matches(
                        self._index_group_keys(table), keys, row_jobs * (1 << 32) + index_rows, limit=self._index_limit
                    )
                    index_doc.append(refs[query])
                    index_job.append(row_jobs[entry])
                    index_row.append(index_rows[entry])
        candidates = _unique_rows(np.concatenate(pairs) if pairs else np.zeros((0, 2), dtype=np.int64))
        verified = self._verify_pairs(work, candidates)
        matches = _unique_rows(np.stack([np.concatenate(column) if column else np.zeros(0, dtype=np.int64)
                                         for column in (index_doc, index_job, index_row)], axis=1))
        matches = matches[self._verify_matches(work, index, matches)] if len(matches) else matches
        storage.write_parquet(
            reduce_url(work.work_dir, "pairs", partition),
            pa.table({"left": pa.array(candidates[:, 0]), "right": pa.array(candidates[:, 1]),
                      "verified": pa.array(verified)}),
        )
        storage.write_parquet(
            reduce_url(work.work_dir, "index", partition),
            pa.table({"doc": pa.array(matches[:, 0]), "job": pa.array(matches[:, 1]), "row": pa.array(matches[:, 2])}),
        )
        return {"partition": partition, "groups": len(groups), "candidate_pairs": len(candidates),
                "verified_pairs": int(verified.sum()), "index_matches": len(matches)}

    def _verify_pairs(self, work: ShardWork, pairs: np.ndarray) -> np.ndarray:
        if not self._verify_candidates or len(pairs) == 0:
            return np.ones(len(pairs), dtype=bool)
        verified = np.empty(len(pairs), dtype=bool)
        # A chunk of pairs at a time: memory holds the keys of at most 2 * PAIRS_PER_CHUNK documents.
        for start in range(0, len(pairs), PAIRS_PER_CHUNK):
            chunk = pairs[start : start + PAIRS_PER_CHUNK]
            refs = np.unique(chunk)
            keys = self._keys_from_table(self._fetch(work, refs, self._fetch_columns()))
            verified[start : start + len(chunk)] = self._verify(
                keys[np.searchsorted(refs, chunk[:, 0])], keys[np.searchsorted(refs, chunk[:, 1])]
            )
        return verified

    def _verify_matches(self, work: ShardWork, index: SubIndex | None, matches: np.ndarray) -> np.ndarray:
        """Return which (doc, job, row) matches with earlier jobs' documents are duplicates."""
        if not self._verify_candidates or index is None:
            return np.ones(len(matches), dtype=bool)
        verified = np.zeros(len(matches), dtype=bool)
        for start in range(0, len(matches), PAIRS_PER_CHUNK):
            chunk = matches[start : start + PAIRS_PER_CHUNK]
            refs = np.unique(chunk[:, 0])
            mine = self._keys_from_table(self._fetch(work, refs, self._fetch_columns()))
            for job in np.unique(chunk[:, 1]).tolist():
                selected = np.flatnonzero(chunk[:, 1] == job)
                theirs = self._index_keys(index, job, chunk[selected, 2])
                assert theirs is not None
                verified[start + selected] = self._verify(mine[np.searchsorted(refs, chunk[selected, 0])], theirs)
        return verified

    def _node_similarity(
        self, work: ShardWork, index: SubIndex | None, refs: np.ndarray, nodes: _IndexNodes, a: np.ndarray,
        b: np.ndarray,
    ) -> np.ndarray:
        """Return the estimated similarity of node pairs (a[i], b[i]): nodes below len(refs) are this job's
        documents, the others earlier jobs' (`nodes`). Keys are read a chunk of pairs at a time."""
        if not self._verify_candidates:
            # Exact duplicates: every member of a cluster has the kept member's hash.
            return np.ones(len(a), dtype=np.float32)
        count = len(refs)
        out = np.empty(len(a), dtype=np.float32)
        for start in range(0, len(a), PAIRS_PER_CHUNK):
            chunk_a, chunk_b = a[start : start + PAIRS_PER_CHUNK], b[start : start + PAIRS_PER_CHUNK]
            wanted = np.unique(np.concatenate([chunk_a, chunk_b]))
            local = wanted[wanted < count]
            parts = [self._keys_from_table(self._fetch(work, refs[local], self._fetch_columns()))]
            earlier = wanted[wanted >= count] - count
            for job in np.unique(nodes.job[earlier]).tolist():
                of_job = earlier[nodes.job[earlier] == job]
                found = self._index_keys(index, job, nodes.row[of_job]) if index is not None else None
                assert found is not None
                parts.append(found)
            keys = np.concatenate(parts)
            out[start : start + len(chunk_a)] = self._similarity(
                keys[np.searchsorted(wanted, chunk_a)], keys[np.searchsorted(wanted, chunk_b)]
            )
        return out

    def reduce_merge(self, work: ShardWork, partitions: int) -> dict[str, Any]:
        """Cluster the verified pairs of every partition; write decisions, clusters and a summary.

        Holds the documents in clusters of two or more (and the earlier jobs' documents they duplicate), never
        the whole job: a document no pair touches is kept, and apply knows that from its absence. Re-running
        rewrites identical files; the index is only read.
        """
        index = self._index(work)
        self._prepare(index)
        index_jobs = self._index_jobs(index, work)
        pair_tables = [storage.read_parquet(reduce_url(work.work_dir, "pairs", p)) for p in range(partitions)]
        match_tables = [storage.read_parquet(reduce_url(work.work_dir, "index", p)) for p in range(partitions)]
        candidates = _unique_rows(np.stack([
            np.concatenate([t.column(name).to_numpy() for t in pair_tables]).astype(np.int64)
            for name in ("left", "right", "verified")], axis=1))
        edges = candidates[candidates[:, 2] == 1, :2]
        counters = self._pair_counters(len(candidates), len(edges))
        matches = _unique_rows(np.stack([
            np.concatenate([t.column(name).to_numpy() for t in match_tables]).astype(np.int64)
            for name in ("doc", "job", "row")], axis=1))

        # Nodes: this job's documents in (shard, position) order, then earlier jobs' in (job, row) order.
        refs = np.unique(np.concatenate([edges.ravel(), matches[:, 0]]))
        count = len(refs)
        mine = self._fetch(work, refs, ["id", "length", "quality"])
        nodes = _index_nodes(index, matches)
        node_count = len(nodes.job)
        left = np.concatenate([np.searchsorted(refs, edges[:, 0]), np.searchsorted(refs, matches[:, 0])])
        right = np.concatenate([np.searchsorted(refs, edges[:, 1]), count + nodes.edge_node])
        labels = clusters(count + node_count, left, right)

        my_ids = np.array(mine.column("id").to_pylist(), dtype=object)
        ids = np.concatenate([my_ids, nodes.ids])
        jobs = np.concatenate([np.full(count, work.job_id, dtype=np.int64), nodes.job])
        quality = np.concatenate([mine.column("quality").to_numpy(zero_copy_only=False), nodes.quality])
        length = np.concatenate([mine.column("length").to_numpy(), nodes.length])
        from_index = np.concatenate([np.zeros(count, dtype=bool), np.ones(node_count, dtype=bool)])
        # Last tiebreak: this job's documents by (id, shard, position), earlier jobs' by (id, job, row). The two
        # never compete, since an earlier job's document always wins.
        tiebreak = np.concatenate([_order_rank(my_ids), _order_rank(nodes.ids)])
        quality_key = np.where(np.isnan(quality), -np.inf, quality)
        # The kept member of each cluster sorts first: index documents (earliest job), quality, length, id.
        order = np.lexsort((tiebreak, -length, -quality_key, jobs, ~from_index, labels))
        sorted_labels = labels[order]
        firsts = np.ones(len(order), dtype=bool)
        firsts[1:] = sorted_labels[1:] != sorted_labels[:-1]
        kept_node = np.zeros(labels.max() + 1 if len(labels) else 0, dtype=np.int64)
        kept_node[sorted_labels[firsts]] = order[firsts]
        sizes = np.bincount(labels, minlength=len(kept_node)) if len(labels) else np.zeros(0, dtype=np.int64)

        my_kept = kept_node[labels[:count]] if count else np.zeros(0, dtype=np.int64)
        duplicate = my_kept != np.arange(count)
        similarity = np.full(count, np.nan, dtype=np.float32)
        if duplicate.any():
            similarity[duplicate] = self._node_similarity(
                work, index, refs, nodes, np.flatnonzero(duplicate), my_kept[duplicate]
            )
        cluster_size = sizes[labels[:count]] if count else np.zeros(0, dtype=np.int64)
        self._write_decisions(work, refs, my_ids, duplicate, my_kept, ids, jobs, similarity, cluster_size)
        self._write_clusters(work, index, refs, nodes, labels, kept_node, sizes, ids, jobs, from_index, order)

        docs, empty = self._shard_counts(work)
        histogram: dict[int, int] = {}
        if count:
            size_values, size_counts = np.unique(sizes[np.unique(labels[:count])], return_counts=True)
            histogram = {int(s): int(c) for s, c in zip(size_values, size_counts, strict=True)}
        if docs - empty - count > 0:
            histogram[1] = docs - empty - count
        duplicates = int(duplicate.sum())
        summary: dict[str, Any] = {
            "step": self.name,
            "job_id": work.job_id,
            "docs": docs,
            "empty": empty,
            "kept": docs - empty - duplicates,
            "duplicates": duplicates,
            "duplicates_of_earlier_jobs": int((duplicate & from_index[my_kept]).sum()) if count else 0,
            "clusters": sum(c for s, c in histogram.items() if s > 1),
            "largest_cluster": max(histogram, default=0),
            "cluster_size_histogram": {str(s): histogram[s] for s in sorted(histogram)},
            "index_jobs": index_jobs,
            **counters,
        }
        storage.write_json(storage.join(work.work_dir, SUMMARY_FILE), summary)
        return summary

    def reduce(self, work: ShardWork) -> dict[str, Any]:
        """Run the whole reduce in this process: one partition, then the components. Re-running is safe."""
        self.reduce_partition(work, 0, 1)
        return self.reduce_merge(work, 1)

    def _shard_counts(self, work: ShardWork) -> tuple[int, int]:
        """Return the job's documents and empty documents (reading one bit-packed column per shard)."""
        docs = empty = 0
        for url in self._sidecars(work):
            column = storage.read_parquet(url, columns=["empty"]).column("empty")
            docs += len(column)
            empty += int(column.to_numpy(zero_copy_only=False).sum())
        return docs, empty

    def _write_decisions(
        self,
        work: ShardWork,
        refs: np.ndarray,
        my_ids: np.ndarray,
        duplicate: np.ndarray,
        kept: np.ndarray,
        ids: np.ndarray,
        jobs: np.ndarray,
        similarity: np.ndarray,
        cluster_size: np.ndarray,
    ) -> None:
        """Write, per shard, the decisions about its documents in clusters of two or more (the others are kept
        alone, or empty)."""
        shards = refs >> REF_SHIFT
        for shard in range(work.shard_count):
            rows = np.flatnonzero(shards == shard)
            keep = ~duplicate[rows]
            table = pa.table(
                {
                    "position": pa.array(refs[rows] & REF_MASK),
                    "id": pa.array(my_ids[rows].tolist(), type=pa.string()),
                    "action": pa.array(np.where(keep, ACTION_KEEP, ACTION_DUPLICATE).astype(np.int8)),
                    "duplicate_of": pa.array(ids[kept[rows]].tolist(), type=pa.string(), mask=keep),
                    "duplicate_of_job": pa.array(jobs[kept[rows]], mask=keep),
                    "similarity": pa.array(similarity[rows], mask=keep),
                    "cluster_id": pa.array(ids[kept[rows]].tolist(), type=pa.string()),
                    "cluster_size": pa.array(cluster_size[rows].astype(np.int32)),
                }
            )
            storage.write_parquet(decisions_url(work.work_dir, shard), table)

    def _write_clusters(
        self,
        work: ShardWork,
        index: SubIndex | None,
        refs: np.ndarray,
        nodes: _IndexNodes,
        labels: np.ndarray,
        kept_node: np.ndarray,
        sizes: np.ndarray,
        ids: np.ndarray,
        jobs: np.ndarray,
        from_index: np.ndarray,
        order: np.ndarray,
    ) -> None:
        """Write every member of every cluster of two or more, kept member first, for the console."""
        count = len(refs)
        members = order[sizes[labels[order]] > 1] if len(order) else order
        kept = kept_node[labels[members]]
        similarity = np.ones(len(members), dtype=np.float32)
        others = members != kept
        if others.any():
            similarity[others] = self._node_similarity(work, index, refs, nodes, members[others], kept[others])
        local = members < count
        shard = np.full(len(members), -1, dtype=np.int64)
        shard[local] = refs[members[local]] >> REF_SHIFT
        position = np.full(len(members), -1, dtype=np.int64)
        position[local] = refs[members[local]] & REF_MASK
        table = pa.table(
            {
                "cluster_id": pa.array(ids[kept].tolist(), type=pa.string()),
                "cluster_size": pa.array(sizes[labels[members]].astype(np.int32)),
                "member_id": pa.array(ids[members].tolist(), type=pa.string()),
                "member_job": pa.array(jobs[members].astype(np.int64)),
                "kept": pa.array(~others),
                "similarity": pa.array(similarity),
                "from_earlier_job": pa.array(from_index[members]),
                "shard": pa.array(shard.astype(np.int64)),
                "position": pa.array(position.astype(np.int64)),
            }
        )
        storage.write_parquet(storage.join(work.work_dir, CLUSTERS_FILE), table)

    # --- apply -----------------------------------------------------------------------------------------------

    def apply(self, docs: Iterator[Document], work: ShardWork) -> Iterator[Document]:
        """Yield the documents reduce kept (with cluster signals); drop the others with their reason."""
        sidecar = storage.read_parquet(sidecar_url(work.work_dir, work.shard_index), columns=["id", "empty"])
        ids = sidecar.column("id").to_pylist()
        count = len(ids)
        actions = np.where(sidecar.column("empty").to_numpy(zero_copy_only=False), ACTION_EMPTY, ACTION_KEEP).tolist()
        cluster_ids = list(ids)
        sizes = [1] * count
        table = storage.read_parquet(decisions_url(work.work_dir, work.shard_index))
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        decided: dict[int, int] = {}
        for row, position in enumerate(columns["position"]):
            decided[position] = row
            actions[position] = columns["action"][row]
            cluster_ids[position] = columns["cluster_id"][row]
            sizes[position] = columns["cluster_size"][row]
        kept_signals = self._kept_signals
        docs_in = 0
        for position, doc in enumerate(docs):
            if position >= count:
                raise RuntimeError(
                    f"{self.name}: shard {work.shard_index} has more documents than collect saw ({count})"
                )
            doc_id = doc.get("id")
            if doc_id is not None and doc_id != ids[position] and str(doc_id) != ids[position]:
                raise RuntimeError(
                    f"{self.name}: shard {work.shard_index} position {position} is {doc_id!r}, collect saw "
                    f"{ids[position]!r}; apply must see the documents collect saw, in the same order"
                )
            docs_in += 1
            self.count_in(doc)
            action = actions[position]
            if action == ACTION_KEEP:
                signals = doc.get("signals")
                if signals is None:
                    signals = doc["signals"] = {}
                kept_signals(signals, cluster_ids[position], sizes[position])
                yield self.keep(doc)
            elif action == ACTION_DUPLICATE:
                self._removed_signals(signals_of(doc), columns, decided[position])
                self.drop(doc, self.reason)
            else:
                self.drop(doc, REASON_EMPTY)
        if docs_in != count:
            raise RuntimeError(
                f"{self.name}: shard {work.shard_index} had {count} documents at collect, {docs_in} at apply"
            )

    # --- commit ----------------------------------------------------------------------------------------------

    def commit(
        self,
        work: ShardWork,
        job_kept_ids: Collection[str] | None = None,
        kept_ids_of_shard: Callable[[int], Collection[str]] | None = None,
    ) -> None:
        """Publish this job's kept documents to the persistent index; a no-op without one, or when done before.

        With `job_kept_ids` (all of them) or `kept_ids_of_shard` (one shard's at a time), only documents the whole
        job kept are published: one that a later step removed (MinHash after exact, PII, the classifier) is not
        what later jobs should be deduplicated against. Streams shard by shard: memory holds one shard's keys.
        """
        index = self._index(work)
        if index is None or index.has_job(work.job_id):
            return
        self._prepare(index)
        no_rows = np.zeros(0, dtype=np.int64)
        schemas = (self._index_docs(self._no_keys(), no_rows, self._sidecar_schema().empty_table(), no_rows).schema,
                   {name: table.schema for name, table in self._partitions(self._no_keys(), no_rows).items()})

        def batches() -> Iterator[tuple[pa.Table, dict[str, pa.Table]]]:
            first_row = 0
            for shard in range(work.shard_count):
                sidecar = storage.read_parquet(sidecar_url(work.work_dir, shard))
                decided = storage.read_parquet(decisions_url(work.work_dir, shard), columns=["position", "action"])
                keep = ~sidecar.column("empty").to_numpy(zero_copy_only=False).astype(bool)
                positions = decided.column("position").to_numpy()
                keep[positions[decided.column("action").to_numpy() == ACTION_DUPLICATE]] = False
                kept_ids = job_kept_ids if kept_ids_of_shard is None else kept_ids_of_shard(shard)
                if kept_ids is not None:
                    ids = sidecar.column("id").to_pylist()
                    keep &= np.fromiter((doc_id in kept_ids for doc_id in ids), dtype=bool, count=len(ids))
                kept = np.flatnonzero(keep)  # in (shard, position) order: the same on every re-run
                # Rows are selected in numpy, not with Arrow's `take`: the first Arrow compute call in a process
                # builds its function registry (~50 ms), more than a small commit otherwise costs.
                keys = self._keys_from_table(sidecar)[kept]
                rows = np.arange(first_row, first_row + len(kept), dtype=np.int64)
                first_row += len(kept)
                yield self._index_docs(keys, rows, sidecar, kept), self._partitions(keys, rows)

        index.publish_stream(work.job_id, self._manifest(), schemas[0], schemas[1], batches(), guard=work.commit_guard)

    def _index_docs(self, keys: np.ndarray, rows: np.ndarray, sidecar: pa.Table, kept: np.ndarray) -> pa.Table:
        ids = np.array(sidecar.column("id").to_pylist(), dtype=object)[kept]
        return pa.table(
            {
                "row": pa.array(rows, type=pa.int64()),
                "id": pa.array(ids.tolist(), type=pa.string()),
                "length": pa.array(sidecar.column("length").to_numpy()[kept], type=pa.int64()),
                "quality": pa.array(sidecar.column("quality").to_numpy(zero_copy_only=False)[kept],
                                    type=pa.float64()),
                **self._index_doc_columns(keys),
            }
        )

    def _index_doc_columns(self, keys: np.ndarray) -> dict[str, pa.Array]:
        return {}


REF_SHIFT = np.int64(32)
# Candidate pairs verified (and similarities computed) per chunk: at most twice this many keys in memory at once.
PAIRS_PER_CHUNK = 1 << 16
REF_MASK = np.int64((1 << 32) - 1)


def reduce_url(work_dir: str, kind: str, partition: int) -> str:
    return storage.join(work_dir, REDUCE_DIR, f"{kind}-{partition:05d}.parquet")


def _unique_rows(rows: np.ndarray) -> np.ndarray:
    """Return the distinct rows of an (n, k) int64 array, sorted."""
    if len(rows) == 0:
        return rows.reshape(0, rows.shape[1] if rows.ndim == 2 else 0).astype(np.int64)
    order = np.lexsort(tuple(rows[:, column] for column in reversed(range(rows.shape[1]))))
    ordered = rows[order]
    distinct = np.ones(len(ordered), dtype=bool)
    distinct[1:] = (ordered[1:] != ordered[:-1]).any(axis=1)
    return ordered[distinct]


def _order_rank(ids: np.ndarray) -> np.ndarray:
    """Return each element's rank in a stable sort by id (ties keep their order)."""
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids), dtype=np.int64)
    return rank


@dataclass
class _IndexNodes:
    """Earlier jobs' documents that this job's documents duplicate, in (job, row) order, and the matches' ends."""

    job: np.ndarray
    row: np.ndarray
    ids: np.ndarray
    length: np.ndarray
    quality: np.ndarray
    edge_node: np.ndarray  # per match, its index document among these


def _index_nodes(index: SubIndex | None, matches: np.ndarray) -> _IndexNodes:
    """Read the earlier jobs' documents of verified matches (job, row) from the index (not their keys)."""
    node_keys, edge_node = (np.unique(matches[:, 1:], axis=0, return_inverse=True) if len(matches)
                            else (np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)))
    ids: list[np.ndarray] = [np.zeros(0, dtype=object)]
    lengths: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
    qualities: list[np.ndarray] = [np.zeros(0, dtype=np.float64)]
    for job in np.unique(node_keys[:, 0]).tolist():
        assert index is not None
        table = index.read_docs(job, node_keys[node_keys[:, 0] == job, 1], columns=["id", "length", "quality"])
        ids.append(np.array(table.column("id").to_pylist(), dtype=object))
        lengths.append(table.column("length").to_numpy().astype(np.int64))
        qualities.append(table.column("quality").to_numpy(zero_copy_only=False).astype(np.float64))
    return _IndexNodes(
        job=node_keys[:, 0].astype(np.int64),
        row=node_keys[:, 1].astype(np.int64),
        ids=np.concatenate(ids),
        length=np.concatenate(lengths),
        quality=np.concatenate(qualities),
        edge_node=edge_node.reshape(-1).astype(np.int64),
    )
