"""Quality control's writes: recompute a project's quality (consensus, trust, flags, routing), review annotations,
promote gold items, QC settings, and the gold-serving decision for the claim path.

The statistics are in the pure package `annotation.quality`; this module reads the database into its records,
calls `analyse_project` and stores what it returns. `project_quality_refresh` is safe to re-run and to run
concurrently (a PostgreSQL advisory lock lets one run at a time per project; the other returns the current
snapshot).
"""

from __future__ import annotations

import logging
import random
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from annotation.models import Annotation, Assignment, Item, Project
from annotation.models_quality import AnnotatorQuality, ItemConsensus, QualitySettings, QualitySnapshot, Review
from annotation.quality.agreement import Scheme
from annotation.quality.analysis import ROUTE_MORE_ANNOTATORS, ROUTE_REVIEW, QualityParams, analyse_project, route_item
from annotation.quality.flags import FlagParams
from annotation.quality.gold import GoldParams, gold_serve_probability, unanimous_answer
from annotation.quality.records import JUDGED_KINDS, ItemInfo, Judgement
from annotation.selectors_quality import item_counts, throughput_hours
from annotation.services.payloads import payload_clean
from core.errors import ValidationError

logger = logging.getLogger(__name__)

# Gold items are answered by every annotator who draws one, not by `overlap` people: their target overlap is set
# this high (the database checks assigned_count <= target_overlap), and the claim path serves them only when
# `gold_should_serve` says so.
GOLD_TARGET_OVERLAP = 10_000
# Submits within this many seconds share one scheduled refresh.
REFRESH_DEBOUNCE_SECONDS = 30
_ADVISORY_NAMESPACE = 0x51C0  # "QC": keeps our advisory lock keys apart from anyone else's
_NUMERIC_SETTINGS: dict[str, tuple[type, float, float]] = {
    "likert_tolerance": (int, 0, 6),
    "ranking_min_tau": (float, -1.0, 1.0),
    "min_active_seconds": (float, 0.0, 86_400.0),
    "min_gold_accuracy": (float, 0.0, 1.0),
    "min_tasks": (int, 1, 100_000),
}


# -- settings -----------------------------------------------------------------------------------------------------


def quality_settings_get(project: Project) -> QualitySettings:
    """The project's QC settings, created with the defaults on first use. Safe to re-run."""
    settings, _created = QualitySettings.objects.get_or_create(project=project)
    return settings


def quality_settings_update(project: Project, changes: Mapping[str, Any]) -> QualitySettings:
    """Change some QC settings (and the project's gold_rate, agreement_threshold, max_overlap); 400 on bad input.

    Changes: the QualitySettings row and the project row. Safe to re-run.
    """
    settings = quality_settings_get(project)
    project_fields: list[str] = []
    settings_fields: list[str] = []
    for name, value in changes.items():
        if name == "weight_by_trust":
            if not isinstance(value, bool):
                raise ValidationError(_("%(name)s must be true or false") % {"name": name}, field=name)
            settings.weight_by_trust = value
            settings_fields.append(name)
        elif name in _NUMERIC_SETTINGS:
            kind, low, high = _NUMERIC_SETTINGS[name]
            if isinstance(value, bool) or not isinstance(value, int | float) or (kind is int and value != int(value)):
                raise ValidationError(_("%(name)s must be a number") % {"name": name}, field=name)
            if not low <= value <= high:
                raise ValidationError(_("%(name)s must be between %(low)s and %(high)s")
                                      % {"name": name, "low": low, "high": high}, field=name)
            setattr(settings, name, kind(value))
            settings_fields.append(name)
        elif name == "gold_rate":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
                raise ValidationError(_("gold_rate must be in [0, 1)"), field=name)
            project.gold_rate = float(value)
            project_fields.append(name)
        elif name == "agreement_threshold":
            numeric = isinstance(value, int | float) and not isinstance(value, bool)
            if value is not None and (not numeric or not 0 <= value <= 1):
                raise ValidationError(_("agreement_threshold must be empty or in [0, 1]"), field=name)
            project.agreement_threshold = None if value is None else float(value)
            project_fields.append(name)
        elif name == "max_overlap":
            if isinstance(value, bool) or not isinstance(value, int) or not project.overlap <= value <= 100:
                raise ValidationError(_("max_overlap must be an integer from the overlap (%(overlap)s) to 100")
                                      % {"overlap": project.overlap}, field=name)
            project.max_overlap = value
            project_fields.append(name)
        else:
            raise ValidationError(_("unknown setting %(name)s") % {"name": name}, field=name)
    with transaction.atomic():
        if settings_fields:
            settings.save(update_fields=[*settings_fields, "updated_at"])
        if project_fields:
            project.save(update_fields=project_fields)
    return settings


