"""The audit log: who submitted, cancelled or deleted what (issue 8, item 11).

An event names its target by type, id and label rather than by a foreign key, so the record outlives the job,
schedule or index it is about (a deleted job's history is still readable).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # The actor's username when it acted, kept if the account is deleted; empty for the system (beat, reaper).
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32)
    target_type = models.CharField(max_length=64)
    target_id = models.CharField(max_length=64)
    target_label = models.CharField(max_length=200, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["at", "pk"]
        indexes = [models.Index(fields=["target_type", "target_id", "at"], name="core_audit_target")]

    def __str__(self) -> str:
        return f"{self.actor_name or 'system'} {self.action} {self.target_type} {self.target_id}"
