"""Run a whole job in this process, stage after stage, with no database: the job engine's own stages.

`run_job_inline` is what tests and benchmarks drive the engine with: it runs `plan_stages` of a recipe through
`run_map_shard`, `run_reduce` and `run_commit` (curation/steps/pipeline.py), exactly the units the Celery tasks and
`curate --local` run, over a local folder or any fsspec URL (`memory://` for a job that never touches the disk).
Its files are therefore laid out by `JobLayout`, like a real job's. What it leaves out is the control plane:
leases, retries, the job's rows and its stats.json.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import fsspec

from curation.steps.document import Document
from curation.steps.pipeline import (
    JobLayout,
    ShardResult,
    merge_shard_stats,
    plan_stages,
    run_commit,
    run_map_shard,
    run_reduce,
)
from curation.steps.readers import InputSplit, ReaderOptions
from curation.steps.recipe import Recipe
from curation.steps.writers import read_jsonl_zst


@dataclass
class InlineRun:
    """A job run by `run_job_inline`: where its files are, what each unit reported, and its documents."""

    recipe: Recipe
    layout: JobLayout
    shard_count: int
    map_results: list[ShardResult] = field(default_factory=list)
    summaries: dict[str, dict[str, Any]] = field(default_factory=dict)  # each global step's reduce, by step name

    @property
    def map_stages(self) -> int:
        return sum(1 for plan in plan_stages(self.recipe) if plan.kind == "map")

    @property
    def work_dirs(self) -> dict[str, str]:
        """Each global step's scratch folder (sidecars, decisions, clusters), by step name."""
        return {
            self.recipe.steps[position].name: self.layout.step_work_dir(position, self.recipe.steps[position].name)
            for position in self.recipe.global_positions()
        }

    @cached_property
    def kept(self) -> list[list[Document]]:
        """The documents the job kept, shard by shard, as its kept/ files hold them."""
        return [list(read_jsonl_zst(self.layout.kept(shard))) for shard in range(self.shard_count)]

    @cached_property
    def removed(self) -> list[Document]:
        """The documents the job removed, shard by shard and stage by stage, as its removed/ files hold them."""
        docs: list[Document] = []
        for shard in range(self.shard_count):
            for stage in range(self.map_stages):
                url = self.layout.removed(shard, stage)
                fs, path = fsspec.core.url_to_fs(url)
                if fs.exists(path):
                    docs.extend(read_jsonl_zst(url))
        return docs

    def stats(self) -> dict[str, Any]:
        """The job's merged stats (reads, per step counts and seconds, errors), as a real job records them."""
        return merge_shard_stats(self.recipe, [result.to_dict() for result in self.map_results])


def run_job_inline(
    recipe: Recipe,
    splits: Sequence[InputSplit],
    output: str,
    *,
    job_id: int = 1,
    index_root: str | None = None,
    reader_options: ReaderOptions | None = None,
    reduce_partitions: int = 1,
) -> InlineRun:
    """Run every stage of a job over `splits` (one shard each), writing under `output`; return what it did.

    Writes the job's files under `output` (a path or fsspec URL) and, with `index_root`, commits the global steps'
    kept documents to that persistent index once every shard is done. Each global step's reduce runs as
    `reduce_partitions` partition units, one after another, then its merge. Every unit rewrites the same bytes when
    re-run, so a second run with the same arguments and a fresh `output` gives the same files.
    """
    options = reader_options or ReaderOptions(**recipe.reader)
    layout = JobLayout(output)
    shard_count = len(splits)
    run = InlineRun(recipe, layout, shard_count)
    for plan in plan_stages(recipe):
        if plan.kind == "map":
            for shard, split in enumerate(splits):
                run.map_results.append(
                    run_map_shard(
                        recipe,
                        plan,
                        layout=layout,
                        shard=shard,
                        shard_count=shard_count,
                        job_id=job_id,
                        split=split,
                        reader_options=options,
                        index_root=index_root,
                    )
                )
        elif plan.is_partitioned:
            for partition in range(reduce_partitions):
                run_reduce(recipe, plan, layout=layout, shard_count=shard_count, job_id=job_id,
                           index_root=index_root, partition=partition, partitions=reduce_partitions)
        elif plan.kind == "reduce":
            summary = run_reduce(recipe, plan, layout=layout, shard_count=shard_count, job_id=job_id,
                                 index_root=index_root, partitions=reduce_partitions)
            run.summaries[summary["name"]] = summary
        else:
            run_commit(recipe, layout=layout, shard_count=shard_count, job_id=job_id, index_root=index_root)
    return run
