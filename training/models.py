"""Training runs, their metrics per logging step, and pipelines that chain runs (SFT -> reward -> PPO, SFT -> DPO).

A run's model comes from a folder (`base_model`) or from the output of another run (`parent`); a PPO run also
names a reward run. The export it trains on is a folder, identified by the content hash of its card, so a run
always says which exact data it saw. Leases and heartbeats make a dead worker's run resume elsewhere from its
last checkpoint (training/services/runs.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Pipeline(models.Model):
    """A chain of runs whose stages start when the previous one succeeds."""

    class Kind(models.TextChoices):
        RLHF = "rlhf", _("SFT → reward model → PPO")
        DPO = "dpo", _("SFT → DPO")

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="training_pipelines")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"pipeline {self.pk} ({self.kind})"


class Run(models.Model):
    class Kind(models.TextChoices):
        SFT = "sft", _("supervised fine-tuning")
        REWARD = "reward", _("reward model")
        DPO = "dpo", _("DPO")
        PPO = "ppo", _("PPO")
        RLOO = "rloo", _("RLOO")

    class Status(models.TextChoices):
        WAITING = "waiting", _("waiting for an earlier stage")
        PENDING = "pending", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        CANCELLED = "cancelled", _("cancelled")

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    kind = models.CharField(max_length=16, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    dataset_path = models.CharField(max_length=1000, help_text="the export folder the run trains on")
    content_hash = models.CharField(max_length=64, blank=True, help_text="the export's content hash (card.json)")
    base_model = models.CharField(max_length=1000, blank=True, help_text="a model folder, when there is no parent")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
                               help_text="the run whose output is this run's model (and PPO's reference)")
    reward_run = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="reward_for", help_text="PPO/RLOO: the reward model's run")
    hyperparameters = models.JSONField(default=dict, blank=True)
    output_path = models.CharField(max_length=1000, help_text="where the model and its checkpoints are written")
    pipeline = models.ForeignKey(Pipeline, null=True, blank=True, on_delete=models.CASCADE, related_name="runs")
    stage = models.PositiveSmallIntegerField(default=0)
    global_step = models.PositiveIntegerField(default=0)
    max_steps = models.PositiveIntegerField(default=0)
    resumed_from = models.CharField(max_length=1000, blank=True, help_text="the checkpoint the last attempt resumed")
    cancel_requested = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    lease_owner = models.CharField(max_length=255, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="training_runs")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(base_model="") | Q(parent__isnull=False),
                                   name="training_run_has_model"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.kind})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def progress(self) -> float:
        """Share of optimizer steps done, 0..1."""
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        return min(1.0, self.global_step / self.max_steps) if self.max_steps else 0.0


class RunMetric(models.Model):
    """One logging step of a run. The named columns are what the charts draw; `values` keeps everything trl logged.

    A resumed run logs again the steps after its checkpoint; the row of a step is then replaced, not duplicated.
    """

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="metrics")
    step = models.PositiveIntegerField()
    loss = models.FloatField(null=True, blank=True)
    learning_rate = models.FloatField(null=True, blank=True)
    grad_norm = models.FloatField(null=True, blank=True)
    reward_accuracy = models.FloatField(null=True, blank=True)
    reward_margin = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    kl = models.FloatField(null=True, blank=True)
    value_loss = models.FloatField(null=True, blank=True)
    entropy = models.FloatField(null=True, blank=True)
    values = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    CHARTED = ("loss", "learning_rate", "grad_norm", "reward_accuracy", "reward_margin", "score", "kl",
               "value_loss", "entropy")

    class Meta:
        ordering = ["run", "step"]
        constraints = [models.UniqueConstraint(fields=["run", "step"], name="training_metric_run_step_unique")]

    def __str__(self) -> str:
        return f"run {self.run_id} step {self.step}"
