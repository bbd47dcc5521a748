"""Quality control's reads: the dashboard's figures, the leaderboard, the review queue, stored consensus for exports.

The heavy figures come from the last refresh (`QualitySnapshot`, `AnnotatorQuality`); only cheap aggregates
(throughput per hour or day, counts) are computed live, so these answer in milliseconds on large projects.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncHour

from annotation.models import Annotation, Item, Membership, Project
from annotation.models_quality import AnnotatorQuality, ItemConsensus, QualitySnapshot, Review

# Throughput is shown per hour while a project's history is shorter than this, per day after.
HOURLY_SPAN = timedelta(days=3)


def throughput_hours(project: Project, after_id: int = 0, up_to_id: int | None = None) -> list[dict[str, Any]]:
    """Annotations and active seconds per hour (UTC, ISO strings), of the annotations with ids in
    (`after_id`, `up_to_id`]."""
    annotations = Annotation.objects.filter(project=project, id__gt=after_id)
    if up_to_id is not None:
        annotations = annotations.filter(id__lte=up_to_id)
    rows = (
        annotations
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(n=Count("id"), seconds=Sum("active_seconds"))
        .order_by("hour")
    )
    return [{"hour": row["hour"].isoformat(), "n": row["n"], "seconds": row["seconds"] or 0.0} for row in rows]


def throughput(project: Project, snapshot: QualitySnapshot | None = None) -> dict[str, Any]:
    """Annotations and active hours per hour (short projects) or per day, oldest first.

    The hours up to the last refresh come from the snapshot; only newer annotations are counted here, so the
    cost follows what arrived since the refresh, not the project's size."""
    stored = (snapshot.data.get("throughput_hours") if snapshot else None) or []
    after = snapshot.last_annotation_id if snapshot and "throughput_hours" in snapshot.data else 0
    merged: dict[str, dict[str, Any]] = {row["hour"]: dict(row) for row in stored}
    for row in throughput_hours(project, after):
        point = merged.setdefault(row["hour"], {"hour": row["hour"], "n": 0, "seconds": 0.0})
        point["n"] += row["n"]
        point["seconds"] += row["seconds"]
    hours = [
        {"hour": datetime.fromisoformat(key), "n": merged[key]["n"], "seconds": merged[key]["seconds"]}
        for key in sorted(merged)
    ]
    if not hours:
        return {"unit": "hour", "points": []}
    if hours[-1]["hour"] - hours[0]["hour"] < HOURLY_SPAN:
        points = [{"t": row["hour"].isoformat(), "n": row["n"], "seconds": row["seconds"] or 0.0} for row in hours]
        return {"unit": "hour", "points": points}
    days: dict[str, dict[str, Any]] = {}
    for row in hours:
        day = row["hour"].date().isoformat()
        point = days.setdefault(day, {"t": day, "n": 0, "seconds": 0.0})
        point["n"] += row["n"]
        point["seconds"] += row["seconds"] or 0.0
    return {"unit": "day", "points": list(days.values())}


def annotator_rows(project: Project) -> list[dict[str, Any]]:
    """One row per annotator of the last refresh: count, active time, gold accuracy, agreement, trust, flags and
    whether they are paused (live), worst trust first so the people to look at come first."""
    paused = dict(Membership.objects.filter(project=project).values_list("user_id", "paused"))
    rows = []
    # Plain values, not model instances: a project has hundreds of annotators and this is on every dashboard load.
    for quality in AnnotatorQuality.objects.filter(project=project).values(
        "annotator_id", "annotator__username", "n_tasks", "active_seconds", "median_active_seconds", "gold_n",
        "gold_correct", "gold_accuracy", "gold_wilson_low", "gold_wilson_high", "agreement_rate", "agreement_alpha",
        "agreement_items", "trust", "flags", "figures",
    ):
        figures = quality["figures"] or {}
        rows.append({
            "user_id": quality["annotator_id"],
            "username": quality["annotator__username"],
            "paused": paused.get(quality["annotator_id"], False),
            "tasks": quality["n_tasks"],
            "active_seconds": quality["active_seconds"],
            "median_active_seconds": quality["median_active_seconds"],
            "gold": {"n": quality["gold_n"], "correct": quality["gold_correct"], "accuracy": quality["gold_accuracy"],
                     "wilson_low": quality["gold_wilson_low"], "wilson_high": quality["gold_wilson_high"]},
            "agreement": {"rate": quality["agreement_rate"], "versus_others": quality["agreement_alpha"],
                          "items": quality["agreement_items"]},
            "trust": quality["trust"],
            "trust_inputs": (figures.get("trust") or {}),
            "flags": quality["flags"],
            "position": figures.get("position"),
            "length": figures.get("length"),
            "likert_top_share": figures.get("likert_top_share"),
        })
    rows.sort(key=lambda row: (row["trust"] is None, row["trust"] if row["trust"] is not None else 0.0,
                               row["username"]))
    return rows


