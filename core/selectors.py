"""Reads of the core app: the audit trail of an object."""

from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from core.models import AuditEvent
from core.services import audit_target_type


def audit_for(target: models.Model) -> QuerySet[AuditEvent]:
    """The audit events about `target`, oldest first (those recorded before it was deleted included)."""
    return AuditEvent.objects.filter(target_type=audit_target_type(target), target_id=str(target.pk)).order_by(
        "at", "pk"
    )
