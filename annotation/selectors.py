"""Reads for the API, the pages and the commands: projects visible to a user, progress, submissions. No writes."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from accounts.roles import can_manage_annotation
from annotation.models import Annotation, Assignment, Item, Membership, Project


def projects_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    """Every project for managers and admins; the projects a person is a member of otherwise."""
    if not user.is_authenticated:
        return Project.objects.none()
    if can_manage_annotation(user):
        return Project.objects.order_by("-id")
    return Project.objects.filter(memberships__user=user).order_by("-id")


def project_counts(project: Project) -> dict[str, int]:
    """Items, items done (reached their overlap in submissions), annotations, live leases."""
    items = project.items.aggregate(
        items=Count("id"),
        done=Count("id", filter=Q(submitted_count__gte=F("target_overlap"))),
        submitted=Sum("submitted_count"),
        wanted=Sum("target_overlap"),
    )
    leased = project.assignments.filter(status=Assignment.STATUS_LEASED).count()
    return {"items": items["items"], "items_done": items["done"], "annotations": items["submitted"] or 0,
            "annotations_wanted": items["wanted"] or 0, "leased": leased}


def annotator_progress(project: Project, user: AbstractBaseUser) -> dict[str, Any]:
    """One annotator's progress in a project: submitted, skipped, items still open to them, time on task."""
    mine = Assignment.objects.filter(project=project, annotator=user)
    counts = mine.aggregate(
        submitted=Count("id", filter=Q(status=Assignment.STATUS_SUBMITTED)),
        skipped=Count("id", filter=Q(status=Assignment.STATUS_SKIPPED)),
        active_seconds=Sum("active_seconds", filter=Q(status=Assignment.STATUS_SUBMITTED)),
    )
    had = Assignment.objects.filter(item=OuterRef("pk"), annotator=user)
    remaining = (Item.objects.filter(project=project, assigned_count__lt=F("target_overlap"))
                 .filter(~Exists(had)).count())
    return {"submitted": counts["submitted"], "skipped": counts["skipped"], "remaining": remaining,
            "active_seconds": round(counts["active_seconds"] or 0.0, 1)}


def progress_per_annotator(project: Project) -> list[dict[str, Any]]:
    """Per member: submitted and skipped counts, live leases, total and median-free mean active time, paused."""
    members = Membership.objects.filter(project=project).select_related("user").order_by("user__username")
    rows = {
        row["annotator"]: row
        for row in Assignment.objects.filter(project=project).values("annotator").annotate(
            submitted=Count("id", filter=Q(status=Assignment.STATUS_SUBMITTED)),
            skipped=Count("id", filter=Q(status=Assignment.STATUS_SKIPPED)),
            leased=Count("id", filter=Q(status=Assignment.STATUS_LEASED)),
            expired=Count("id", filter=Q(status=Assignment.STATUS_EXPIRED)),
            active_seconds=Sum("active_seconds", filter=Q(status=Assignment.STATUS_SUBMITTED)),
        )
    }
    progress = []
    for member in members:
        row = rows.get(member.user_id, {})
        submitted = row.get("submitted", 0)
        active = row.get("active_seconds") or 0.0
        progress.append({
            "username": member.user.username, "role": member.role, "paused": member.paused,
            "submitted": submitted, "skipped": row.get("skipped", 0), "leased": row.get("leased", 0),
            "expired": row.get("expired", 0), "active_seconds": round(active, 1),
            "mean_seconds": round(active / submitted, 1) if submitted else None,
        })
    return progress


def project_annotations(project: Project) -> QuerySet[Annotation]:
    """The project's annotations, newest first, with their item and annotator (for listing and exports)."""
    return (Annotation.objects.filter(project=project).select_related("item", "annotator")
            .defer("signature").order_by("-id"))


def latest_submissions(project: Project, limit: int = 20) -> list[Annotation]:
    return list(project_annotations(project)[:limit])


def project_items(project: Project) -> QuerySet[Item]:
    return Item.objects.filter(project=project).order_by("id")
