"""Audits of a finished job's steps by people, and recipe versions saved from what-if thresholds."""

from __future__ import annotations

from django.conf import settings
from django.db import models

DEFAULT_LABELS = ["good", "junk", "wrong language", "duplicate", "contains personal data"]
# The labels that say a document is worth keeping; every other label says a removal was right.
GOOD_LABELS = ["good"]


class FilterAudit(models.Model):
    """A sample of what some steps of a job kept and removed, sent to a label project for people to judge.

    `steps` lists the audited recipe positions; `strata` the (step, decision, language, reason) cells with their
    population and sample sizes; the sampled documents are AuditSample rows. `results` caches the last computed
    figures (precision per step and reason, agreement) with `results_at`, and `results_labels` the state of the
    labels they were computed from (see `loop.services.audits.audit_results_current`).
    """

    job = models.ForeignKey("curation.Job", on_delete=models.CASCADE, related_name="audits")
    project = models.OneToOneField("annotation.Project", on_delete=models.PROTECT, related_name="filter_audit")
    steps = models.JSONField(help_text="audited recipe positions")
    seed = models.BigIntegerField()
    half_width = models.FloatField(help_text="target half-width of the 95 % interval per step and decision")
    labels = models.JSONField(default=list)
    good_labels = models.JSONField(default=list, help_text="labels meaning: worth keeping")
    strata = models.JSONField(default=list)
    results = models.JSONField(default=dict, blank=True)
    results_at = models.DateTimeField(null=True, blank=True)
    results_labels = models.JSONField(default=list, blank=True, help_text="the labels' state the results are of")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"audit {self.pk} of job {self.job_id}"


class AuditSample(models.Model):
    """One sampled document of an audit: which step decided what about it, and the item people label."""

    audit = models.ForeignKey(FilterAudit, on_delete=models.CASCADE, related_name="samples")
    item = models.ForeignKey("annotation.Item", on_delete=models.CASCADE, related_name="+")
    doc_id = models.CharField(max_length=200)
    url = models.TextField(blank=True)
    position = models.IntegerField(help_text="recipe position of the audited step")
    step = models.CharField(max_length=100)
    decision = models.CharField(max_length=8, choices=[("kept", "kept"), ("removed", "removed")])
    lang = models.CharField(max_length=20, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["audit", "position", "doc_id"], name="loop_sample_once_per_step"),
        ]

    def __str__(self) -> str:
        return f"{self.doc_id} ({self.decision} by {self.step})"


class RecipeVersion(models.Model):
    """A recipe saved from a what-if: the job's recipe with one step's parameters changed."""

    job = models.ForeignKey("curation.Job", on_delete=models.CASCADE, related_name="recipe_versions")
    version = models.PositiveIntegerField()
    recipe_name = models.CharField(max_length=200)
    recipe_yaml = models.TextField()
    position = models.IntegerField()
    step = models.CharField(max_length=100)
    changes = models.JSONField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    applied_output = models.CharField(max_length=1000, blank=True)
    applied_stats = models.JSONField(default=dict, blank=True)
    applied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "version"]
        constraints = [models.UniqueConstraint(fields=["job", "version"], name="loop_recipe_version_once")]

    def __str__(self) -> str:
        return f"{self.recipe_name} v{self.version} (job {self.job_id})"
