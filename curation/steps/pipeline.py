"""Run one unit of a job: a map shard, a global step's reduce, or the commit of global steps. No Django here.

A recipe with K global steps runs as 3K+1 stages (then a finish unit):

    map 0:    read the input split -> steps before global step 0 -> G0.collect -> work docs
    reduce 0: G0.reduce_partition, P units (any worker takes any partition of the step's keys)
    merge 0:  G0.reduce_merge over what the partitions found, one unit
    map 1:    work docs of map 0 -> G0.apply -> steps up to G1 -> G1.collect -> work docs
    ...
    map K:    work docs of map K-1 -> G(K-1).apply -> remaining steps -> OUT/kept/shard-NNNNN.jsonl.zst

Every map shard writes what its steps removed to OUT/removed/shard-NNNNN-mM.jsonl.zst. All files are written
under temporary names and renamed, and every unit is deterministic, so re-running one rewrites the same bytes.

A map stage that runs no step of its own (only a global step's apply and the next one's collect, as between
`exact_dedup` and `minhash_dedup`) writes no work docs: encoding and compressing every document costs more than
reading it again. The next stage reads the nearest earlier stage that wrote its documents (or the input split)
and replays the applies in between, which remove and annotate exactly what they did the first time (their
decisions are files); a replayed apply writes no removed documents and counts nothing, its own stage did.
"""

from __future__ import annotations

import random
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

import fsspec
import zstandard

from curation.steps.base import GlobalStep, ShardWork, Step, StepStats, Timed
from curation.steps.document import Document
from curation.steps.readers import InputSplit, ReaderOptions, ReadErrors, read_split
from curation.steps.recipe import Recipe
from curation.steps.writers import (
    ZSTD_LEVEL_INTERMEDIATE,
    JsonlZstWriter,
    read_jsonl_zst,
    write_bytes_atomic,
    write_json_atomic,
)

# How many kept and removed documents each shard samples for the console.
SAMPLES_PER_SHARD = 20
# How often (in documents) a running shard checks whether its job was cancelled.
STOP_CHECK_EVERY = 500


REDUCE_PARTITION = "partition"
REDUCE_MERGE = "merge"

# Entered around each commit marker's write; raises to stop the commit (see ShardWork.commit_guard).
CommitGuard = Callable[[], AbstractContextManager[None]]


class ShardStopped(Exception):
    """The job was cancelled (or the lease lost) while this shard ran; its temporary output was discarded."""


@dataclass(frozen=True)
class JobLayout:
    """Where a job's files live under its output folder (a path or fsspec URL)."""

    output: str

    def _join(self, *parts: str) -> str:
        return "/".join([self.output.rstrip("/"), *parts])

    def kept(self, shard: int) -> str:
        return self._join("kept", f"shard-{shard:05d}.jsonl.zst")

    def removed(self, shard: int, map_stage: int) -> str:
        return self._join("removed", f"shard-{shard:05d}-m{map_stage}.jsonl.zst")

    def work_docs(self, map_stage: int, shard: int) -> str:
        return self._join("_work", "docs", f"m{map_stage}", f"shard-{shard:05d}.jsonl.zst")

    def work_docs_dir(self) -> str:
        return self._join("_work", "docs")

    def step_work_dir(self, step_position: int, step_name: str) -> str:
        return self._join("_work", f"step-{step_position:02d}-{step_name}")

    def kept_ids(self, shard: int) -> str:
        return self._join("_work", "kept-ids", f"shard-{shard:05d}.txt.zst")

    def stats(self) -> str:
        return self._join("stats.json")


@dataclass(frozen=True)
class StagePlan:
    """What one job stage runs, derived from the recipe alone."""

    kind: str  # "map", "reduce" or "finish"
    map_stage: int  # for map: its ordinal; for reduce: the map stage whose collect it follows
    # Reduce only: "partition" (the stage's units share the step's keys) or "merge" (one unit decides).
    reduce_phase: str = ""
    step_positions: tuple[int, ...] = ()  # map: the recipe steps it runs (a trailing global step is collected)
    global_position: int | None = None  # reduce: the global step; map: the global step applied first
    # Map only: the earlier map stage whose work docs it reads (-1: the input split), the global steps whose apply
    # it replays on them first, and whether it writes its own documents (the last stage always does).
    source_stage: int = -1
    replays: tuple[int, ...] = ()
    writes_docs: bool = True

    @property
    def is_partitioned(self) -> bool:
        """Whether the stage has one unit per reduce partition (its units' index is the partition)."""
        return self.kind == "reduce" and self.reduce_phase == REDUCE_PARTITION