def scheme_of(project: Project, settings: QualitySettings) -> Scheme:
    return Scheme(
        kind=project.kind,
        criteria=list(project.criteria or []),
        labels=list(project.labels or []),
        multi_label=project.multi_label,
        scale=project.scale,
        tolerance=settings.likert_tolerance,
    )


def params_of(settings: QualitySettings) -> QualityParams:
    return QualityParams(
        gold=GoldParams(likert_tolerance=settings.likert_tolerance, ranking_min_tau=settings.ranking_min_tau),
        flags=FlagParams(
            min_active_seconds=settings.min_active_seconds,
            min_gold_accuracy=settings.min_gold_accuracy,
            min_tasks=settings.min_tasks,
        ),
        weight_by_trust=settings.weight_by_trust,
    )


# -- reading the project into records --------------------------------------------------------------------------


def _item_info(item_id: int, responses: Any, is_gold: bool, expected: Any) -> ItemInfo:
    responses = responses if isinstance(responses, list) else []
    ids = [str(r.get("id")) for r in responses if isinstance(r, dict)]
    return ItemInfo(
        item_id=item_id,
        response_ids=ids,
        response_lengths={str(r.get("id")): len(str(r.get("text", ""))) for r in responses if isinstance(r, dict)},
        response_models={
            str(r.get("id")): str(r["model"]) for r in responses if isinstance(r, dict) and r.get("model")
        },
        is_gold=is_gold,
        expected=expected if isinstance(expected, dict) else None,
    )


def project_judgements(project: Project) -> tuple[list[Judgement], dict[int, ItemInfo], int]:
    """The project's judgements as QC counts them (rejected left out; an edited one with the reviewer's payload),
    the items they are on, and the newest annotation id read."""
    edits: dict[int, Any] = {}
    for annotation_id, payload in (
        Review.objects.filter(annotation__project=project, action=Review.ACTION_EDIT)
        .order_by("annotation_id", "id").values_list("annotation_id", "payload")
    ):
        edits[annotation_id] = payload  # the latest edit wins (ordered by id)
    rows = (
        Annotation.objects.filter(project=project)
        .exclude(status=Annotation.STATUS_REJECTED)
        .values_list("id", "item_id", "annotator_id", "payload", "display_order", "active_seconds", "created_at",
                     "status")
    )
    judgements = []
    newest = 0
    for annotation_id, item_id, annotator_id, stored, order, seconds, created_at, status in rows.iterator(2000):
        edited = status == Annotation.STATUS_EDITED and annotation_id in edits
        payload = edits[annotation_id] if edited else stored
        judgements.append(Judgement(
            item_id=item_id, annotator_id=annotator_id, payload=payload or {},
            display_order=[str(rid) for rid in (order or [])], active_seconds=float(seconds or 0.0),
            annotation_id=annotation_id, created_at=created_at,
        ))
        newest = max(newest, annotation_id)
    item_ids = {judgement.item_id for judgement in judgements}
    items = {
        item_id: _item_info(item_id, responses, is_gold, expected)
        for item_id, responses, is_gold, expected in Item.objects.filter(project=project, pk__in=item_ids)
        .values_list("id", "responses", "is_gold", "expected").iterator(2000)
    } if item_ids else {}
    return judgements, items, newest


