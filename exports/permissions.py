"""Who may export: trainers (they train on exports), managers (they own the annotations) and admins."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from accounts.roles import can_manage_annotation, can_train


def can_export(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Whether the user may create, list and download exports."""
    return can_train(user) or can_manage_annotation(user)
