"""The persistent dedup index of a named collection: what every committed job kept, shared through storage.

A job deduplicated with `--dedup-index NAME` removes what duplicates the documents earlier jobs kept, and
publishes its own kept documents when it commits. The index is plain files under one fsspec URL (a folder, or a
prefix in an object store), so workers on many machines share it without a server, and no worker holds it in
memory. Layout, one sub-index per step kind:

    {index_root}/exact/MANIFEST.json                  how keys were made (normalisation, format)
    {index_root}/exact/jobs/job=000000000042.json     a job's commit marker, written last
    {index_root}/exact/docs/job=000000000042.parquet  row, id, length, quality of the job's kept documents
    {index_root}/exact/part=07/job=000000000042.parquet    hash_hi, hash_lo, row (16 partitions by hash)
    {index_root}/minhash/MANIFEST.json                shingles, permutations, seed, kernel, bands, rows
    {index_root}/minhash/jobs/job=000000000042.json
    {index_root}/minhash/docs/job=000000000042.parquet     row, id, length, quality, signature
    {index_root}/minhash/band=03/job=000000000042.parquet  band_hash, row (one partition per band)

Readers only look at jobs whose marker exists (every file of a job is written before its marker), so a
half-published job is invisible, and a job's contribution is listed and deleted by its job id. Publishing the same
job again is a no-op. A partition (a band, a hash range) is read on its own: the reduce stage works band by band, so
its memory holds one band of the index at a time (12 bytes a document), never the whole index.

What a step publishes is what that step kept and the whole job kept: the job engine passes the ids in the job's
final output to `commit`, so a document a later step removed (MinHash after exact, PII, the quality classifier)
never enters the index, and every `duplicate_of` of a later job names a document in an earlier job's kept output.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from curation.steps.dedup import storage

INDEX_FORMAT = 1
KINDS = ("exact", "minhash")
MANIFEST = "MANIFEST.json"


class IndexMismatchError(ValueError):
    """The index was built with other parameters than the step that wants to use it."""


def job_key(job_id: int) -> str:
    """Return the file-name form of a job id, zero-padded so names sort by job id."""
    return f"job={job_id:012d}"


def _job_from_name(name: str) -> int | None:
    stem = name.split(".", 1)[0]
    if not stem.startswith("job="):
        return None
    try:
        return int(stem[4:])
    except ValueError:
        return None


@dataclass(frozen=True)
class SubIndex:
    """One kind's part of a collection's index (`exact` or `minhash`)."""

    index_root: str
    kind: str

    @property
    def root(self) -> str:
        return storage.join(self.index_root, self.kind)

    def manifest(self) -> dict[str, Any] | None:
        url = storage.join(self.root, MANIFEST)
        return storage.read_json(url) if storage.exists(url) else None

    def check_manifest(self, expected: Mapping[str, Any]) -> None:
        """Raise IndexMismatchError when the index exists and was built with other parameters."""
        found = self.manifest()
        if found is not None and found != dict(expected):
            differing = sorted(key for key in set(found) | set(expected) if found.get(key) != expected.get(key))
            raise IndexMismatchError(
                f"dedup index {self.root} was built with other {self.kind} parameters "
                f"({', '.join(f'{key}: index {found.get(key)!r}, step {expected.get(key)!r}' for key in differing)}); "
                "use another index name or the index's parameters"
            )

    def committed_jobs(self) -> list[int]:
        """Return the ids of the jobs whose contribution is complete, in ascending order."""
        jobs = (_job_from_name(name) for name in storage.list_names(storage.join(self.root, "jobs")))
        return sorted(job for job in jobs if job is not None)

    def has_job(self, job_id: int) -> bool:
        return storage.exists(self._marker(job_id))

    def _marker(self, job_id: int) -> str:
        return storage.join(self.root, "jobs", f"{job_key(job_id)}.json")

    def _docs_url(self, job_id: int) -> str:
        return storage.join(self.root, "docs", f"{job_key(job_id)}.parquet")

    def _partition_url(self, partition: str, job_id: int) -> str:
        return storage.join(self.root, partition, f"{job_key(job_id)}.parquet")

    def publish(
        self,
        job_id: int,
        manifest: Mapping[str, Any],
        docs: pa.Table,
        partitions: Mapping[str, pa.Table],
        guard: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> bool:
        """Add a job's kept documents to the index; return False when the job was already published.

        Every file is written atomically and the marker last, so a crash midway leaves nothing readers see, and
        a retry rewrites the same files. The marker is written inside `guard()`, which may raise to stop the
        commit (the job was cancelled meanwhile): the files already written stay invisible.
        """
        schemas = {name: table.schema for name, table in partitions.items()}
        return self.publish_stream(job_id, manifest, docs.schema, schemas, [(docs, dict(partitions))], guard)

    def publish_stream(
        self,
        job_id: int,
        manifest: Mapping[str, Any],
        docs_schema: pa.Schema,
        partition_schemas: Mapping[str, pa.Schema],
        batches: Iterable[tuple[pa.Table, Mapping[str, pa.Table]]],
        guard: Callable[[], AbstractContextManager[None]] | None = None,
    ) -> bool:
        """Add a job's kept documents to the index from batches (a documents table and its partitions' rows, one
        shard's at a time); return False when the job was already published.

        Every file is streamed to a temporary name and renamed, and the marker is written last, inside `guard()`,
        as in `publish`; memory holds one batch.
        """
        if self.has_job(job_id):
            return False
        self.check_manifest(manifest)
        if self.manifest() is None:
            storage.write_json(storage.join(self.root, MANIFEST), dict(manifest))
        names = sorted(partition_schemas)
        writers = {"docs": storage.ParquetStream(self._docs_url(job_id), docs_schema)}
        for partition in names:
            url = self._partition_url(partition, job_id)
            writers[partition] = storage.ParquetStream(url, partition_schemas[partition])
        documents = 0
        try:
            for docs, partitions in batches:
                writers["docs"].write(docs)
                documents += docs.num_rows
                for partition in names:
                    writers[partition].write(partitions[partition])
        except BaseException:
            for writer in writers.values():
                writer.abort()
            raise
        files = {f"{name}/{job_key(job_id)}.parquet": writer.close() for name, writer in writers.items()}
        with guard() if guard is not None else nullcontext():
            storage.write_json(self._marker(job_id), {"job_id": job_id, "documents": documents, "files": files})
        return True

    def read_partition(self, partition: str, jobs: Sequence[int]) -> tuple[pa.Table, np.ndarray]:
        """Return one partition's rows over the given committed jobs, and each row's job id.

        Take `jobs` from `committed_jobs()` once per reduce, so that every partition is read from one snapshot.
        """
        tables: list[pa.Table] = []
        job_ids: list[np.ndarray] = []
        for job in jobs:
            table = storage.read_parquet(self._partition_url(partition, job))
            tables.append(table)
            job_ids.append(np.full(table.num_rows, job, dtype=np.int64))
        if not tables:
            return pa.table({}), np.zeros(0, dtype=np.int64)
        return pa.concat_tables(tables), np.concatenate(job_ids)

    def read_docs(self, job_id: int, rows: np.ndarray, columns: list[str] | None = None) -> pa.Table:
        """Return the given rows of a committed job's documents table, in the order asked (reading only the row
        groups that hold them)."""
        return storage.read_rows(self._docs_url(job_id), rows, columns)

    def job_info(self, job_id: int) -> dict[str, Any]:
        info: dict[str, Any] = storage.read_json(self._marker(job_id))
        return info

    def delete_job(self, job_id: int) -> None:
        """Remove a job's contribution: the marker first, so readers stop seeing it at once."""
        storage.remove(self._marker(job_id))
        storage.remove(self._docs_url(job_id))
        for name in storage.list_names(self.root):
            if "=" in name and not name.startswith("job="):
                storage.remove(self._partition_url(name, job_id))

    def summary(self) -> dict[str, Any]:
        jobs = []
        for job in self.committed_jobs():
            info = self.job_info(job)
            jobs.append({"job_id": job, "documents": info["documents"], "bytes": sum(info["files"].values())})
        return {
            "manifest": self.manifest(),
            "documents": sum(job["documents"] for job in jobs),
            "bytes": sum(job["bytes"] for job in jobs),
            "jobs": jobs,
        }


