"""Builders of plain export records (items with annotations) shared by the export tests and the benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from exports.formats.records import AnnotationRecord, Consensus, ItemRecord


def ranking_item(
    item: str,
    prompt: str,
    rankings: Sequence[list[list[str]]],
    *,
    responses: Sequence[str] = ("r1", "r2", "r3", "r4"),
    project: int = 1,
    system_prompt: str = "",
    is_gold: bool = False,
    statuses: Sequence[str] | None = None,
    trusts: Sequence[float | None] | None = None,
    consensus: Consensus | None = None,
) -> ItemRecord:
    """A ranking item whose responses' texts are `<item>:<response id>`, one annotation per ranking."""
    annotations = [
        AnnotationRecord(
            annotator=f"annotator{n}",
            payload={"ranking": ranking, "all_bad": False},
            status=statuses[n] if statuses else "submitted",
            trust=trusts[n] if trusts else None,
        )
        for n, ranking in enumerate(rankings)
    ]
    return ItemRecord(
        project=project,
        item=item,
        kind="ranking",
        prompt=prompt,
        responses=[{"id": rid, "text": f"{item}:{rid}"} for rid in responses],
        system_prompt=system_prompt,
        is_gold=is_gold,
        annotations=annotations,
        consensus=consensus,
    )


def response_item(item: str, prompt: str, answers: Sequence[str], *, project: int = 2, system_prompt: str = "",
                  messages: list[dict[str, Any]] | None = None) -> ItemRecord:
    """A response-writing item with one annotation per answer."""
    return ItemRecord(
        project=project,
        item=item,
        kind="response",
        prompt=prompt,
        messages=messages,
        system_prompt=system_prompt,
        annotations=[AnnotationRecord(annotator=f"writer{n}", payload={"response": answer})
                     for n, answer in enumerate(answers)],
    )
