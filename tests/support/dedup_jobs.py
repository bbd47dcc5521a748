"""Helpers for the dedup tests: run global steps the way the job engine does, over shards in a temp folder."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from curation.steps.base import Step
from curation.steps.dedup.local import LocalRun, run_local
from curation.steps.document import Document
from curation.steps.recipe import load_recipe, parse_recipe


def dedup_steps(recipe: str = "dedup-only", **minhash_params: Any) -> list[Step]:
    """Fresh steps of a built-in recipe, or of exact + MinHash with the given MinHash parameters."""
    if not minhash_params:
        return load_recipe(recipe).build()
    params = ", ".join(f"{key}: {value!r}" for key, value in minhash_params.items())
    return parse_recipe(f"name: t\nsteps:\n  - exact_dedup: {{}}\n  - minhash_dedup: {{{params}}}\n", "t").build()


def run_job(
    docs: Sequence[Mapping[str, Any]],
    work_root: Path,
    shards: int = 2,
    job_id: int = 1,
    index_root: Path | str | None = None,
    steps: list[Step] | None = None,
) -> LocalRun:
    """Run a job over `docs` split round-robin into `shards` (documents are copied, never shared between runs)."""
    copies = [cast(Document, dict(doc, signals=dict(doc.get("signals") or {}))) for doc in docs]
    split = [copies[index::shards] for index in range(shards)]
    return run_local(
        steps or dedup_steps(),
        split,
        str(work_root),
        job_id=job_id,
        index_root=str(index_root) if index_root else None,
    )


def kept_ids(run: LocalRun) -> set[str]:
    return {doc.get("id", "") for shard in run.kept for doc in shard}


def removed_by_id(run: LocalRun) -> dict[str, Document]:
    return {doc["id"]: doc for doc in run.removed}


def tree_digest(root: Path) -> dict[str, str]:
    """Return {relative path: sha256} of every file under a folder."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
