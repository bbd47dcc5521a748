"""Read annotation projects from the database as the export core's plain records, in bounded memory.

Items come in blocks of `ITEM_BLOCK`, each one indexed query (`id >= next ORDER BY id LIMIT n`, keyset
pagination); for each block one query fetches its annotations, one its stored consensus (the quality issue's
`ItemConsensus`) and one the reviewers' edits of its edited annotations. Memory holds one block, plus one trust score
per annotator of the project. Not one server-side cursor over all items: outside a transaction Django declares it
WITH HOLD, and PostgreSQL then runs the whole query and copies every row into a temporary store before the first
block comes back (1.2 s and a 250 MB temporary file for 250,000 items, during which the export waits).

The queries are SQL over the models' own table and column names rather than querysets: a million annotations make
a million rows, and the ORM's per-row work (model field conversion, JSON through `json.loads`) and its `IN` lists of
2,000 placeholders (built and parsed again for every block) cost several times the reading itself. Each block's ids
travel as one parameter (PostgreSQL: an array, `= ANY(%s)`; SQLite, the embedded default: a JSON array read with
`json_each`), and JSON columns are read as text and parsed with orjson.

Order: items by id, except Likert items with one response, which are ordered by prompt so that the items rating
answers to the same prompt come one after the other (the core pairs them up as it streams).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection
from django.db.models import Count, Model

from annotation.models import Annotation, Item, Project
from annotation.models_quality import AnnotatorQuality, ItemConsensus, Review
from exports.formats.records import AnnotationRecord, Consensus, ItemRecord
from exports.formats.spec import ExportSpec

ITEM_BLOCK = 2000
_NO_ID_BOUND = 2**63 - 1  # past any bigint id


def _table(model: type[Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _columns(model: type[Model], *fields: str) -> list[str]:
    return [connection.ops.quote_name(model._meta.get_field(name).column) for name in fields]


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _json_text(column: str) -> str:
    """A JSON column read as its text: PostgreSQL's jsonb is cast, SQLite stores the text itself."""
    return f"{column}::text" if _postgresql() else column


def _one_of(column: str) -> str:
    """The condition that `column` is one of a block's ids, given as one parameter (see `_ids`)."""
    return f"{column} = ANY(%s)" if _postgresql() else f"{column} IN (SELECT value FROM json_each(%s))"


def _ids(ids: list[int]) -> Any:
    return ids if _postgresql() else orjson.dumps(ids).decode()


def _items_sql(likert: bool) -> str:
    id_, external_id, prompt, messages, responses, is_gold, project = _columns(
        Item, "id", "external_id", "prompt", "messages", "responses", "is_gold", "project")
    select = (f"SELECT {id_}, {external_id}, {prompt}, {_json_text(messages)}, {_json_text(responses)}, {is_gold} "
              f"FROM {_table(Item)} WHERE {project} = %s AND {id_} >= %s AND {id_} < %s")
    if likert:
        return f"{select} ORDER BY {prompt}, {messages}, {id_}"
    return f"{select} ORDER BY {id_} LIMIT {ITEM_BLOCK}"


def _annotations_sql(with_display_order: bool) -> str:
    id_, item, annotator, payload, status, display_order = _columns(
        Annotation, "id", "item", "annotator", "payload", "status", "display_order")
    # Only pairwise payloads are read against the order the responses were shown in; other kinds skip the column.
    shown = _json_text(display_order) if with_display_order else "NULL"
    return (f"SELECT {id_}, {item}, {annotator}, {_json_text(payload)}, {status}, {shown} FROM {_table(Annotation)} "
            f"WHERE {_one_of(item)} ORDER BY {item}, {id_}")


def _edits_sql() -> str:
    id_, annotation, payload, action = _columns(Review, "id", "annotation", "payload", "action")
    # Newest first: the first edit seen of each annotation is its latest.
    return (f"SELECT {annotation}, {_json_text(payload)} FROM {_table(Review)} WHERE {_one_of(annotation)} "
            f"AND {action} = %s ORDER BY {annotation}, {id_} DESC")


def _consensus_sql() -> str:
    item, value, agreement = _columns(ItemConsensus, "item", "value", "agreement")
    return (f"SELECT {item}, {_json_text(value)}, {agreement} FROM {_table(ItemConsensus)} "
            f"WHERE {_one_of(item)}")


