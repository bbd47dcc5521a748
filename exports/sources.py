"""Read annotation projects from the database as the export core's plain records, in bounded memory.

Items stream through a server-side cursor (`.iterator(chunk_size)`), in blocks of `ITEM_BLOCK`; for each block one
query fetches its annotations, one its stored consensus (the quality issue's `ItemConsensus`) and one the reviewers'
edits of its edited annotations. Memory holds one block, plus one trust score per annotator of the project.

Order: items by id, except Likert items with one response, which are ordered by prompt so that the items rating
answers to the same prompt come one after the other (the core pairs them up as it streams).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import orjson
from django.db.models import TextField, Value
from django.db.models.functions import Cast

from annotation.models import Annotation, Item, Project
from annotation.models_quality import AnnotatorQuality, ItemConsensus, Review
from exports.formats.records import AnnotationRecord, Consensus, ItemRecord
from exports.formats.spec import ExportSpec

ITEM_BLOCK = 2000
# JSON columns are read as text and parsed with orjson: Django's JSONField goes through json.loads, which was the
# largest single cost of reading a million annotations.
_JSON_TEXT = {name: Cast(name, TextField()) for name in ("messages", "responses", "payload", "display_order")}
_ITEM_FIELDS = ("id", "external_id", "prompt", "messages_text", "responses_text", "is_gold")
_ANNOTATION_FIELDS = ("id", "item_id", "annotator_id", "payload_text", "status", "display_order_text")


def _json(text: str | None) -> Any:
    return orjson.loads(text) if text is not None else None


def _trust_by_annotator(project: Project) -> dict[int, float | None]:
    return dict(AnnotatorQuality.objects.filter(project=project).values_list("annotator_id", "trust"))


def _likert_score(ratings: Any, criterion: str) -> float | None:
    """A stored Likert consensus cell: the criterion's median, or the mean over criteria."""
    if not isinstance(ratings, Mapping) or not ratings:
        return None
    if criterion:
        value = ratings.get(criterion)
        return float(value) if isinstance(value, (int, float)) else None
    values = [float(v) for v in ratings.values() if isinstance(v, (int, float))]
    return sum(values) / len(values) if values else None


def consensus_record(kind: str, value: Mapping[str, Any], agreement: float | None,
                     responses: Sequence[Mapping[str, Any]], criterion: str) -> Consensus:
    """Turn a stored `ItemConsensus.value` into per-response scores (higher is better).

    Pairwise and ranking: the Bradley-Terry strengths. Likert: the median rating (of the criterion, or the mean of
    the criteria's medians), per response when the item's responses were rated one by one.
    """
    scores: dict[str, float] = {}
    if kind in (Project.KIND_PAIRWISE, Project.KIND_RANKING):
        scores = {str(k): float(v) for k, v in (value.get("scores") or {}).items()}
    elif kind == Project.KIND_LIKERT:
        ratings = value.get("ratings") or {}
        if ratings and all(isinstance(v, Mapping) for v in ratings.values()):
            for rid, per in ratings.items():
                score = _likert_score(per, criterion)
                if score is not None:
                    scores[str(rid)] = score
        elif responses:
            score = _likert_score(ratings, criterion)
            if score is not None:
                scores[str(responses[0].get("id"))] = score
    return Consensus(scores=scores, agreement=agreement)


def _block_records(project: Project, block: list[tuple[Any, ...]], trust: Mapping[int, float | None],
                   spec: ExportSpec) -> Iterator[ItemRecord]:
    ids = [row[0] for row in block]
    annotations: dict[int, list[tuple[Any, ...]]] = {}
    edited: list[int] = []
    # Only pairwise payloads are read against the order the responses were shown in; other kinds skip the column.
    display_order = _JSON_TEXT["display_order"] if project.kind == Project.KIND_PAIRWISE else Value(None, TextField())
    for row in (Annotation.objects.filter(item_id__in=ids).order_by("item_id", "id")
                .annotate(payload_text=_JSON_TEXT["payload"], display_order_text=display_order)
                .values_list(*_ANNOTATION_FIELDS)):
        annotations.setdefault(row[1], []).append(row)
        if row[4] == Annotation.STATUS_EDITED:
            edited.append(row[0])
    edits: dict[int, Any] = {}
    if edited:
        # The latest edit of each edited annotation (reviews are ordered newest first).
        for annotation_id, payload in (Review.objects.filter(annotation_id__in=edited, action=Review.ACTION_EDIT)
                                       .order_by("annotation_id", "-id").values_list("annotation_id", "payload")):
            edits.setdefault(annotation_id, payload)
    stored = {
        item_id: (value, agreement)
        for item_id, value, agreement in ItemConsensus.objects.filter(item_id__in=ids)
        .values_list("item_id", "value", "agreement")
    }
    criteria = list(project.criteria or [])
    for item_id, external_id, prompt, messages_text, responses_text, is_gold in block:
        messages, responses = _json(messages_text), _json(responses_text)
        consensus = None
        if item_id in stored:
            value, agreement = stored[item_id]
            consensus = consensus_record(project.kind, value or {}, agreement, responses or [],
                                         spec.likert_criterion)
        yield ItemRecord(
            project=project.pk,
            item=external_id,
            kind=project.kind,
            prompt=prompt or "",
            messages=messages or None,
            responses=responses or [],
            system_prompt=project.system_prompt,
            is_gold=is_gold,
            scale=project.scale,
            criteria=criteria,
            consensus=consensus,
            annotations=[
                AnnotationRecord(
                    annotator=str(annotator_id),
                    payload=_json(payload) or {},
                    status=status,
                    trust=trust.get(annotator_id),
                    display_order=[str(r) for r in (_json(display_order) or [])] if display_order else (),
                    edited_payload=edits.get(annotation_id),
                )
                for annotation_id, _, annotator_id, payload, status, display_order in annotations.get(item_id, [])
            ],
        )


def project_items(projects: Sequence[Project], spec: ExportSpec) -> Iterator[ItemRecord]:
    """Yield every item of the projects, in order (by project id, then as the module docstring says)."""
    for project in sorted(projects, key=lambda p: p.pk):
        trust = _trust_by_annotator(project)
        queryset = Item.objects.filter(project=project)
        if project.kind == Project.KIND_LIKERT:
            queryset = queryset.order_by("prompt", "messages", "id")
        else:
            queryset = queryset.order_by("id")
        rows = (queryset.annotate(messages_text=_JSON_TEXT["messages"], responses_text=_JSON_TEXT["responses"])
                .values_list(*_ITEM_FIELDS).iterator(chunk_size=ITEM_BLOCK))
        while block := list(itertools.islice(rows, ITEM_BLOCK)):
            yield from _block_records(project, block, trust, spec)


def items_total(projects: Sequence[Project]) -> int:
    """How many items the projects hold (the progress bar's total)."""
    return Item.objects.filter(project__in=projects).count()