def item_counts(project: Project) -> dict[str, int]:
    """Items, gold items and finished items (every wanted annotation in) of the project."""
    counts = Item.objects.filter(project=project).aggregate(
        items=Count("id"),
        gold=Count("id", filter=Q(is_gold=True)),
        finished=Count("id", filter=Q(submitted_count__gte=F("target_overlap"))),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def project_counts(project: Project, snapshot: QualitySnapshot | None = None) -> dict[str, int]:
    """The dashboard's counts. Item counts and the review queue are those of the last refresh (counting a large
    project's items on every load is what made the dashboard slow); annotations are counted live, the ones since
    the refresh added to the refresh's total."""
    data = snapshot.data if snapshot else {}
    if snapshot is None or "item_counts" not in data:
        counts = item_counts(project)
        counts["annotations"] = Annotation.objects.filter(project=project).count()
        counts["needs_review"] = ItemConsensus.objects.filter(project=project, needs_review=True).count()
        return counts
    newer = Annotation.objects.filter(project=project, id__gt=snapshot.last_annotation_id).count()
    return {**data["item_counts"], "annotations": int(data.get("annotations_total", 0)) + newer,
            "needs_review": int(data.get("items_needing_review", 0))}


def quality_dashboard(project: Project) -> dict[str, Any]:
    """Everything the manager's dashboard shows, as JSON-ready data (the API's `quality/` answer)."""
    snapshot = QualitySnapshot.objects.filter(project=project).first()
    data = snapshot.data if snapshot else {}
    counts = project_counts(project, snapshot)
    return {
        "project": {"id": project.pk, "name": project.name, "kind": project.kind,
                    "gold_rate": project.gold_rate, "agreement_threshold": project.agreement_threshold,
                    "overlap": project.overlap, "max_overlap": project.max_overlap},
        "computed_at": snapshot.computed_at.isoformat() if snapshot else None,
        "compute_seconds": snapshot.duration_seconds if snapshot else None,
        "stale": quality_is_stale(project, snapshot),
        "counts": counts,
        "headline": data.get("headline"),
        "agreement": data.get("agreement", {}),
        "agreement_over_time": data.get("agreement_over_time", []),
        "throughput": throughput(project, snapshot),
        "time_per_task": data.get("time_per_task"),
        "bias": data.get("bias", {}),
        "routing": {"more_annotators": data.get("items_more_annotators", 0),
                    "needs_review": data.get("items_needing_review", 0)},
        "annotators": annotator_rows(project),
        "has_leaderboard": bool((data.get("leaderboard") or {}).get("models")),
    }


def quality_is_stale(project: Project, snapshot: QualitySnapshot | None) -> bool:
    """Whether annotations or reviews arrived since the last refresh (or there was none while annotations exist)."""
    newest = Annotation.objects.filter(project=project).aggregate(m=Max("id"))["m"] or 0
    if snapshot is None:
        return newest > 0
    last_review = Review.objects.filter(annotation__project=project).aggregate(m=Max("id"))["m"] or 0
    return newest > snapshot.last_annotation_id or last_review > int(snapshot.data.get("last_review_id", 0))


def project_leaderboard(project: Project) -> dict[str, Any]:
    """The model leaderboard of the last refresh (empty when responses carry no models)."""
    snapshot = QualitySnapshot.objects.filter(project=project).only("data", "computed_at").first()
    board = (snapshot.data.get("leaderboard") if snapshot else None) or {
        "models": [], "matrix": {"models": [], "win_rate": [], "battles": []}, "battles": 0}
    return {"project": project.pk, "computed_at": snapshot.computed_at.isoformat() if snapshot else None, **board}


def review_queue(project: Project, *, routed_only: bool = True, limit: int = 50) -> QuerySet[Annotation]:
    """Annotations waiting for a reviewer: those of items routed to review (low agreement at the overlap cap) that
    no reviewer has decided yet; with `routed_only=False`, every undecided annotation, newest first."""
    pending = Annotation.objects.filter(project=project, status=Annotation.STATUS_SUBMITTED)
    if routed_only:
        pending = pending.filter(item__consensus__needs_review=True).order_by("item_id", "id")
    else:
        pending = pending.order_by("-id")
    return pending.select_related("item", "annotator")[:limit]


def annotation_reviews(annotation: Annotation) -> list[dict[str, Any]]:
    """What reviewers did to an annotation, newest first."""
    return [
        {"id": review.pk, "action": review.action, "payload": review.payload, "comment": review.comment,
         "reviewer": review.reviewer.get_username() if review.reviewer else None,
         "created_at": review.created_at.isoformat()}
        for review in Review.objects.filter(annotation=annotation).select_related("reviewer")
    ]


def effective_payload(annotation: Annotation) -> dict[str, Any] | None:
    """The payload that counts: the latest edit for an edited annotation, none for a rejected one, else the
    original."""
    if annotation.status == Annotation.STATUS_REJECTED:
        return None
    if annotation.status == Annotation.STATUS_EDITED:
        edit = Review.objects.filter(annotation=annotation, action=Review.ACTION_EDIT).order_by("-id").first()
        if edit is not None:
            return edit.payload
    return annotation.payload


def consensus_for_export(project: Project) -> Iterator[dict[str, Any]]:
    """Stored consensus per item, in item order, for exports: the item's imported id, the consensus value (see
    `annotation.quality.consensus`), agreement, number of annotations, whether trust-weighted and flagged for
    review, and when it was computed. Reads only; call `project_quality_refresh` first for fresh figures."""
    rows = (
        ItemConsensus.objects.filter(project=project)
        .order_by("item_id")
        .values_list("item_id", "item__external_id", "value", "agreement", "n_annotations", "weighted",
                     "needs_review", "computed_at")
    )
    for item_id, external_id, value, agreement, n, weighted, needs_review, computed_at in rows.iterator(2000):
        yield {"item_id": item_id, "external_id": external_id, "consensus": value, "agreement": agreement,
               "n_annotations": n, "weighted": weighted, "needs_review": needs_review,
               "computed_at": computed_at.isoformat()}
