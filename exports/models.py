"""An export: one immutable, versioned, content-hashed dataset written to storage, and how it was made.

The row holds what people and the API need (status, progress, the card, the content hash, where the files are);
the rows of the dataset live only in the files. An export is written once: a finished export is never rewritten,
and a new request for the same name gets the next version.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from exports.formats.spec import FORMATS

# The stages of `Export.progress` set around the pipeline's own (exports/formats/pipeline.py `STAGE_READ`,
# `STAGE_WRITE`): claimed by a worker, and finished.
STAGE_STARTING = "starting"
STAGE_DONE = "done"

class Export(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        COMPLETED = "completed", _("completed")
        FAILED = "failed", _("failed")

    name = models.SlugField(max_length=100, help_text="the dataset's name; versions of one name are numbered")
    version = models.PositiveIntegerField()
    format = models.CharField(max_length=16, choices=[(f, f) for f in FORMATS])
    sources = models.JSONField(help_text='{"projects": [ids]} | {"job": id} | {"export": id}')
    spec = models.JSONField(help_text="ExportSpec.to_dict(): layout, merging, filters, split, PII, files")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    progress = models.JSONField(default=dict, blank=True, help_text='{"stage", "done", "total"}')
    content_hash = models.CharField(max_length=64, blank=True, db_index=True)
    path = models.CharField(max_length=1000, help_text="the export's folder: a path or fsspec URL")
    card = models.JSONField(default=dict, blank=True, help_text="card.json, once completed")
    error = models.TextField(blank=True)
    lease_owner = models.CharField(max_length=255, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="exports")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # The latest push to a Hugging Face Hub dataset repository (a Celery task; see exports.hub).
    class HubStatus(models.TextChoices):
        NONE = "", _("not pushed")
        PENDING = "pending", _("pushing")
        PUSHED = "pushed", _("pushed")
        FAILED = "failed", _("push failed")

    hub_status = models.CharField(max_length=16, choices=HubStatus.choices, default=HubStatus.NONE, blank=True)
    hub_repo = models.CharField(max_length=200, blank=True, help_text="owner/name of the latest push")
    hub_private = models.BooleanField(default=True)
    hub_url = models.CharField(max_length=500, blank=True)
    hub_error = models.TextField(blank=True)
    hub_requested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="export_name_version_unique"),
            models.CheckConstraint(condition=Q(version__gte=1), name="export_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version} ({self.format}, {self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.COMPLETED, self.Status.FAILED)
