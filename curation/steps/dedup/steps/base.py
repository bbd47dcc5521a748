"""`exact_dedup` and `minhash_dedup`: global steps that remove duplicate documents across all shards of a job,
and against everything earlier jobs of the same collection kept.

Both run in the job engine's three phases, plus a commit:

- collect (per shard): pass documents through unchanged; write a sidecar `shard-NNNNN.parquet` to the step's work
  dir with, per document, its position in the shard, id, text length, quality signal, emptiness and key (exact:
  a 128-bit hash; MinHash: the signature).
- reduce (once): read every sidecar, find duplicate pairs within the job (equal hashes; MinHash: band candidates
  verified against the threshold) and against the persistent index, cluster them (connected components), pick one
  document to keep per cluster, and write `decisions/shard-NNNNN.parquet`, `clusters.parquet` (for the console)
  and `summary.json`.
- apply (per shard): drop what reduce decided, with the reason and the kept document's id in the signals.
- commit (once, after every shard applied): publish the kept documents' keys to the persistent index.

Every phase rewrites the same files when re-run. Decisions depend on document ids, not on how the job was sharded.

Which document a cluster keeps, in order: one already in the persistent index (the earliest job first); the highest
quality signal (`signals["quality_score"]` by default, a float where higher is better; documents without it rank
below those with it); the longest text; the smallest id.

Signals written: kept documents get `cluster_id` (the kept document's id) and `cluster_size` (members, itself
included; 1 when it has no duplicate), or `exact_cluster_size` from `exact_dedup`; removed documents get
`duplicate_of` (the kept document's id), `duplicate_of_job` (the job that kept it), `cluster_id`, `cluster_size`
and, from `minhash_dedup`, `similarity` (estimated Jaccard similarity to the kept document). Documents whose
canonical form is empty (no letter, digit or CJK character) are removed with reason `empty` and never clustered.

Scale: reduce holds, for the whole job, 128 x 4 bytes of signature plus ~100 bytes per document, and reads the
persistent index one band (or one exact-hash partition) at a time.


The steps themselves: `exact.py` (`exact_dedup`) and `minhash.py` (`minhash_dedup`) supply the keys; this module
holds the phases they share.
"""

from __future__ import annotations

import math
import re
from abc import abstractmethod
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar

import numpy as np
import pyarrow as pa

from curation.steps.base import GlobalStep, ShardWork
from curation.steps.dedup import storage
from curation.steps.dedup.index import SubIndex
from curation.steps.dedup.lsh import clusters
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


