"""API representation of the audit log (core.models.AuditEvent)."""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

from core.models import AuditEvent
from core.selectors import audit_for


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = ["at", "actor", "action", "detail"]
        read_only_fields = fields

    actor = serializers.CharField(source="actor_name", help_text="username; empty for the system (e.g. beat)")


def audit_events(target: models.Model) -> list[dict[str, Any]]:
    """The serialized audit events of `target`, oldest first (an API's `audit` list)."""
    return list(AuditEventSerializer(audit_for(target), many=True).data)
