"""The plain records the export core reads: items with their annotations, and curation documents.

The Django side (`exports/sources.py`) turns database rows into these; tests and the benchmark build them directly.
Nothing here imports Django. An `ItemRecord` carries everything one item contributes to an export: its prompt (text
and/or earlier turns), its responses, the project's system prompt and kind, whether it is gold, the quality issue's
stored consensus and agreement when there are any, and its annotations.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

KIND_INSTRUCTION = "instruction"
KIND_RESPONSE = "response"
KIND_LIKERT = "likert"
KIND_PAIRWISE = "pairwise"
KIND_RANKING = "ranking"
KIND_LABEL = "label"
PREFERENCE_KINDS = (KIND_LIKERT, KIND_PAIRWISE, KIND_RANKING)
WRITING_KINDS = (KIND_INSTRUCTION, KIND_RESPONSE)

STATUS_SUBMITTED = "submitted"
STATUS_ACCEPTED = "accepted"
STATUS_EDITED = "edited"
STATUS_REJECTED = "rejected"

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}


@dataclass(slots=True)
class AnnotationRecord:
    """One person's annotation of one item (not frozen: a frozen dataclass costs ~1 us more to make, and an export
    makes one per annotation, a million of them for a large project).

    `payload` is the annotation as the annotation app stores it (issue 9's payload shapes); `edited_payload` is a
    reviewer's edit when the quality issue's review changed it (the original is never overwritten there either).
    `trust` is the annotator's trust score from the quality issue, None when none was computed.
    `display_order` is the order the responses were shown in (pairwise "a" is its first id).
    """

    annotator: str
    payload: Mapping[str, Any]
    status: str = STATUS_SUBMITTED
    trust: float | None = None
    display_order: Sequence[str] = ()
    edited_payload: Mapping[str, Any] | None = None

    @property
    def effective_payload(self) -> Mapping[str, Any]:
        """The payload to export: a reviewer's edit when there is one, else what the annotator submitted."""
        return self.edited_payload if self.edited_payload is not None else self.payload


@dataclass(frozen=True, slots=True)
class Consensus:
    """The quality issue's stored consensus for one item.

    `scores`: per response id, higher is better (Bradley-Terry strengths for pairwise and ranking, the median rating
    for Likert). `agreement`: the item's agreement in [0, 1], None when it rests on fewer than two annotators.
    """

    scores: Mapping[str, float] = field(default_factory=dict)
    agreement: float | None = None


@dataclass(slots=True)
class ItemRecord:
    """One annotation item with everything an export needs from it."""

    project: int
    item: str  # the id the item was imported with
    kind: str
    prompt: str = ""
    messages: Sequence[Mapping[str, Any]] | None = None  # earlier turns, [{role, content}]
    responses: Sequence[Mapping[str, Any]] = ()  # [{id, text, model?}]
    system_prompt: str = ""
    is_gold: bool = False
    annotations: list[AnnotationRecord] = field(default_factory=list)
    consensus: Consensus | None = None
    scale: int = 5  # Likert points
    criteria: Sequence[str] = ()  # Likert criteria


@dataclass(frozen=True, slots=True)
class DocumentRecord:
    """One kept document of a curation job (for `pretrain`)."""

    id: str
    text: str
    url: str | None = None
    lang: str | None = None
    job: int | None = None
