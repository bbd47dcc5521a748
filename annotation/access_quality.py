"""Who may see quality figures and review annotations. Built on the guards of `annotation.access`.

Quality figures (dashboard, leaderboard, settings, pausing) are for managers: a member who is not one gets 403,
anyone else 404. Reviewing needs the reviewer role (`accounts.roles.can_review`: reviewers and managers) and, for
a reviewer, the project's reviewer membership: an annotator of the project gets 403.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from accounts.roles import can_manage_annotation, can_review
from annotation.access import access_project_by_id, access_project_to_manage
from annotation.models import Annotation, Membership, Project
from core.errors import NotFound, PermissionDenied

User: TypeAlias = AbstractBaseUser | AnonymousUser


def access_project_quality(user: User, project_id: int) -> Project:
    """The project, if the user may see and steer its quality control (managers and admins)."""
    return access_project_to_manage(user, project_id)


def access_project_to_review(user: User, project_id: int) -> Project:
    """The project, if the user reviews it: a manager, or a reviewer who is the project's reviewer member."""
    project = access_project_by_id(user, project_id)
    if can_manage_annotation(user):
        return project
    if not can_review(user):
        raise PermissionDenied(_("only reviewers can do this"))
    if not Membership.objects.filter(project=project, user=user, role=Membership.ROLE_REVIEWER).exists():
        raise PermissionDenied(_("only the project's reviewers can do this"))
    return project


def access_annotation_to_review(user: User, annotation_id: int) -> Annotation:
    """The annotation, if the user reviews its project; 404 when the user cannot see the project at all."""
    if not user.is_authenticated:
        raise PermissionDenied(_("log in first"))
    annotation = (Annotation.objects.select_related("project", "item", "annotator")
                  .filter(pk=annotation_id).first())
    if annotation is None:
        raise NotFound(_("no such annotation"))
    try:
        access_project_to_review(user, annotation.project_id)
    except NotFound:
        raise NotFound(_("no such annotation")) from None
    return annotation