def plan_stages(recipe: Recipe) -> list[StagePlan]:
    """Split a recipe into job stages; see the module docstring."""
    global_positions = set(recipe.global_positions())
    segments: list[list[int]] = [[]]
    for position in range(len(recipe.steps)):
        segments[-1].append(position)
        if position in global_positions:
            segments.append([])
    plans: list[StagePlan] = []
    applied: int | None = None
    source_stage = -1
    replays: tuple[int, ...] = ()
    for map_stage, segment in enumerate(segments):
        is_last = map_stage == len(segments) - 1
        # Only a trailing global step's collect: its documents are the ones it read, less what `applied` removed.
        writes_docs = is_last or len(segment) != 1 or segment[0] not in global_positions
        plans.append(StagePlan("map", map_stage, step_positions=tuple(segment), global_position=applied,
                               source_stage=source_stage, replays=replays, writes_docs=writes_docs))
        if writes_docs:
            source_stage, replays = map_stage, ()
        elif applied is not None:
            replays = (*replays, applied)
        if segment and segment[-1] in global_positions:
            applied = segment[-1]
            plans.append(StagePlan("reduce", map_stage, REDUCE_PARTITION, global_position=applied))
            plans.append(StagePlan("reduce", map_stage, REDUCE_MERGE, global_position=applied))
    plans.append(StagePlan("finish", len(segments) - 1))
    return plans


@dataclass
class Reservoir:
    """A fixed-size uniform sample of a stream, seeded so that a re-run samples the same documents."""

    size: int
    seed: int
    items: list[Document] = field(default_factory=list)
    seen: int = 0

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def offer(self, doc: Document) -> None:
        self.seen += 1
        if len(self.items) < self.size:
            self.items.append(doc)
            return
        slot = self._rng.randrange(self.seen)
        if slot < self.size:
            self.items[slot] = doc


class DocumentCounter:
    """Stands in for a work-docs writer in a stage whose documents the next stage reads again instead."""

    def __init__(self) -> None:
        self.count = 0

    def write(self, doc: Document) -> None:
        self.count += 1

    def close(self) -> None:
        """Nothing to publish."""

    def abort(self) -> None:
        """Nothing to discard."""


@dataclass
class ShardResult:
    """What a map shard reports to the control plane."""

    map_stage: int
    steps: list[dict[str, Any]]  # StepStats.to_dict(), with "position" added
    read: dict[str, Any]  # documents and bytes read, read errors per file and kind
    docs_in: int
    docs_kept: int  # documents leaving this stage (kept, or passed on to the next stage)
    docs_removed: int
    kept_samples: list[Document]
    removed_samples: list[Document]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "map_stage": self.map_stage,
            "steps": self.steps,
            "read": self.read,
            "docs_in": self.docs_in,
            "docs_kept": self.docs_kept,
            "docs_removed": self.docs_removed,
            "seconds": round(self.seconds, 6),
        }


def _shard_work(layout: JobLayout, step: Step, position: int, shard: int, shard_count: int,
                job_id: int, index_root: str | None, commit_guard: CommitGuard | None = None) -> ShardWork:
    return ShardWork(
        work_dir=layout.step_work_dir(position, step.name),
        shard_index=shard,
        shard_count=shard_count,
        job_id=job_id,
        index_root=index_root,
        commit_guard=commit_guard,
    )


