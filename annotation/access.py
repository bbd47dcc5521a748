"""Who may reach which annotation object. Every API endpoint and page goes through one of these guards.

Consistent answers: an object the user may not see at all is 404 (its existence is not revealed); an object the
user sees (a member's project) but an action they may not take on it (a manager's action) is 403.
Managers and admins see every project; annotators and reviewers only the projects they are members of; other
roles (data engineers, trainers) none.
"""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils.translation import gettext as _

from accounts.roles import can_manage_annotation
from annotation.models import Assignment, Membership, Project
from core.errors import NotFound, PermissionDenied

User: TypeAlias = AbstractBaseUser | AnonymousUser


def access_project_by_id(user: User, project_id: int) -> Project:
    """The project, if the user is a manager or one of its members; 404 otherwise."""
    if not user.is_authenticated:
        raise PermissionDenied(_("log in first"))
    project = Project.objects.filter(pk=project_id).first()
    if project is None:
        raise NotFound(_("no such project"))
    if can_manage_annotation(user):
        return project
    if project.memberships.filter(user=user).exists():
        return project
    raise NotFound(_("no such project"))


def access_membership_by_project_id(user: User, project_id: int) -> Membership:
    """The user's membership of the project, with the project, in one query (the claim path). A project the user
    sees without being a member (a manager's) is 403: only members get tasks; any other project is 404."""
    if not user.is_authenticated:
        raise PermissionDenied(_("log in first"))
    membership = Membership.objects.select_related("project").filter(project_id=project_id, user=user).first()
    if membership is not None:
        return membership
    access_project_by_id(user, project_id)
    raise PermissionDenied(_("only the project's members get tasks"))


def access_project_to_manage(user: User, project_id: int) -> Project:
    """The project, if the user may manage it; 404 when they cannot see it, 403 when they see it as a member."""
    project = access_project_by_id(user, project_id)
    if not can_manage_annotation(user):
        raise PermissionDenied(_("only managers can do this"))
    return project


def access_projects_to_manage(user: User) -> None:
    """Raise 403 unless the user may create and manage projects."""
    if not can_manage_annotation(user):
        raise PermissionDenied(_("only managers can do this"))


def access_assignment_by_id(user: User, assignment_id: int) -> Assignment:
    """The assignment, if it is the user's own; 404 otherwise (another person's lease is not revealed)."""
    if not user.is_authenticated:
        raise PermissionDenied(_("log in first"))
    assignment = (Assignment.objects.select_related("project", "item")
                  .filter(pk=assignment_id, annotator=user).first())
    if assignment is None:
        raise NotFound(_("no such assignment"))
    return assignment
