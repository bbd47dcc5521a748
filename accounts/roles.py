"""Roles are Django groups; these are the only places that decide who may do what.

Admins are superusers. Data engineers schedule and inspect curation jobs. Managers create annotation projects,
add annotators and follow progress and quality. Reviewers accept, edit or reject annotations. Annotators work on
the annotation projects they are members of and reach no curation page or API. Trainers export datasets and run
training.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

DATA_ENGINEER = "data_engineer"
MANAGER = "manager"
REVIEWER = "reviewer"
ANNOTATOR = "annotator"
TRAINER = "trainer"
ROLES = (DATA_ENGINEER, MANAGER, REVIEWER, ANNOTATOR, TRAINER)


# Where a user object keeps its role names once read, as Django's ModelBackend keeps `_perm_cache`: a request's
# user is loaded once per request, and a request may ask for several roles (an API token's check alone asks up to
# five), each of which was a query.
_ROLES_CACHE = "_role_names"


def user_roles(user: AbstractBaseUser | AnonymousUser) -> frozenset[str]:
    """The names of the user's groups, read once per user object."""
    cached: frozenset[str] | None = getattr(user, _ROLES_CACHE, None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))  # type: ignore[union-attr]
        setattr(user, _ROLES_CACHE, cached)
    return cached


def user_roles_forget(sender: Any, instance: Any, action: str, reverse: bool, **kwargs: Any) -> None:
    """Drop a user object's cached role names when its groups change through it (`user.groups.add/set/...`;
    connected to `m2m_changed` in AccountsConfig.ready). Objects loaded after a change read the new roles anyway."""
    if not reverse and action.startswith("post_") and hasattr(instance, _ROLES_CACHE):
        delattr(instance, _ROLES_CACHE)


def user_has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:  # type: ignore[union-attr]
        return True
    return role in user_roles(user)


def can_curate(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may see and run curation jobs (admins and data engineers)."""
    return user_has_role(user, DATA_ENGINEER)


def role_groups() -> dict[str, Group]:
    """Create the role groups if missing and return them by name."""
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}


def can_manage_annotation(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may create annotation projects and see their progress and quality (admins and managers)."""
    return user_has_role(user, MANAGER)


def can_review(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may accept, edit or reject annotations (admins, managers and reviewers)."""
    return user_has_role(user, REVIEWER) or user_has_role(user, MANAGER)


def can_train(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may export datasets and run training (admins and trainers)."""
    return user_has_role(user, TRAINER)