def _day_buckets(judgements: list[Judgement]) -> dict[int, str]:
    """Each item's bucket for agreement over time: the day (UTC) of its latest annotation."""
    latest: dict[int, Any] = {}
    for judgement in judgements:
        if judgement.created_at is not None and (
            judgement.item_id not in latest or judgement.created_at > latest[judgement.item_id]
        ):
            latest[judgement.item_id] = judgement.created_at
    return {item_id: moment.date().isoformat() for item_id, moment in latest.items()}


# -- refresh --------------------------------------------------------------------------------------------------------


def _try_lock(project_id: int) -> bool:
    """Take this project's refresh lock for the current transaction (PostgreSQL); other databases have one writer."""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_ADVISORY_NAMESPACE, project_id])
        return bool(cursor.fetchone()[0])


def _histogram(values: list[float], bins: int = 20) -> dict[str, Any]:
    """Time per task: counts in equal bins up to the 99th percentile (the long tail folded into the last bin)."""
    import numpy as np

    if not values:
        return {"edges": [], "counts": [], "median": None, "p90": None}
    array = np.asarray(values, dtype=float)
    top = float(np.percentile(array, 99)) or float(array.max()) or 1.0
    counts, edges = np.histogram(np.clip(array, 0, top), bins=bins, range=(0.0, top))
    return {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts],
            "median": float(np.median(array)), "p90": float(np.percentile(array, 90))}


def _waiting(agreement: float | None, submitted: int, target: int, project: Project) -> bool:
    threshold = project.agreement_threshold
    return threshold is not None and agreement is not None and agreement < threshold and submitted < target


