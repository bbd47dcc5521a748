"""The plain records the statistics work on: one submitted judgement, one item's responses.

The services build these from database rows; tests build them by hand. Payloads are the annotation payloads of
issue 9 as stored (likert `{"ratings": {criterion: int}}`, pairwise `{"choice": "a"|"b"|"tie", "strength"}`,
ranking `{"ranking": [[ids], ...], "all_bad"}`, label `{"labels": [...]}`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

KIND_INSTRUCTION = "instruction"
KIND_RESPONSE = "response"
KIND_LIKERT = "likert"
KIND_PAIRWISE = "pairwise"
KIND_RANKING = "ranking"
KIND_LABEL = "label"
# Kinds whose answers can be compared between annotators (the writing kinds produce free text).
JUDGED_KINDS = (KIND_LIKERT, KIND_PAIRWISE, KIND_RANKING, KIND_LABEL)
PREFERENCE_KINDS = (KIND_PAIRWISE, KIND_RANKING)


@dataclass(frozen=True)
class Judgement:
    """One submitted annotation, reduced to what quality control reads."""

    item_id: int
    annotator_id: int
    payload: Mapping[str, Any]
    # Response ids in the order the page showed them (position 0 is "a" in pairwise).
    display_order: Sequence[str] = ()
    active_seconds: float = 0.0
    annotation_id: int = 0
    created_at: datetime | None = None


@dataclass(frozen=True)
class ItemInfo:
    """What quality control needs of an item: its responses' lengths and models, and its gold answer."""

    item_id: int
    # Response ids in the item's own (imported) order.
    response_ids: Sequence[str] = ()
    response_lengths: Mapping[str, int] = field(default_factory=dict)
    response_models: Mapping[str, str] = field(default_factory=dict)
    is_gold: bool = False
    expected: Mapping[str, Any] | None = None


def likert_cells(payload: Mapping[str, Any]) -> dict[tuple[str, ...], int]:
    """A Likert payload's ratings keyed by `(criterion,)`, or `(response id, criterion)` when the item had several
    responses and each was rated (`{"ratings": {"r1": {"helpful": 4}, ...}}`)."""
    ratings = payload.get("ratings")
    cells: dict[tuple[str, ...], int] = {}
    if not isinstance(ratings, Mapping):
        return cells
    for key, value in ratings.items():
        if isinstance(value, Mapping):
            for name, score in value.items():
                if isinstance(score, int | float) and not isinstance(score, bool):
                    cells[(str(key), str(name))] = int(score)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            cells[(str(key),)] = int(value)
    return cells