def index_summary(index_root: str) -> dict[str, Any]:
    """Describe a collection's index: documents and bytes per kind and per job, and the jobs that contributed.

    `documents` per kind counts kept documents (the top level: the larger of the two kinds); `bytes` is the
    size of all committed files.
    """
    kinds = {kind: SubIndex(index_root, kind).summary() for kind in KINDS}
    job_ids = sorted({job["job_id"] for kind in kinds.values() for job in kind["jobs"]})
    return {
        "index_root": index_root,
        "exists": storage.exists(index_root),
        "jobs": job_ids,
        "documents": max((kind["documents"] for kind in kinds.values()), default=0),
        "bytes": sum(kind["bytes"] for kind in kinds.values()),
        "kinds": kinds,
    }


def index_jobs(index_root: str) -> list[int]:
    """Return the ids of the jobs that have contributed to a collection's index."""
    return sorted({job for kind in KINDS for job in SubIndex(index_root, kind).committed_jobs()})


def index_delete_job(index_root: str, job_id: int) -> None:
    """Remove one job's contribution from a collection's index (safe to repeat)."""
    for kind in KINDS:
        SubIndex(index_root, kind).delete_job(job_id)


def index_delete(index_root: str) -> None:
    """Delete a collection's whole index (safe to repeat)."""
    storage.remove(index_root, recursive=True)


def index_list(indexes_root: str) -> list[str]:
    """Return the names of the indexes kept under a folder (each a sub-folder holding at least one kind)."""
    names = []
    for name in storage.list_names(indexes_root):
        root = storage.join(indexes_root, name)
        if any(storage.exists(storage.join(root, kind, MANIFEST)) for kind in KINDS):
            names.append(name)
    return names
