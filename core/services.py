"""Writes of the core app: recording audit events."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models

from core.models import AuditEvent


def audit_target_type(target: models.Model) -> str:
    """The name an audit event gives a model instance's type, e.g. "curation.job"."""
    return target._meta.label_lower


def audit_record(
    actor: AbstractBaseUser | AnonymousUser | None,
    action: str,
    target: models.Model,
    *,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` (None or anonymous: the system) did `action` ("submit", "cancel", "delete", ...) to
    `target`. Call it inside the transaction of the change it records, so both happen or neither. Every call adds
    one event (not idempotent: a re-run records again).
    """
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=user,
        actor_name=user.get_username() if user is not None else "",
        action=action,
        target_type=audit_target_type(target),
        target_id=str(target.pk),
        target_label=str(target)[:200],
        detail=detail or {},
    )
