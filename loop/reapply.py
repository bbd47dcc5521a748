"""Re-apply a recipe version to a finished job's outputs: re-decide from stored signals into a new folder.

Every document the job wrote (kept and removed) is read once. A document removed before the changed step keeps
that decision. The others enter the changed step and every later one, as real step objects built from the new
recipe (`Filter.run`): a filter reads the signals the document already has and computes none it has (the
`score` methods skip stored signals); only documents that never reached a later step before (the changed step
removed them) get that later step's signals computed, once. A global step (deduplication) is not re-run: its
stored decisions are applied again (a document it removed stays removed), and documents it never saw pass it,
counted as `not_seen_by` that step in the stats.

Writes `<dest>/kept/shard-00000.jsonl.zst`, `<dest>/removed/shard-00000-m0.jsonl.zst`, `<dest>/stats.json` and
`<dest>/recipe.yaml`, each under a temporary name first. Safe to re-run into the same empty destination.
Pure: no Django.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fsspec

from curation.steps.base import Filter, GlobalStep, StepStats, build_step
from curation.steps.document import Document
from curation.steps.recipe import Recipe
from curation.steps.writers import JsonlZstWriter, write_bytes_atomic, write_json_atomic
from loop.signal_table import iter_output_documents


class DestinationNotEmpty(FileExistsError):
    """The folder to re-apply into already holds outputs."""


def reapply(recipe: Recipe, position: int, source: str, dest: str) -> dict[str, Any]:
    """Re-decide `source`'s documents with `recipe` from step `position` on, writing into `dest`; return stats."""
    fs, root = fsspec.core.url_to_fs(dest)
    if fs.exists(f"{root.rstrip('/')}/kept") or fs.exists(f"{root.rstrip('/')}/stats.json"):
        raise DestinationNotEmpty(f"{dest} already holds outputs")
    first: dict[str, int] = {}
    for index, spec in enumerate(recipe.steps):
        first.setdefault(spec.name, index)
    end = len(recipe.steps)
    base = dest.rstrip("/")
    kept_writer = JsonlZstWriter(f"{base}/kept/shard-00000.jsonl.zst")
    removed_writer = JsonlZstWriter(f"{base}/removed/shard-00000-m0.jsonl.zst")
    earlier = StepStats("earlier")
    # document id -> (position, reason) of the job's removal, for global steps' stored decisions
    origin: dict[str, tuple[int, str]] = {}
    not_seen: dict[str, int] = {}
    steps = [build_step(spec.name, spec.params) for spec in recipe.steps[position:]]
    for step in steps:
        step.bind_removed_sink(removed_writer.write)
    total = 0

    def entering() -> Iterator[Document]:
        nonlocal total
        for doc in iter_output_documents(source):
            total += 1
            removed_by = doc.get("removed_by")
            at = first.get(str(removed_by), end) if removed_by else end
            if at < position:
                earlier.removed[str(doc.get("reason") or "")] += 1
                removed_writer.write(doc)
                continue
            reason = str(doc.pop("reason", None) or "")
            doc.pop("removed_by", None)
            if at < end:
                origin[str(doc.get("id"))] = (at, reason)
            yield doc

    def applied(step: GlobalStep[Any], step_position: int, docs: Iterator[Document]) -> Iterator[Document]:
        for doc in docs:
            step.count_in(doc)
            at, reason = origin.get(str(doc.get("id")), (end, ""))
            if at == step_position:
                step.drop(doc, reason)
                continue
            if at < step_position:
                not_seen[step.name] = not_seen.get(step.name, 0) + 1
            yield step.keep(doc)

    stream: Iterator[Document] = entering()
    for offset, step in enumerate(steps):
        step_position = position + offset
        if isinstance(step, Filter):
            stream = step.run(stream)
        elif isinstance(step, GlobalStep):
            stream = applied(step, step_position, stream)
        else:
            stream = step.run(stream)
    try:
        for doc in stream:
            kept_writer.write(doc)
    except BaseException:
        kept_writer.abort()
        removed_writer.abort()
        raise
    kept_writer.close()
    removed_writer.close()
    stats = {
        "source": source, "position": position, "documents": {
            "read": total, "kept": kept_writer.count, "removed": removed_writer.count},
        "steps": [{"position": position + offset, **step.stats.to_dict()} for offset, step in enumerate(steps)],
        "removed_before": dict(earlier.removed), "not_seen_by": not_seen,
    }
    write_json_atomic(f"{base}/stats.json", stats)
    write_bytes_atomic(f"{base}/recipe.yaml", recipe.source_yaml.encode())
    return stats