def _fetch(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


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
    for row in _fetch(_annotations_sql(project.kind == Project.KIND_PAIRWISE), [_ids(ids)]):
        annotations.setdefault(row[1], []).append(row)
        if row[4] == Annotation.STATUS_EDITED:
            edited.append(row[0])
    edits: dict[int, Any] = {}
    if edited:
        for annotation_id, payload in _fetch(_edits_sql(), [_ids(edited), Review.ACTION_EDIT]):
            edits.setdefault(annotation_id, _json(payload))
    stored = {item_id: (_json(value), agreement) for item_id, value, agreement in _fetch(_consensus_sql(), [_ids(ids)])}
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
            is_gold=bool(is_gold),
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


@dataclass(frozen=True)
class ItemRange:
    """The items of one project whose ids are in [first, stop): a part of an export's items."""

    project: int
    first: int = 0
    stop: int = _NO_ID_BOUND


def project_items(projects: Sequence[Project], spec: ExportSpec,
                  ranges: Sequence[ItemRange] | None = None) -> Iterator[ItemRecord]:
    """Yield the items of the projects (of `ranges` only, when given), in order: by project id, then as the module
    docstring says."""
    by_project = {project.pk: project for project in projects}
    for part in ranges if ranges is not None else [ItemRange(pk) for pk in sorted(by_project)]:
        project = by_project[part.project]
        trust = _trust_by_annotator(project)
        if project.kind == Project.KIND_LIKERT:
            # Prompt order needs the whole sort first: a server-side cursor, so the items are never all in memory.
            with connection.chunked_cursor() as cursor:
                cursor.execute(_items_sql(likert=True), [project.pk, part.first, part.stop])
                while block := cursor.fetchmany(ITEM_BLOCK):
                    yield from _block_records(project, block, trust, spec)
            continue
        first = part.first
        while True:
            block = _fetch(_items_sql(likert=False), [project.pk, first, part.stop])
            yield from _block_records(project, block, trust, spec)
            if len(block) < ITEM_BLOCK:
                break
            first = block[-1][0] + 1


def item_parts(projects: Sequence[Project], parts: int) -> list[list[ItemRange]]:
    """Cut the projects' items, in export order (project id, then item id), into at most `parts` runs of about
    equal size; each run is a list of ranges. Likert projects, whose items are read in prompt order, are never cut."""
    id_, project_column = _columns(Item, "id", "project")
    counts = dict(Item.objects.filter(project__in=projects).values("project").annotate(n=Count("id"))
                  .values_list("project", "n"))
    ordered = sorted((p for p in projects if counts.get(p.pk)), key=lambda p: p.pk)
    total = sum(counts[p.pk] for p in ordered)
    if parts <= 1 or total == 0 or any(p.kind == Project.KIND_LIKERT for p in ordered):
        return [[ItemRange(p.pk) for p in ordered]]
    # The item that starts each run after the first, found by its position in its project's id order.
    cuts: list[tuple[int, int]] = []
    offset = 0
    wanted = [total * k // parts for k in range(1, parts)]
    for project in ordered:
        for position in wanted:
            if offset < position < offset + counts[project.pk]:
                row = _fetch(f"SELECT {id_} FROM {_table(Item)} WHERE {project_column} = %s ORDER BY {id_} "
                             f"OFFSET %s LIMIT 1", [project.pk, position - offset])
                cuts.append((project.pk, row[0][0]))
            elif position == offset and offset:
                cuts.append((project.pk, 0))
        offset += counts[project.pk]
    runs: list[list[ItemRange]] = [[]]
    cut_at = dict.fromkeys(cuts)
    for project in ordered:
        first = 0
        for cut_project, cut_id in cut_at:
            if cut_project != project.pk:
                continue
            if cut_id > first:
                runs[-1].append(ItemRange(project.pk, first, cut_id))
            runs.append([])
            first = cut_id
        runs[-1].append(ItemRange(project.pk, first))
    return [run for run in runs if run]


def items_total(projects: Sequence[Project]) -> int:
    """How many items the projects hold (the progress bar's total)."""
    return Item.objects.filter(project__in=projects).count()