def project_quality_refresh(project_id: int) -> QualitySnapshot | None:
    """Recompute the project's quality and store it: snapshot, per-annotator quality, per-item consensus, routing.

    Changes: QualitySnapshot, AnnotatorQuality and ItemConsensus rows of the project; raises Item.target_overlap
    (by one, up to the project's max_overlap) of finished items whose agreement is below the threshold, and marks
    items for review once the cap is reached. Safe to re-run: the same data gives the same rows, and an item is
    raised again only after its new annotation arrived. None when another refresh of the project is running.
    """
    started = time.perf_counter()
    project = Project.objects.get(pk=project_id)
    settings = quality_settings_get(project)
    judgements, items, newest = project_judgements(project)
    scheme = scheme_of(project, settings)
    analysis = analyse_project(scheme, judgements, items, params_of(settings), buckets=_day_buckets(judgements))
    now = timezone.now()

    item_state = {
        item_id: (submitted, target)
        for item_id, submitted, target in Item.objects.filter(project=project, pk__in=list(analysis.items))
        .values_list("id", "submitted_count", "target_overlap").iterator(2000)
    }
    consensus_rows = []
    more_annotators: list[int] = []
    for item_id, result in analysis.items.items():
        if result.consensus is None:
            continue
        submitted, target = item_state.get(item_id, (0, 0))
        is_gold = items[item_id].is_gold if item_id in items else False
        route = None if is_gold else route_item(
            result.agreement, submitted, target, project.max_overlap, project.agreement_threshold)
        if route == ROUTE_MORE_ANNOTATORS:
            more_annotators.append(item_id)
        elif route is None and not is_gold and _waiting(result.agreement, submitted, target, project):
            route = ROUTE_MORE_ANNOTATORS  # raised earlier; the extra annotations are still to come
        consensus_rows.append(ItemConsensus(
            item_id=item_id, project=project, value=result.consensus, agreement=result.agreement,
            n_annotations=result.n_judgements, weighted=settings.weight_by_trust, route=route or "",
            needs_review=route == ROUTE_REVIEW, computed_at=now,
        ))

    quality_rows = []
    for annotator_id, figures in analysis.annotators.items():
        gold = figures.get("gold") or {}
        agreement = figures.get("agreement") or {}
        versus = agreement.get("versus_others") or {}
        quality_rows.append(AnnotatorQuality(
            project=project, annotator_id=annotator_id, n_tasks=figures["n_tasks"],
            active_seconds=figures["total_active_seconds"], median_active_seconds=figures["median_active_seconds"],
            gold_n=gold.get("n", 0), gold_correct=gold.get("correct", 0), gold_accuracy=gold.get("accuracy"),
            gold_wilson_low=gold.get("wilson_low"), gold_wilson_high=gold.get("wilson_high"),
            agreement_rate=agreement.get("rate"), agreement_alpha=versus.get("value"),
            agreement_items=agreement.get("n_items", 0), trust=figures["trust"]["score"], flags=figures["flags"],
            figures=figures, computed_at=now,
        ))

    data = {
        "kind": project.kind,
        "agreement": analysis.agreement,
        "headline": analysis.headline,
        "agreement_over_time": analysis.agreement_over_time,
        "bias": analysis.bias,
        "leaderboard": analysis.leaderboard,
        "time_per_task": _histogram([judgement.active_seconds for judgement in judgements]),
        "items_with_consensus": len(consensus_rows),
        "items_more_annotators": len(more_annotators),
        "items_needing_review": sum(row.needs_review for row in consensus_rows),
        "last_review_id": Review.objects.filter(annotation__project=project).aggregate(m=Max("id"))["m"] or 0,
        # Up to the newest annotation read: later ones are counted live by the dashboard.
        "throughput_hours": throughput_hours(project, up_to_id=newest),
        "item_counts": item_counts(project),
        "annotations_total": Annotation.objects.filter(project=project, id__lte=newest).count(),
    }
    with transaction.atomic():
        if not _try_lock(project.pk):
            logger.info("quality refresh of project %s already running; skipped", project.pk)
            return None
        AnnotatorQuality.objects.filter(project=project).delete()
        AnnotatorQuality.objects.bulk_create(quality_rows, batch_size=1000)
        ItemConsensus.objects.filter(project=project).exclude(item_id__in=list(analysis.items)).delete()
        ItemConsensus.objects.bulk_create(
            consensus_rows, batch_size=1000, update_conflicts=True, unique_fields=["item"],
            update_fields=["value", "agreement", "n_annotations", "weighted", "route", "needs_review", "computed_at"],
        )
        if more_annotators:
            # Re-checked in the UPDATE itself: only finished items, never past the cap (claims may run meanwhile).
            Item.objects.filter(
                pk__in=more_annotators, is_gold=False, submitted_count__gte=F("target_overlap"),
                target_overlap__lt=project.max_overlap,
            ).update(target_overlap=F("target_overlap") + 1)
        snapshot, _created = QualitySnapshot.objects.update_or_create(
            project=project,
            defaults={"data": data, "annotations_count": len(judgements), "last_annotation_id": newest,
                      "duration_seconds": time.perf_counter() - started, "computed_at": now},
        )
    return snapshot


def quality_refresh_soon(project_id: int) -> bool:
    """Schedule a refresh of the project after the current transaction commits, at most one per debounce window.

    Call after a submit or a review. Returns whether a task was scheduled (False: one is already on its way).
    """
    from annotation.tasks_quality import project_quality_refresh_task

    if not cache.add(f"annotation-quality-refresh:{project_id}", 1, timeout=REFRESH_DEBOUNCE_SECONDS):
        return False
    # robust: a broker that cannot be reached must not fail the submit that asked; the next one schedules again.
    transaction.on_commit(
        lambda: project_quality_refresh_task.apply_async(args=[project_id], countdown=REFRESH_DEBOUNCE_SECONDS),
        robust=True,
    )
    return True


# -- review ---------------------------------------------------------------------------------------------------------


