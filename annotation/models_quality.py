"""Quality control's records (issue 10), beside the annotation models they read.

- `QualitySettings`: a project's QC knobs that the base project does not carry (tolerances, flag thresholds,
  trust weighting); created with defaults on first use.
- `Review`: what a reviewer did to an annotation (accept, edit, reject), kept next to the original: the
  annotation's payload is never overwritten; an edit's payload is stored here and the annotation's status says
  which applies.
- `ItemConsensus`: one answer per item and its agreement, recomputed by `project_quality_refresh`; exports read it.
- `AnnotatorQuality`: per project and annotator, the figures behind the flags, gold accuracy, agreement and trust.
- `QualitySnapshot`: the project-wide figures of the last refresh (agreement, bias, leaderboard), so the
  dashboard and the API answer from one row instead of recomputing over every annotation.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class QualitySettings(models.Model):
    project = models.OneToOneField("annotation.Project", on_delete=models.CASCADE, related_name="quality_settings")
    likert_tolerance = models.PositiveSmallIntegerField(
        default=0, help_text="Likert points by which an answer may differ and still match (gold, agreement)")
    ranking_min_tau = models.FloatField(default=0.6, help_text="Kendall's tau to the gold order that counts correct")
    min_active_seconds = models.FloatField(default=5.0, help_text="a median active time below this flags too fast")
    min_gold_accuracy = models.FloatField(default=0.7, help_text="gold accuracy confidently below this is flagged")
    min_tasks = models.PositiveIntegerField(default=10, help_text="tasks needed before any flag is raised")
    weight_by_trust = models.BooleanField(default=False, help_text="weigh annotators by trust in the consensus")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(min_gold_accuracy__gte=0) & Q(min_gold_accuracy__lte=1),
                                   name="quality_min_gold_accuracy_in_unit"),
            models.CheckConstraint(condition=Q(ranking_min_tau__gte=-1) & Q(ranking_min_tau__lte=1),
                                   name="quality_ranking_min_tau_in_range"),
            models.CheckConstraint(condition=Q(min_active_seconds__gte=0), name="quality_min_seconds_positive"),
        ]

    def __str__(self) -> str:
        return f"quality settings of project {self.project_id}"


class Review(models.Model):
    ACTION_ACCEPT = "accept"
    ACTION_EDIT = "edit"
    ACTION_REJECT = "reject"
    ACTIONS = (ACTION_ACCEPT, ACTION_EDIT, ACTION_REJECT)

    annotation = models.ForeignKey("annotation.Annotation", on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=8, choices=[(a, a) for a in ACTIONS])
    payload = models.JSONField(null=True, blank=True, help_text="the reviewer's corrected payload (edit only)")
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(action__in=("accept", "edit", "reject")), name="review_action_known"),
            models.CheckConstraint(condition=~Q(action="edit") | Q(payload__isnull=False),
                                   name="review_edit_has_payload"),
        ]
        indexes = [models.Index(fields=["annotation", "-id"], name="review_annotation_latest")]

    def __str__(self) -> str:
        return f"{self.action} of annotation {self.annotation_id}"


class ItemConsensus(models.Model):
    ROUTE_MORE_ANNOTATORS = "more_annotators"
    ROUTE_REVIEW = "review"

    item = models.OneToOneField("annotation.Item", on_delete=models.CASCADE, related_name="consensus")
    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    value = models.JSONField(help_text="median/spread, majority or Bradley-Terry order, by the project's kind")
    agreement = models.FloatField(null=True, blank=True, help_text="mean pairwise agreement of the item's annotators")
    n_annotations = models.PositiveIntegerField()
    weighted = models.BooleanField(default=False, help_text="computed with trust weights")
    route = models.CharField(max_length=16, blank=True, help_text="what low agreement called for, if anything")
    needs_review = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "item"], name="consensus_project_item"),
            models.Index(fields=["project"], condition=Q(needs_review=True), name="consensus_needs_review"),
        ]

    def __str__(self) -> str:
        return f"consensus of item {self.item_id}"


class AnnotatorQuality(models.Model):
    project = models.ForeignKey("annotation.Project", on_delete=models.CASCADE, related_name="+")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    n_tasks = models.PositiveIntegerField(default=0)
    active_seconds = models.FloatField(default=0.0)
    median_active_seconds = models.FloatField(null=True, blank=True)
    gold_n = models.PositiveIntegerField(default=0)
    gold_correct = models.PositiveIntegerField(default=0)
    gold_accuracy = models.FloatField(null=True, blank=True)
    gold_wilson_low = models.FloatField(null=True, blank=True)
    gold_wilson_high = models.FloatField(null=True, blank=True)
    agreement_rate = models.FloatField(null=True, blank=True)
    agreement_alpha = models.FloatField(null=True, blank=True, help_text="alpha (tau for rankings) vs the others")
    agreement_items = models.PositiveIntegerField(default=0)
    trust = models.FloatField(null=True, blank=True)
    flags = models.JSONField(default=list, blank=True)
    figures = models.JSONField(default=dict, blank=True, help_text="everything the flags and trust rest on")
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "annotator"], name="unique_annotator_quality")]

    def __str__(self) -> str:
        return f"quality of user {self.annotator_id} in project {self.project_id}"


class QualitySnapshot(models.Model):
    project = models.OneToOneField("annotation.Project", on_delete=models.CASCADE, related_name="quality_snapshot")
    data = models.JSONField(default=dict)
    annotations_count = models.PositiveIntegerField(default=0)
    last_annotation_id = models.BigIntegerField(default=0, help_text="newest annotation the figures include")
    duration_seconds = models.FloatField(default=0.0)
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"quality snapshot of project {self.project_id}"
