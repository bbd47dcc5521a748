"""The control plane of curation: jobs, their units of work (shards of a stage), samples, workers, indexes.

Documents never live here: they are files under STORAGE_ROOT. The database holds what people and the scheduler
need: what was asked, where each shard stands, who holds its lease, and the statistics.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django_celery_beat.models import PeriodicTask


class DedupIndex(models.Model):
    """A named collection whose kept documents later jobs are deduplicated against."""

    name = models.SlugField(max_length=100, unique=True)
    root = models.CharField(max_length=1000, help_text="fsspec URL of the index files, partitioned by band")
    # Jobs on one index run their dedup decisions one after another: a job holds the index from its first
    # reduce until it has committed, so a concurrent job never misses the documents this one is about to add.
    holder = models.ForeignKey("Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.name


class Job(models.Model):
    class Status(models.TextChoices):
        PLANNING = "planning"  # a big submit: a task is expanding the inputs into shards
        PENDING = "pending"
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED)

    recipe_name = models.CharField(max_length=200)
    recipe_yaml = models.TextField(help_text="the recipe as it was when the job was submitted")
    # The parsed recipe ({"name", "description", "reader", "steps": [[name, params], ...]}), so that pages and
    # workers never parse the YAML again (parsing is the slow part of a big recipe).
    recipe_plan = models.JSONField(default=dict, blank=True)
    inputs = models.JSONField(help_text="input paths or URLs as given")
    output = models.CharField(max_length=1000, help_text="output folder (path or fsspec URL)")
    reader_options = models.JSONField(default=dict)
    dedup_index = models.ForeignKey(DedupIndex, null=True, blank=True, on_delete=models.PROTECT, related_name="jobs")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    stage = models.PositiveIntegerField(default=0, help_text="the stage now running")
    stage_count = models.PositiveIntegerField()
    shard_count = models.PositiveIntegerField(help_text="input shards (units of each map stage)")
    error = models.TextField(blank=True)
    stats = models.JSONField(default=dict, blank=True, help_text="aggregated stats.json, once completed")
    # Counters kept up to date as units finish (under the job's row lock), so lists never sum over shards.
    units_done = models.PositiveIntegerField(default=0)
    docs_read = models.PositiveBigIntegerField(default=0, help_text="documents read from the inputs")
    docs_kept = models.PositiveBigIntegerField(default=0, help_text="documents the last map stage kept")
    docs_removed = models.PositiveBigIntegerField(default=0, help_text="documents removed by any step")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    schedule = models.ForeignKey("JobSchedule", null=True, blank=True, on_delete=models.SET_NULL, related_name="jobs")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # When the finish unit wrote its commit marker to the dedup index: from then on a cancel comes too late.
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # Two unfinished jobs never share an output folder (their work files and stats would mix).
            models.UniqueConstraint(
                fields=["output"],
                condition=~Q(status__in=["completed", "failed", "cancelled"]) & ~Q(output=""),
                name="unique_output_of_unfinished_job",
            ),
        ]

    def __str__(self) -> str:
        return f"job {self.pk} ({self.recipe_name})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class Shard(models.Model):
    """One unit of work: a shard of a map stage, or the single unit of a reduce or finish stage.

    A worker holds a lease on a running shard and renews it with heartbeats; a shard whose lease expired
    (its worker died) goes back to pending and is sent again.
    """

    class Kind(models.TextChoices):
        MAP = "map"  # read an input split (or the previous map stage's documents) and run steps
        REDUCE = "reduce"  # a global step's decision over every shard
        FINISH = "finish"  # publish to the dedup index, write stats.json

    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"
        CANCELLED = "cancelled"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="shards")
    stage = models.PositiveIntegerField()
    index = models.IntegerField(help_text="shard index within the stage; -1 for reduce and finish units")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    input_split = models.JSONField(default=dict, blank=True, help_text="InputSplit of a first-stage map shard")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    lease_owner = models.CharField(max_length=255, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    docs_in = models.PositiveBigIntegerField(default=0)
    docs_kept = models.PositiveBigIntegerField(default=0)
    docs_removed = models.PositiveBigIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "stage", "index"]
        constraints = [models.UniqueConstraint(fields=["job", "stage", "index"], name="unique_shard_per_stage")]
        # The reaper's batches: the longest-waiting pending shards first.
        indexes = [models.Index(fields=["status", "enqueued_at"], name="shard_status_enqueued")]

    def __str__(self) -> str:
        return f"job {self.job_id} stage {self.stage} shard {self.index}"


class DocumentSample(models.Model):
    """A few kept and removed documents per shard, so engineers can browse why documents were removed."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="samples")
    shard_index = models.IntegerField()
    map_stage = models.PositiveIntegerField(default=0)
    kept = models.BooleanField()
    doc_id = models.CharField(max_length=200)
    removed_by = models.CharField(max_length=100, blank=True, db_index=True)
    reason = models.CharField(max_length=200, blank=True, db_index=True)
    url = models.CharField(max_length=2000, blank=True)
    text = models.TextField(help_text="the start of the text")
    document = models.JSONField(help_text="the record with its text cut short")

    class Meta:
        ordering = ["job", "shard_index", "id"]
        indexes = [models.Index(fields=["job", "kept", "reason"])]

    def __str__(self) -> str:
        return f"{'kept' if self.kept else 'removed'} {self.doc_id} of job {self.job_id}"


class WorkerHeartbeat(models.Model):
    """A worker process that is alive, as of `last_seen`."""

    name = models.CharField(max_length=255, unique=True)
    hostname = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    last_seen = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.name


class JobSchedule(models.Model):
    """A recipe that runs again on a schedule (django-celery-beat fires `curation.schedule_fire`)."""

    name = models.CharField(max_length=200, unique=True)
    recipe_name = models.CharField(max_length=200)
    inputs = models.JSONField()
    output = models.CharField(max_length=1000, help_text="each run writes to OUTPUT/run-<timestamp>")
    dedup_index = models.ForeignKey(DedupIndex, null=True, blank=True, on_delete=models.PROTECT)
    periodic_task = models.OneToOneField(PeriodicTask, null=True, blank=True, on_delete=models.SET_NULL)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    last_fired_at = models.DateTimeField(null=True, blank=True, help_text="when beat last fired this schedule")
    last_error = models.TextField(blank=True, help_text="why the last run could not start; empty when it could")

    def __str__(self) -> str:
        return self.name
