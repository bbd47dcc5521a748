"""Run deduplication jobs over documents in tests, through the job engine's own stages (curation/steps/inline.py).

The documents are written as JSON Lines, one file per shard (round-robin), to an in-memory folder named after
their content, so the same documents always come from the same input paths (and get the same `source` and the
same fallback ids) whatever folder the job writes to. The job itself writes under the folder a test gives.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import fsspec

from curation.steps.document import Document
from curation.steps.inline import InlineRun, run_job_inline
from curation.steps.readers import InputSplit
from curation.steps.recipe import Recipe, load_recipe, parse_recipe


def recipe_of(*steps: str) -> Recipe:
    """A recipe of the given steps, each written as in YAML: `"minhash_dedup: {threshold: 0.7}"`."""
    lines = "".join(f"  - {step}\n" for step in steps)
    return parse_recipe(f"name: t\nsteps:\n{lines}", "t")


def dedup_recipe(recipe: str = "dedup-only", **minhash_params: Any) -> Recipe:
    """A built-in recipe, or exact + MinHash with the given MinHash parameters."""
    if not minhash_params:
        return load_recipe(recipe)
    params = ", ".join(f"{key}: {value!r}" for key, value in minhash_params.items())
    return recipe_of("exact_dedup: {}", f"minhash_dedup: {{{params}}}")


def write_shards(docs: Sequence[Mapping[str, Any]], shards: int) -> list[InputSplit]:
    """Write `docs` round-robin into `shards` JSON Lines files in memory; return one split per file."""
    lines = [json.dumps(doc, ensure_ascii=False, sort_keys=True) + "\n" for doc in docs]
    digest = hashlib.sha256("".join(lines).encode("utf-8", "surrogatepass")).hexdigest()[:16]
    splits = []
    for shard in range(shards):
        url = f"memory://dedup-tests/{digest}-{shards}/shard-{shard:02d}.jsonl"
        with fsspec.open(url, "w", encoding="utf-8") as out:
            out.write("".join(lines[shard::shards]))
        splits.append(InputSplit(url))
    return splits


def run_job(
    docs: Sequence[Mapping[str, Any]],
    output: Path | str,
    shards: int = 2,
    job_id: int = 1,
    index_root: Path | str | None = None,
    recipe: Recipe | None = None,
    reduce_partitions: int = 1,
) -> InlineRun:
    """Run a job (by default `dedup-only`) over `docs` split round-robin into `shards`, writing under `output`,
    each global step's reduce in `reduce_partitions` partitions."""
    return run_job_inline(
        recipe or dedup_recipe(),
        write_shards(docs, shards),
        str(output),
        job_id=job_id,
        index_root=str(index_root) if index_root else None,
        reduce_partitions=reduce_partitions,
    )


def decisions(
    kept: Iterable[Mapping[str, Any]], removed: Iterable[Mapping[str, Any]], own_job: int
) -> dict[str, tuple[Any, ...]]:
    """Every document's outcome: kept or removed (by which step, why), with its dedup signals; a job id in them
    is written "self" for `own_job` and "earlier" otherwise, so runs with different job ids compare."""

    def job(value: Any) -> str | None:
        return None if value is None else "self" if value == own_job else "earlier"

    outcome: dict[str, tuple[Any, ...]] = {}
    for doc in kept:
        signals = doc.get("signals", {})
        outcome[doc["id"]] = ("kept", signals.get("cluster_id"), signals.get("cluster_size"),
                              signals.get("exact_cluster_size"))
    for doc in removed:
        signals = doc.get("signals", {})
        outcome[doc["id"]] = ("removed", doc.get("removed_by"), doc.get("reason"), signals.get("duplicate_of"),
                              job(signals.get("duplicate_of_job")), signals.get("cluster_id"),
                              signals.get("cluster_size"), signals.get("similarity"))
    return outcome


def kept_ids(run: InlineRun) -> set[str]:
    return {doc.get("id", "") for shard in run.kept for doc in shard}


def removed_by_id(run: InlineRun) -> dict[str, Document]:
    return {doc["id"]: doc for doc in run.removed}


def tree_digest(root: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every file under a folder."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


LETTERS = "abcdefghijklmnopqrstuvwxyz"


def word_text(rng: random.Random, words: int = 250) -> str:
    """A text of `words` random lower-case words of 2-9 letters, ending with a full stop."""
    return " ".join("".join(rng.choice(LETTERS) for _ in range(rng.randint(2, 9))) for _ in range(words)) + "."