def run_map_shard(
    recipe: Recipe,
    plan: StagePlan,
    *,
    layout: JobLayout,
    shard: int,
    shard_count: int,
    job_id: int,
    split: InputSplit | None,
    reader_options: ReaderOptions,
    index_root: str | None = None,
    should_stop: Callable[[], bool] = lambda: False,
) -> ShardResult:
    """Run one map shard end to end and publish its files; see the module docstring. Safe to re-run."""
    started = time.perf_counter()
    steps = recipe.build()
    is_last = plan.map_stage == max(p.map_stage for p in plan_stages(recipe))
    read_errors = ReadErrors()
    read_stats = {"docs": 0, "bytes": 0}

    def check_stop() -> None:
        if should_stop():
            raise ShardStopped(f"shard {shard} stopped after reading {read_stats['docs']} documents")

    if plan.source_stage < 0:
        if split is None:
            raise ValueError(f"map stage {plan.map_stage} reads the input: it needs the shard's input split")
        # Checked by bytes read as well as by documents: input with no record in it must stop too.
        source: Iterator[Document] = read_split(split, reader_options, read_errors, check_stop)
    else:
        source = read_jsonl_zst(layout.work_docs(plan.source_stage, shard))
    if plan.replays:
        replayed = recipe.build()
        for position in plan.replays:
            step = replayed[position]
            assert isinstance(step, GlobalStep)
            step.bind_removed_sink(lambda doc: None)  # its own stage wrote and counted these removals
            work = _shard_work(layout, step, position, shard, shard_count, job_id, index_root)
            source = step.apply(source, work)

    def counted(docs: Iterator[Document]) -> Iterator[Document]:
        for doc in docs:
            read_stats["docs"] += 1
            read_stats["bytes"] += len(doc.get("text") or "") + len(doc.get("html") or b"")
            # Checked on documents read, not kept, so a shard whose steps remove everything stops too.
            if read_stats["docs"] % STOP_CHECK_EVERY == 0:
                check_stop()
            yield doc

    removed_writer = JsonlZstWriter(layout.removed(shard, plan.map_stage))
    removed_seed = zlib.crc32(f"{job_id}:{shard}:{plan.map_stage}:removed".encode())
    removed_samples = Reservoir(SAMPLES_PER_SHARD, seed=removed_seed)
    removed_count = 0

    def on_removed(doc: Document) -> None:
        nonlocal removed_count
        removed_count += 1
        removed_writer.write(doc)
        removed_samples.offer(doc)

    timed_source = Timed(counted(source))
    stream: Iterator[Document] = iter(timed_source)
    timers: list[tuple[int, Step, Timed]] = []

    def chain(position: int, step: Step, docs: Iterator[Document]) -> Iterator[Document]:
        timed = Timed(docs)
        timers.append((position, step, timed))
        return iter(timed)

    for step in steps:
        step.bind_removed_sink(on_removed)
    if plan.global_position is not None:
        applied = steps[plan.global_position]
        assert isinstance(applied, GlobalStep)
        work = _shard_work(layout, applied, plan.global_position, shard, shard_count, job_id, index_root)
        stream = chain(plan.global_position, applied, applied.apply(stream, work))
    for position in plan.step_positions:
        step = steps[position]
        if isinstance(step, GlobalStep):
            work = _shard_work(layout, step, position, shard, shard_count, job_id, index_root)
            stream = chain(position, step, step.collect(stream, work))
        else:
            stream = chain(position, step, step.run(stream))

    kept_writer: JsonlZstWriter | DocumentCounter
    if is_last:
        kept_writer = JsonlZstWriter(layout.kept(shard))
    elif plan.writes_docs:
        kept_writer = JsonlZstWriter(layout.work_docs(plan.map_stage, shard), level=ZSTD_LEVEL_INTERMEDIATE)
    else:
        kept_writer = DocumentCounter()
    kept_samples = Reservoir(SAMPLES_PER_SHARD, seed=zlib.crc32(f"{job_id}:{shard}:kept".encode()))
    # What the whole job kept, for global steps' commit to a persistent index (read back in run_commit).
    record_kept_ids = is_last and index_root is not None and bool(recipe.global_positions())
    kept_ids: list[str] = []
    try:
        for doc in stream:
            kept_writer.write(doc)
            if is_last:
                kept_samples.offer(doc)
            if record_kept_ids:
                kept_ids.append(str(doc.get("id", "")))
    except BaseException:
        kept_writer.abort()
        removed_writer.abort()
        raise
    if record_kept_ids:
        write_bytes_atomic(layout.kept_ids(shard), zstandard.compress("\n".join(kept_ids).encode("utf-8")))
    kept_writer.close()
    removed_writer.close()

    step_stats = _exclusive_step_stats(timed_source, timers)
    docs_in = read_stats["docs"]
    return ShardResult(
        map_stage=plan.map_stage,
        steps=step_stats,
        read={"docs": docs_in, "bytes": read_stats["bytes"], "errors": read_errors.to_dict(),
              "seconds": round(timed_source.inclusive_seconds, 6)},
        docs_in=docs_in,
        docs_kept=kept_writer.count,
        docs_removed=removed_count,
        kept_samples=kept_samples.items,
        removed_samples=removed_samples.items,
        seconds=time.perf_counter() - started,
    )


def _exclusive_step_stats(source: Timed, timers: list[tuple[int, Step, Timed]]) -> list[dict[str, Any]]:
    """Per-step stats with each step's own seconds (its inclusive time less its upstream's)."""
    result = []
    previous = source.inclusive_seconds
    for position, step, timed in timers:
        stats: StepStats = step.stats
        stats.seconds = max(0.0, timed.inclusive_seconds - previous)
        previous = timed.inclusive_seconds
        result.append({"position": position, **stats.to_dict()})
    return result


