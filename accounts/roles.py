"""Roles are Django groups; these are the only places that decide who may do what.

Admins are superusers. Data engineers schedule and inspect curation jobs. Managers create annotation projects,
add annotators and follow progress and quality. Reviewers accept, edit or reject annotations. Annotators work on
the annotation projects they are members of and reach no curation page or API. Trainers export datasets and run
training.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, Group

DATA_ENGINEER = "data_engineer"
MANAGER = "manager"
REVIEWER = "reviewer"
ANNOTATOR = "annotator"
TRAINER = "trainer"
ROLES = (DATA_ENGINEER, MANAGER, REVIEWER, ANNOTATOR, TRAINER)


def user_has_role(user: AbstractBaseUser | AnonymousUser, role: str) -> bool:
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_superuser:  # type: ignore[union-attr]
        return True
    return user.groups.filter(name=role).exists()  # type: ignore[union-attr]


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
