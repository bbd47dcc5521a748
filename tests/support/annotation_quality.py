"""Building annotation data for quality-control tests straight through the ORM (no claim path, no checks).

`annotate` writes what a submit writes (a submitted assignment, its annotation, the item's counters), so the
quality services see exactly what they would see in production.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from annotation.models import Annotation, Assignment, Item, Membership, Project


def make_users(n: int, prefix: str, project: Project | None = None, role: str = "annotator") -> list[Any]:
    """`n` users (unusable passwords: hashing is slow and these never log in), members of `project` if given."""
    User = get_user_model()
    users = [User.objects.create(username=f"{prefix}{i}", password="!") for i in range(n)]
    if project is not None:
        Membership.objects.bulk_create([Membership(project=project, user=user, role=role) for user in users])
    return users


def make_project(kind: str, **fields: Any) -> Project:
    defaults: dict[str, Any] = {"name": f"QC {kind}", "kind": kind, "overlap": 3, "max_overlap": 3}
    if kind == "likert":
        defaults["criteria"] = ["helpful", "honest"]
    if kind == "label":
        defaults["labels"] = ["good", "bad", "spam"]
    defaults.update(fields)
    return Project.objects.create(**defaults)


def make_item(project: Project, external_id: str, responses: list[dict[str, Any]] | None = None, **fields: Any) -> Item:
    if responses is None:
        responses = {
            "likert": [{"id": "r1", "text": "An answer."}],
            "pairwise": [{"id": "r1", "text": "Short."}, {"id": "r2", "text": "A much longer answer."}],
            "ranking": [{"id": f"r{i}", "text": f"Answer {i}"} for i in range(1, 4)],
        }.get(project.kind, [])
    fields.setdefault("target_overlap", project.overlap)
    return Item.objects.create(project=project, external_id=external_id, prompt=f"Prompt {external_id}",
                               responses=responses, **fields)


def annotate(
    item: Item,
    user: Any,
    payload: dict[str, Any],
    display_order: list[str] | None = None,
    seconds: float = 30.0,
    when: datetime | None = None,
) -> Annotation:
    """Record a submitted annotation of `item` by `user` as a submit would."""
    now = when or timezone.now()
    order = display_order if display_order is not None else [str(r["id"]) for r in item.responses]
    item.refresh_from_db(fields=["assigned_count", "submitted_count", "target_overlap"])
    assignment = Assignment.objects.create(
        item=item, project=item.project, annotator=user, status=Assignment.STATUS_SUBMITTED,
        slot=item.assigned_count, leased_at=now, expires_at=now + timedelta(minutes=10), display_order=order,
        active_seconds=seconds, submitted_at=now,
    )
    Item.objects.filter(pk=item.pk).update(assigned_count=item.assigned_count + 1,
                                           submitted_count=item.submitted_count + 1)
    annotation = Annotation.objects.create(
        assignment=assignment, item=item, project=item.project, annotator=user, payload=payload,
        active_seconds=seconds, display_order=order,
    )
    if when is not None:
        Annotation.objects.filter(pk=annotation.pk).update(created_at=when)
    return annotation
