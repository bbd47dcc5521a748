"""Run a list of steps over in-memory shards in one process, the way the job engine runs them.

Used by benchmarks and tests, and a reference for the engine: every non-global step streams over each shard; a
global step is collected on every shard, reduced once, applied on every shard (to the same documents collect saw),
and committed once after the whole run has succeeded. Nothing here is specific to one machine: work dirs and the
index are fsspec URLs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from curation.steps.base import GlobalStep, ShardWork, Step
from curation.steps.dedup import storage
from curation.steps.document import Document


@dataclass
class LocalRun:
    """What a local run produced: kept documents per shard, removed documents, each global step's summary."""

    kept: list[list[Document]]
    removed: list[Document] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)
    work_dirs: dict[str, str] = field(default_factory=dict)


def step_work_dir(work_root: str, position: int, step: Step) -> str:
    """Return the scratch folder of the step at `position` of a recipe within one job's work root."""
    return storage.join(work_root, f"step-{position:02d}-{step.name}")


def run_local(
    steps: Sequence[Step],
    shards: Sequence[Iterable[Document]],
    work_root: str,
    job_id: int = 1,
    index_root: str | None = None,
    commit: bool = True,
) -> LocalRun:
    """Run `steps` over `shards` and return what they kept and removed.

    Writes only under `work_root` (scratch) and, when `commit` and `index_root` are given, publishes to the
    persistent index. Re-running with the same arguments gives the same documents and files.
    """
    run = LocalRun(kept=[])
    for step in steps:
        step.bind_removed_sink(run.removed.append)
    current = [list(shard) for shard in shards]
    shard_count = len(current)
    global_steps: list[tuple[GlobalStep, str]] = []
    for position, step in enumerate(steps):
        if not isinstance(step, GlobalStep):
            current = [list(step.run(iter(docs))) for docs in current]
            continue
        work_dir = step_work_dir(work_root, position, step)

        def work(shard_index: int, work_dir: str = work_dir) -> ShardWork:
            return ShardWork(work_dir, shard_index, shard_count, job_id, index_root)

        collected = [list(step.collect(iter(docs), work(index))) for index, docs in enumerate(current)]
        run.summaries[step.name] = step.reduce(work(-1))
        run.work_dirs[step.name] = work_dir
        current = [list(step.apply(iter(docs), work(index))) for index, docs in enumerate(collected)]
        global_steps.append((step, work_dir))
    if commit:
        for step, work_dir in global_steps:
            step.commit(ShardWork(work_dir, -1, shard_count, job_id, index_root))
    run.kept = current
    return run