@dataclass
class Collected:
    """Every shard's sidecar, concatenated in (shard, position) order."""

    shard: np.ndarray  # int64
    position: np.ndarray  # int64
    ids: np.ndarray  # object (str)
    length: np.ndarray  # int64
    quality: np.ndarray  # float64, NaN when absent
    empty: np.ndarray  # bool
    keys: np.ndarray  # exact: (n, 2) uint64; MinHash: (n, num_perm) uint32

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class IndexNodes:
    """Documents of earlier jobs that some document of this job duplicates, and the verified pairs."""

    job: np.ndarray  # int64
    row: np.ndarray  # int64
    ids: np.ndarray  # object (str)
    length: np.ndarray  # int64
    quality: np.ndarray  # float64
    keys: np.ndarray
    edge_doc: np.ndarray  # index into Collected
    edge_node: np.ndarray  # index into these nodes

    def __len__(self) -> int:
        return len(self.job)


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
    def _job_edges(self, collected: Collected, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
        """Return duplicate edges among this job's non-empty documents, and counters for the summary."""
        raise NotImplementedError

    @abstractmethod
    def _index_nodes(self, collected: Collected, index: SubIndex, jobs: Sequence[int]) -> IndexNodes | None:
        """Return the earlier jobs' documents that this job's documents duplicate, read from `jobs`' files."""
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

    def _removed_signals(self, signals: dict[str, Any], decisions: dict[str, list[Any]], position: int) -> None:
        signals[SIGNAL_DUPLICATE_OF] = decisions["duplicate_of"][position]
        signals[SIGNAL_DUPLICATE_OF_JOB] = decisions["duplicate_of_job"][position]
        signals[SIGNAL_CLUSTER_ID] = decisions["cluster_id"][position]
        signals[SIGNAL_CLUSTER_SIZE] = decisions["cluster_size"][position]

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

    # --- reduce ----------------------------------------------------------------------------------------------

    def _load_collected(self, work_dir: str, shard_count: int) -> Collected:
        tables = []
        for shard in range(shard_count):
            url = sidecar_url(work_dir, shard)
            if not storage.exists(url):
                raise FileNotFoundError(f"{self.name}: shard {shard} has not been collected ({url} is missing)")
            tables.append(storage.read_parquet(url))
        table = pa.concat_tables(tables) if tables else self._sidecar_schema().empty_table()
        return Collected(
            shard=np.repeat(np.arange(shard_count, dtype=np.int64), [t.num_rows for t in tables]),
            position=table.column("position").to_numpy(),
            ids=np.array(table.column("id").to_pylist(), dtype=object),
            length=table.column("length").to_numpy(),
            quality=table.column("quality").to_numpy(zero_copy_only=False),
            empty=table.column("empty").to_numpy(zero_copy_only=False).astype(bool),
            keys=self._keys_from_table(table),
        )

    def reduce(self, work: ShardWork) -> dict[str, Any]:
        """Cluster duplicates over all shards (and the index); write decisions, clusters and a summary.

        Re-running rewrites identical files. Reads the persistent index but never changes it.
        """
        index = self._index(work)
        self._prepare(index)
        collected = self._load_collected(work.work_dir, work.shard_count)
        count = len(collected)
        rank = canonical_rank(collected)
        left, right, counters = self._job_edges(collected, rank)
        nodes = None
        # Earlier jobs only: after this job's own commit, a re-run of reduce must not find the job in the index.
        index_jobs = [job for job in index.committed_jobs() if job != work.job_id] if index is not None else []
        if index is not None and index_jobs:
            index.check_manifest(self._manifest())
            nodes = self._index_nodes(collected, index, index_jobs)
        node_count = len(nodes) if nodes is not None else 0
        if nodes is not None and node_count:
            left = np.concatenate([left, nodes.edge_doc])
            right = np.concatenate([right, count + nodes.edge_node])
        labels = clusters(count + node_count, left, right)

        # Node attributes: this job's documents first, then the earlier jobs' documents they duplicate.
        def joined(mine: np.ndarray, theirs: np.ndarray | None) -> np.ndarray:
            return np.concatenate([mine, theirs]) if theirs is not None and node_count else mine

        ids = joined(collected.ids, nodes.ids if nodes else None)
        jobs = joined(np.full(count, work.job_id, dtype=np.int64), nodes.job if nodes else None)
        quality = joined(collected.quality, nodes.quality if nodes else None)
        length = joined(collected.length, nodes.length if nodes else None)
        keys = joined(collected.keys, nodes.keys if nodes else None)
        from_index = np.concatenate([np.zeros(count, dtype=bool), np.ones(node_count, dtype=bool)])
        # Last tiebreak: this job's documents by (id, shard, position), earlier jobs' by (id, job, row). The two
        # never compete, since an earlier job's document always wins.
        tiebreak = rank
        if nodes is not None and node_count:
            node_order = np.lexsort((nodes.row, nodes.job, nodes.ids.astype(str)))
            tiebreak = np.concatenate([rank, np.argsort(node_order).astype(np.int64)])
        quality_key = np.where(np.isnan(quality), -np.inf, quality)
        # The kept member of each cluster sorts first: index documents (earliest job), quality, length, id.
        order = np.lexsort((tiebreak, -length, -quality_key, jobs, ~from_index, labels))
        sorted_labels = labels[order]
        firsts = np.ones(len(order), dtype=bool)
        firsts[1:] = sorted_labels[1:] != sorted_labels[:-1]
        kept_node = np.zeros(labels.max() + 1 if len(labels) else 0, dtype=np.int64)
        kept_node[sorted_labels[firsts]] = order[firsts]
        sizes = np.bincount(labels, minlength=len(kept_node)) if len(labels) else np.zeros(0, dtype=np.int64)

        mine = np.arange(count)
        my_kept = kept_node[labels[:count]] if count else np.zeros(0, dtype=np.int64)
        action = np.where(collected.empty, ACTION_EMPTY, np.where(my_kept == mine, ACTION_KEEP, ACTION_DUPLICATE))
        duplicate = action == ACTION_DUPLICATE
        similarity = np.full(count, np.nan, dtype=np.float32)
        if duplicate.any():
            similarity[duplicate] = self._similarity(collected.keys[duplicate], keys[my_kept[duplicate]])
        cluster_size = sizes[labels[:count]] if count else np.zeros(0, dtype=np.int64)

        self._write_decisions(work, collected, action, my_kept, ids, jobs, similarity, cluster_size)
        self._write_clusters(work, collected, labels, kept_node, sizes, ids, jobs, keys, from_index, order)

        nonempty_labels = np.unique(labels[:count][~collected.empty])
        histogram: dict[str, int] = {}
        if len(nonempty_labels):
            size_values, size_counts = np.unique(sizes[nonempty_labels], return_counts=True)
            histogram = {str(int(s)): int(c) for s, c in zip(size_values, size_counts, strict=True)}
        against_index = duplicate & from_index[my_kept] if count else np.zeros(0, dtype=bool)
        summary: dict[str, Any] = {
            "step": self.name,
            "job_id": work.job_id,
            "docs": count,
            "empty": int(collected.empty.sum()),
            "kept": int((action == ACTION_KEEP).sum()),
            "duplicates": int(duplicate.sum()),
            "duplicates_of_earlier_jobs": int(against_index.sum()),
            "clusters": int(sum(c for s, c in histogram.items() if int(s) > 1)),
            "largest_cluster": max((int(s) for s in histogram), default=0),
            "cluster_size_histogram": histogram,
            "index_jobs": index_jobs,
            **counters,
        }
        storage.write_json(storage.join(work.work_dir, SUMMARY_FILE), summary)
        return summary

    def _write_decisions(
        self,
        work: ShardWork,
        collected: Collected,
        action: np.ndarray,
        kept: np.ndarray,
        ids: np.ndarray,
        jobs: np.ndarray,
        similarity: np.ndarray,
        cluster_size: np.ndarray,
    ) -> None:
        empty = action == ACTION_EMPTY
        not_duplicate = action != ACTION_DUPLICATE
        for shard in range(work.shard_count):
            rows = np.flatnonzero(collected.shard == shard)
            table = pa.table(
                {
                    "position": pa.array(collected.position[rows]),
                    "id": pa.array(collected.ids[rows].tolist(), type=pa.string()),
                    "action": pa.array(action[rows].astype(np.int8)),
                    "duplicate_of": pa.array(
                        ids[kept[rows]].tolist(), type=pa.string(), mask=not_duplicate[rows]
                    ),
                    "duplicate_of_job": pa.array(jobs[kept[rows]], mask=not_duplicate[rows]),
                    "similarity": pa.array(similarity[rows], mask=not_duplicate[rows]),
                    "cluster_id": pa.array(ids[kept[rows]].tolist(), type=pa.string(), mask=empty[rows]),
                    "cluster_size": pa.array(cluster_size[rows].astype(np.int32), mask=empty[rows]),
                }
            )
            storage.write_parquet(decisions_url(work.work_dir, shard), table)

    def _write_clusters(
        self,
        work: ShardWork,
        collected: Collected,
        labels: np.ndarray,
        kept_node: np.ndarray,
        sizes: np.ndarray,
        ids: np.ndarray,
        jobs: np.ndarray,
        keys: np.ndarray,
        from_index: np.ndarray,
        order: np.ndarray,
    ) -> None:
        """Write every member of every cluster of two or more, kept member first, for the console."""
        count = len(collected)
        members = order[sizes[labels[order]] > 1] if len(order) else order
        kept = kept_node[labels[members]]
        similarity = np.ones(len(members), dtype=np.float32)
        others = members != kept
        if others.any():
            similarity[others] = self._similarity(keys[members[others]], keys[kept[others]])
        local = members < count
        shard = np.full(len(members), -1, dtype=np.int64)
        shard[local] = collected.shard[members[local]]
        position = np.full(len(members), -1, dtype=np.int64)
        position[local] = collected.position[members[local]]
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
        table = storage.read_parquet(decisions_url(work.work_dir, work.shard_index))
        columns = {name: table.column(name).to_pylist() for name in table.column_names}
        ids, actions = columns["id"], columns["action"]
        cluster_ids, sizes = columns["cluster_id"], columns["cluster_size"]
        count = len(ids)
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
                self._removed_signals(signals_of(doc), columns, position)
                self.drop(doc, self.reason)
            else:
                self.drop(doc, REASON_EMPTY)
        if docs_in != count:
            raise RuntimeError(
                f"{self.name}: shard {work.shard_index} had {count} documents at collect, {docs_in} at apply"
            )

    # --- commit ----------------------------------------------------------------------------------------------

    def commit(self, work: ShardWork, job_kept_ids: Collection[str] | None = None) -> None:
        """Publish this job's kept documents to the persistent index; a no-op without one, or when done before.

        With `job_kept_ids`, only documents the whole job kept are published: one that a later step removed
        (MinHash after exact, PII, the classifier) is not what later jobs should be deduplicated against.
        """
        index = self._index(work)
        if index is None or index.has_job(work.job_id):
            return
        self._prepare(index)
        tables = [storage.read_parquet(sidecar_url(work.work_dir, shard)) for shard in range(work.shard_count)]
        sidecars = pa.concat_tables(tables) if tables else self._sidecar_schema().empty_table()
        actions = [
            storage.read_parquet(decisions_url(work.work_dir, shard), columns=["action"]).column("action")
            for shard in range(work.shard_count)
        ]
        action = (
            np.concatenate([column.to_numpy() for column in actions]) if actions else np.zeros(0, dtype=np.int8)
        )
        all_ids = sidecars.column("id").to_pylist()
        keep = action == ACTION_KEEP
        if job_kept_ids is not None:
            keep &= np.fromiter((doc_id in job_kept_ids for doc_id in all_ids), dtype=bool, count=len(all_ids))
        kept = np.flatnonzero(keep)  # in (shard, position) order: the same on every re-run
        # Rows are selected in numpy, not with Arrow's `take`: the first Arrow compute call in a process builds
        # its function registry (~50 ms), more than this whole commit otherwise costs.
        keys = self._keys_from_table(sidecars)[kept]
        ids = np.array(all_ids, dtype=object)[kept]
        rows = np.arange(len(kept), dtype=np.int64)
        docs = pa.table(
            {
                "row": pa.array(rows),
                "id": pa.array(ids.tolist(), type=pa.string()),
                "length": pa.array(sidecars.column("length").to_numpy()[kept]),
                "quality": pa.array(sidecars.column("quality").to_numpy()[kept]),
                **self._index_doc_columns(keys),
            }
        )
        index.publish(work.job_id, self._manifest(), docs, self._partitions(keys, rows), guard=work.commit_guard)

    def _index_doc_columns(self, keys: np.ndarray) -> dict[str, pa.Array]:
        return {}


def canonical_rank(collected: Collected) -> np.ndarray:
    """Return each document's rank in (id, shard, position) order: decisions follow ids, not sharding."""
    ids = collected.ids.tolist()
    # Documents come in (shard, position) order, so a stable sort by id is the (id, shard, position) order.
    order = np.array(sorted(range(len(ids)), key=ids.__getitem__), dtype=np.int64)
    rank = np.empty(len(ids), dtype=np.int64)
    rank[order] = np.arange(len(ids), dtype=np.int64)
    return rank


def star_edges(keys: Sequence[np.ndarray], members: np.ndarray, rank: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Link every member to the first (in canonical order) member with the same key."""
    if len(members) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = np.lexsort((rank[members], *[key[members] for key in reversed(keys)]))
    sorted_members = members[order]
    same = np.ones(len(order), dtype=bool)
    same[0] = False
    for key in keys:
        column = key[sorted_members]
        same[1:] &= column[1:] == column[:-1]
    group_start = np.maximum.accumulate(np.where(~same, np.arange(len(order)), 0))
    return sorted_members[group_start[same]], sorted_members[same]
def build_index_nodes(
    index: SubIndex,
    edge_doc: np.ndarray,
    edge_job: np.ndarray,
    edge_row: np.ndarray,
    key_columns: list[str] | None,
    keys_of: Any,
) -> IndexNodes | None:
    """Deduplicate matched (job, row) pairs into nodes and read their attributes from the index."""
    if len(edge_doc) == 0:
        return None
    pairs = np.unique(np.stack([edge_doc, edge_job, edge_row], axis=1), axis=0)
    node_keys, edge_node = np.unique(pairs[:, 1:], axis=0, return_inverse=True)
    edge_node = edge_node.reshape(-1)
    ids: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    qualities: list[np.ndarray] = []
    keys: list[np.ndarray] = []
    for job in np.unique(node_keys[:, 0]).tolist():
        rows = node_keys[node_keys[:, 0] == job, 1]
        table = index.read_docs(job, rows, columns=["id", "length", "quality", *(key_columns or [])])
        ids.append(np.array(table.column("id").to_pylist(), dtype=object))
        lengths.append(table.column("length").to_numpy())
        qualities.append(table.column("quality").to_numpy(zero_copy_only=False))
        keys.append(keys_of(table) if keys_of else np.zeros((len(rows), 2), dtype=np.uint64))
    return IndexNodes(
        job=node_keys[:, 0].astype(np.int64),
        row=node_keys[:, 1].astype(np.int64),
        ids=np.concatenate(ids),
        length=np.concatenate(lengths).astype(np.int64),
        quality=np.concatenate(qualities).astype(np.float64),
        keys=np.concatenate(keys),
        edge_doc=pairs[:, 0].astype(np.int64),
        edge_node=edge_node.astype(np.int64),
    )


def restrict_edges(nodes: IndexNodes, verified: np.ndarray) -> IndexNodes | None:
    """Keep verified edges only, and the nodes they touch."""
    if not verified.any():
        return None
    used, edge_node = np.unique(nodes.edge_node[verified], return_inverse=True)
    return IndexNodes(
        job=nodes.job[used],
        row=nodes.row[used],
        ids=nodes.ids[used],
        length=nodes.length[used],
        quality=nodes.quality[used],
        keys=nodes.keys[used],
        edge_doc=nodes.edge_doc[verified],
        edge_node=edge_node.reshape(-1).astype(np.int64),
    )
