"""Reads that only the annotation pages need, beside the shared ones of `annotation.selectors`.

Read-only (selectors in all but name: kept in their own module so that the pages' helper and the backend's could
be written at the same time). Each is a fixed number of aggregate queries whatever the number of items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Sum
from django.utils.translation import gettext as _

from annotation.models import Annotation, Assignment, Invite, Item, Membership, Project
from annotation.selectors import annotator_progress
from core.errors import NotFound
from curation.models import Job

# Characters of an item's prompt shown in the manager's item list.
PREVIEW_CHARS = 240


@dataclass(frozen=True)
class ProjectCard:
    """A project on the annotator's home page with their own progress in it."""

    project: Project
    submitted: int
    remaining: int
    paused: bool

    @property
    def total(self) -> int:
        return self.submitted + self.remaining


def annotator_project_cards(user: AbstractBaseUser) -> list[ProjectCard]:
    """The projects the person is a member of (whatever their global role), newest first, with their progress."""
    cards = []
    for membership in Membership.objects.filter(user=user).select_related("project").order_by("-project_id"):
        progress = annotator_progress(membership.project, user)
        cards.append(ProjectCard(project=membership.project, submitted=progress["submitted"],
                                 remaining=progress["remaining"], paused=membership.paused))
    return cards


def is_member(user: AbstractBaseUser, project: Project) -> bool:
    """Whether the person is a member of the project (only members get tasks, managers included)."""
    return Membership.objects.filter(project=project, user=user).exists()


def leased_count(user: AbstractBaseUser, project: Project) -> int:
    """How many live leases the person holds in the project (the task on their screen; at most one)."""
    return Assignment.objects.filter(project=project, annotator=user, status=Assignment.STATUS_LEASED).count()


@dataclass(frozen=True)
class ProjectRow:
    """A project in the managers' list: items, annotations wanted and submitted, members."""

    project: Project
    items: int
    wanted: int
    submitted: int
    annotators: int


def project_rows(projects: list[Project]) -> list[ProjectRow]:
    """Rows of the project list for one page of projects (two queries whatever the page size)."""
    ids = [p.pk for p in projects]
    members = dict(
        Membership.objects.filter(project_id__in=ids).values("project_id").annotate(n=Count("id"))
        .values_list("project_id", "n")
    )
    items = {
        row["project_id"]: row
        for row in Item.objects.filter(project_id__in=ids).values("project_id").annotate(
            n=Count("id"), wanted=Sum("target_overlap"), submitted=Sum("submitted_count"))
    }
    rows = []
    for project in projects:
        row = items.get(project.pk, {})
        rows.append(ProjectRow(project=project, items=row.get("n", 0), wanted=row.get("wanted") or 0,
                               submitted=row.get("submitted") or 0, annotators=members.get(project.pk, 0)))
    return rows


def payload_text(annotation: Annotation) -> str:
    """An annotation's payload as indented JSON, for showing as text."""
    return json.dumps(annotation.payload, ensure_ascii=False, indent=1)


def item_preview(item: Item) -> str:
    """The start of an item's prompt, or of its last message, as plain text for the item list."""
    text: str = item.prompt or ""
    messages: Any = item.messages
    if not text and isinstance(messages, list) and messages:
        last = messages[-1]
        text = str(last.get("content", "")) if isinstance(last, dict) else str(last)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "…"


def job_by_id(job_id: int) -> Job:
    """The curation job whose documents a manager turns into items (managers name jobs by id), or NotFound."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("there is no curation job %(job)s") % {"job": job_id}, field="job")
    return job


def invite_by_token(token: str) -> Invite:
    """The invite a link names, or NotFound (its validity is checked when it is accepted)."""
    invite = Invite.objects.select_related("project").filter(token=token).first()
    if invite is None:
        raise NotFound(_("this invite link is not valid"))
    return invite