def run_reduce(recipe: Recipe, plan: StagePlan, *, layout: JobLayout, shard_count: int, job_id: int,
               index_root: str | None = None, partition: int = -1, partitions: int = 1) -> dict[str, Any]:
    """Run one partition of a global step's reduce (`partition` of `partitions`), or its merge over the
    `partitions` that ran before. Safe to re-run."""
    assert plan.global_position is not None
    step = recipe.build()[plan.global_position]
    assert isinstance(step, GlobalStep)
    work = _shard_work(layout, step, plan.global_position, -1, shard_count, job_id, index_root)
    if plan.is_partitioned:
        summary = step.reduce_partition(work, partition, partitions)
    else:
        summary = step.reduce_merge(work, partitions)
    return {"position": plan.global_position, "name": step.name, **summary}


def run_commit(recipe: Recipe, *, layout: JobLayout, shard_count: int, job_id: int,
               index_root: str | None, commit_guard: CommitGuard | None = None) -> None:
    """Publish to the persistent index what every global step kept and the whole job kept. Safe to re-run.

    Each commit marker is written inside `commit_guard()`, which raises (ShardStopped) when the job was cancelled.
    """
    if index_root is None:
        return
    global_steps = [(p, step) for p, step in enumerate(recipe.build()) if isinstance(step, GlobalStep)]
    if not global_steps:
        return

    def kept_ids_of_shard(shard: int) -> set[str]:
        # One shard's at a time: the whole job's ids would be the one thing a commit holds for every document.
        with fsspec.open(layout.kept_ids(shard), "rb") as file:
            text = zstandard.decompress(file.read()).decode("utf-8")
        return set(text.split("\n")) if text else set()

    for position, step in global_steps:
        step.commit(_shard_work(layout, step, position, -1, shard_count, job_id, index_root, commit_guard),
                    kept_ids_of_shard=kept_ids_of_shard)


def merge_shard_stats(recipe: Recipe, shard_stats: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum map shards' stats into the job's: per step (in recipe order), reads, errors by file and kind."""
    merged = {position: StepStats(spec.name) for position, spec in enumerate(recipe.steps)}
    read_docs = read_bytes = 0
    read_seconds = 0.0
    errors = ReadErrors()
    for stats in shard_stats:
        for step_dict in stats.get("steps", []):
            merged[step_dict["position"]].merge(StepStats.from_dict(step_dict))
        read = stats.get("read")
        # Later map stages re-read the documents of the first one: only the first reads the input.
        if read and stats.get("map_stage", 0) == 0:
            read_docs += read["docs"]
            read_bytes += read["bytes"]
            read_seconds += read.get("seconds", 0.0)
            errors.merge(ReadErrors.from_dict(read.get("errors", {})))
    step_list = [{"position": p, **s.to_dict()} for p, s in merged.items()]
    errors_by_kind: dict[str, int] = {}
    for step_dict in step_list:
        for kind, n in step_dict["errors"].items():
            errors_by_kind[kind] = errors_by_kind.get(kind, 0) + n
    read_errors = errors.to_dict()
    for kind, n in read_errors["by_kind"].items():
        errors_by_kind[kind] = errors_by_kind.get(kind, 0) + n
    return {
        "read": {"docs": read_docs, "bytes": read_bytes, "seconds": round(read_seconds, 6), "errors": read_errors},
        "steps": step_list,
        "errors_by_kind": errors_by_kind,
    }


def run_finish(recipe: Recipe, *, layout: JobLayout, shard_count: int, job_id: int, index_root: str | None,
               stats: dict[str, Any], commit_guard: CommitGuard | None = None) -> None:
    """Finish a job's files: publish to the dedup index, write stats.json, drop the intermediate documents.

    Also removes temporary files of shards whose worker died before renaming them. Safe to re-run.
    """
    run_commit(recipe, layout=layout, shard_count=shard_count, job_id=job_id, index_root=index_root,
               commit_guard=commit_guard)
    write_json_atomic(layout.stats(), stats)
    fs, path = fsspec.core.url_to_fs(layout.work_docs_dir())
    if fs.exists(path):
        fs.rm(path, recursive=True)
    output_path = fsspec.core.url_to_fs(layout.output)[1].rstrip("/")
    for stale in fs.glob(f"{output_path}/*/*.tmp-*"):
        fs.rm(stale)
