"""`{% load core_audit %}{% audit_trail obj %}`: the audit events of an object, for any console page."""

from __future__ import annotations

from typing import Any

from django import template
from django.db import models

from core.selectors import audit_for

register = template.Library()


@register.inclusion_tag("core/audit.html")
def audit_trail(target: models.Model, limit: int = 20) -> dict[str, Any]:
    """Render who did what to `target` (newest last), at most `limit` events (the newest ones)."""
    events = list(audit_for(target).order_by("-at", "-pk")[:limit])
    events.reverse()
    return {"events": events, "target": target}