def review_submit(
    reviewer: AbstractBaseUser, annotation: Annotation, action: str, payload: Any = None, comment: str = ""
) -> Review:
    """Accept, edit or reject an annotation; the original payload stays as it was.

    Changes: adds a Review (an edit stores the corrected payload, checked against the project's kind) and sets
    the annotation's status (accepted, edited, rejected); schedules a quality refresh. Each call records one more
    review: the latest decides the status.
    """
    if action not in Review.ACTIONS:
        raise ValidationError(_("action must be one of %(actions)s") % {"actions": ", ".join(Review.ACTIONS)},
                              field="action")
    if not isinstance(comment, str):
        raise ValidationError(_("comment must be text"), field="comment")
    cleaned = None
    if action == Review.ACTION_EDIT:
        if payload is None:
            raise ValidationError(_("an edit needs the corrected payload"), field="payload")
        item = annotation.item
        cleaned = payload_clean(annotation.project, payload, response_ids=[str(r["id"]) for r in item.responses])
    elif payload is not None:
        raise ValidationError(_("only an edit carries a payload"), field="payload")
    status = {
        Review.ACTION_ACCEPT: Annotation.STATUS_ACCEPTED,
        Review.ACTION_EDIT: Annotation.STATUS_EDITED,
        Review.ACTION_REJECT: Annotation.STATUS_REJECTED,
    }[action]
    with transaction.atomic():
        locked = Annotation.objects.select_for_update().get(pk=annotation.pk)
        review = Review.objects.create(annotation=locked, reviewer=reviewer, action=action, payload=cleaned,
                                       comment=comment.strip())
        locked.status = status
        locked.save(update_fields=["status"])
        quality_refresh_soon(locked.project_id)
    annotation.status = status
    return review


# -- gold -------------------------------------------------------------------------------------------------------


def gold_should_serve(project: Project, annotator: AbstractBaseUser, rng: random.Random | None = None) -> bool:
    """Whether this annotator's next item should be a gold item, at the project's gold_rate.

    For the claim path: call it before choosing the item; True means choose among gold items the annotator has
    not had (falling back to an ordinary item when none is left), False means choose among non-gold items.
    Reads the annotator's past assignments in the project; changes nothing.
    """
    if project.gold_rate <= 0:
        return False
    served = Assignment.objects.filter(project=project, annotator=annotator)
    total = served.count()
    gold = served.filter(item__is_gold=True).count()
    return (rng or random).random() < gold_serve_probability(project.gold_rate, total, gold)


def gold_items_prepare(project: Project) -> int:
    """Open the project's gold items to every annotator (target overlap GOLD_TARGET_OVERLAP). Safe to re-run."""
    return Item.objects.filter(project=project, is_gold=True, target_overlap__lt=GOLD_TARGET_OVERLAP).update(
        target_overlap=GOLD_TARGET_OVERLAP)


def gold_promote_unanimous(project: Project, min_annotations: int = 3) -> int:
    """Make gold items of the finished items on which every annotator (at least `min_annotations`) agreed.

    Their common answer becomes `expected`; they are opened to every annotator (see `gold_items_prepare`).
    Changes: Item.is_gold, expected, target_overlap. Safe to re-run (gold items are left as they are).
    Returns how many items were promoted.
    """
    if project.kind not in JUDGED_KINDS:
        raise ValidationError(_("only rating, preference and label projects have gold answers"))
    if min_annotations < 2:
        raise ValidationError(_("a unanimous answer needs at least two annotators"), field="min_annotations")
    judgements, items, _newest = project_judgements(project)
    by_item: dict[int, list[Judgement]] = defaultdict(list)
    for judgement in judgements:
        by_item[judgement.item_id].append(judgement)
    finished = set(Item.objects.filter(project=project, is_gold=False, submitted_count__gte=F("target_overlap"))
                   .values_list("id", flat=True))
    promoted = 0
    with transaction.atomic():
        for item_id, group in by_item.items():
            if item_id not in finished or len(group) < min_annotations:
                continue
            answer = unanimous_answer(project.kind, group, items[item_id])
            if answer is None:
                continue
            promoted += Item.objects.filter(pk=item_id, is_gold=False).update(
                is_gold=True, expected=answer, target_overlap=GOLD_TARGET_OVERLAP)
    return promoted
