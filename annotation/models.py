"""Annotation: projects, their guidelines and members, items, leases on items (assignments) and annotations.

Overlap is enforced by the database, not by application counters alone:
- `unique (item, annotator)`: never the same item twice to one person, whatever happens;
- a partial unique index on `(item, slot)` over live assignments (leased or submitted) with `slot >= 0`, where the
  claim takes a slot below the item's `target_overlap` while it holds the item's row lock: no two live assignments
  of one item share a slot, so at most `target_overlap` are live;
- `Item.assigned_count` (live assignments, maintained under the same row lock) is checked `<= target_overlap`, so a
  claim that would exceed the overlap fails in the database even if the slot logic were wrong.
The concurrency tests in tests/annotation/services/test_assignments.py claim from many threads at once and check
both properties from the database.

Quality control (issue 10) reads and extends these: `Item.is_gold` / `expected`, `Item.target_overlap` raised up to
`Project.max_overlap`, `Membership.paused`, `Annotation.status`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q

_KINDS = ("instruction", "response", "likert", "pairwise", "ranking", "label")


class Project(models.Model):
    KIND_INSTRUCTION = "instruction"
    KIND_RESPONSE = "response"
    KIND_LIKERT = "likert"
    KIND_PAIRWISE = "pairwise"
    KIND_RANKING = "ranking"
    KIND_LABEL = "label"
    KINDS = _KINDS
    KIND_CHOICES = [(k, k) for k in KINDS]
    # Kinds whose annotators write text: the writing checks (duplicates, PII, length, language) apply to them.
    WRITING_KINDS = (KIND_INSTRUCTION, KIND_RESPONSE)

    FORMAT_PLAIN = "plain"
    FORMAT_FEW_SHOT = "few_shot"
    FORMAT_CHAIN_OF_THOUGHT = "chain_of_thought"
    FORMAT_MULTI_TURN = "multi_turn"
    FORMATS = (FORMAT_PLAIN, FORMAT_FEW_SHOT, FORMAT_CHAIN_OF_THOUGHT, FORMAT_MULTI_TURN)

    LANGUAGES = ("en", "zh")
    PII_BLOCK = "block"
    PII_WARN = "warn"
    PII_OFF = "off"
    PII_POLICIES = (PII_BLOCK, PII_WARN, PII_OFF)

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    overlap = models.PositiveSmallIntegerField(default=1, help_text="how many different annotators see each item")
    scale = models.PositiveSmallIntegerField(default=5, choices=[(5, "5"), (7, "7")], help_text="Likert points")
    criteria = models.JSONField(default=list, blank=True, help_text="Likert criteria, e.g. helpfulness")
    labels = models.JSONField(default=list, blank=True, help_text="the labels of a label project")
    multi_label = models.BooleanField(default=False)
    instruction_format = models.CharField(max_length=20, default=FORMAT_PLAIN,
                                          choices=[(f, f) for f in FORMATS])
    categories = models.JSONField(default=list, blank=True, help_text="task categories of an instruction project")
    language = models.CharField(max_length=8, default="en", choices=[(lang, lang) for lang in LANGUAGES])
    system_prompt = models.TextField(blank=True)
    lease_seconds = models.PositiveIntegerField(default=600, help_text="a lease without heartbeat expires after this")
    min_length = models.PositiveIntegerField(default=0, help_text="minimum characters of written text")
    pii_policy = models.CharField(max_length=8, default=PII_WARN, choices=[(p, p) for p in PII_POLICIES])
    duplicate_threshold = models.FloatField(default=0.7, help_text="estimated Jaccard at which a text is a duplicate")
    break_after_minutes = models.PositiveIntegerField(default=60, help_text="0: no break reminder")
    round_size = models.PositiveSmallIntegerField(default=5, help_text="ranking: responses per screen")
    gold_rate = models.FloatField(default=0.0, help_text="QC: share of gold items served")
    agreement_threshold = models.FloatField(null=True, blank=True, help_text="QC: agreement below which to route more")
    max_overlap = models.PositiveSmallIntegerField(default=1, help_text="QC: the most annotators an item may get")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    source_job = models.ForeignKey("curation.Job", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(overlap__gte=1), name="project_overlap_positive"),
            models.CheckConstraint(condition=Q(kind__in=_KINDS), name="project_kind_known"),
            models.CheckConstraint(condition=Q(round_size__gte=2), name="project_round_size_at_least_two"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"

    @property
    def current_guideline(self) -> Guideline | None:
        """The latest published guideline version, or None before the first."""
        return self.guidelines.order_by("-version").first()


class Guideline(models.Model):
    """One published version of a project's guidelines (Markdown); annotations record the version they followed."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="guidelines")
    version = models.PositiveIntegerField()
    text = models.TextField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["project", "-version"]
        constraints = [models.UniqueConstraint(fields=["project", "version"], name="unique_guideline_version")]

    def __str__(self) -> str:
        return f"{self.project_id} v{self.version}"


class Membership(models.Model):
    ROLE_ANNOTATOR = "annotator"
    ROLE_REVIEWER = "reviewer"
    ROLES = (ROLE_ANNOTATOR, ROLE_REVIEWER)

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotation_memberships")
    role = models.CharField(max_length=16, default=ROLE_ANNOTATOR, choices=[(r, r) for r in ROLES])
    paused = models.BooleanField(default=False, help_text="a paused member gets no new items (QC sets it)")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="unique_project_member")]
        indexes = [models.Index(fields=["user", "project"], name="membership_user_project")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.project_id} ({self.role})"


class Invite(models.Model):
    """A link that makes whoever opens it (logged in) an annotator of the project, until it expires or is used up."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="invites")
    token = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    uses = models.PositiveIntegerField(default=0)
    max_uses = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(uses__lte=F("max_uses")), name="invite_uses_within_max")]

    def __str__(self) -> str:
        return f"invite to {self.project_id} ({self.uses}/{self.max_uses})"


class Item(models.Model):
    """One task: a prompt or conversation, the responses to judge (if any) and metadata, as imported."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=200, help_text="the id it was imported with (generated when absent)")
    prompt = models.TextField(blank=True)
    messages = models.JSONField(null=True, blank=True, help_text="earlier turns: [{role, content}]")
    responses = models.JSONField(default=list, blank=True, help_text="[{id, text, model?}]")
    metadata = models.JSONField(default=dict, blank=True)
    priority = models.IntegerField(default=0, help_text="higher first")
    is_gold = models.BooleanField(default=False)
    expected = models.JSONField(null=True, blank=True, help_text="the gold answer: a payload of the project's kind")
    target_overlap = models.PositiveSmallIntegerField(help_text="annotators wanted; starts at the project's overlap")
    # Live assignments (leased or submitted), changed only under this row's lock by claim, skip and reap.
    assigned_count = models.PositiveSmallIntegerField(default=0)
    submitted_count = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="unique_item_external_id"),
            models.CheckConstraint(condition=Q(assigned_count__lte=F("target_overlap")),
                                   name="item_assigned_within_overlap"),
            models.CheckConstraint(condition=Q(submitted_count__lte=F("assigned_count")),
                                   name="item_submitted_within_assigned"),
            models.CheckConstraint(condition=Q(target_overlap__gte=1), name="item_target_overlap_positive"),
        ]
        indexes = [
            # The claim query walks open items of a project in serving order: priority, then items others have
            # started (so a project fills item by item), then import order. Full items are not in the index.
            models.Index(F("project"), F("priority").desc(), F("assigned_count").desc(), F("id"),
                         condition=Q(assigned_count__lt=F("target_overlap")), name="item_open_queue"),
        ]

    def __str__(self) -> str:
        return f"{self.project_id}/{self.external_id}"


class Assignment(models.Model):
    """A lease of one item to one annotator; once submitted it stays as the record of who did the item."""

    STATUS_LEASED = "leased"
    STATUS_SUBMITTED = "submitted"
    STATUS_SKIPPED = "skipped"
    STATUS_EXPIRED = "expired"
    STATUSES = (STATUS_LEASED, STATUS_SUBMITTED, STATUS_SKIPPED, STATUS_EXPIRED)
    LIVE = (STATUS_LEASED, STATUS_SUBMITTED)  # the ones that count against an item's overlap

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="assignments")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="assignments")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments")
    status = models.CharField(max_length=16, default=STATUS_LEASED, choices=[(s, s) for s in STATUSES])
    slot = models.PositiveSmallIntegerField(help_text="which of the item's overlap places this assignment holds")
    leased_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    display_order = models.JSONField(default=list, blank=True,
                                     help_text="response ids as served; position 0 is 'a' in pairwise")
    rounds = models.JSONField(null=True, blank=True, help_text="ranking: lists of response ids, one per screen")
    draft = models.JSONField(null=True, blank=True)
    active_seconds = models.FloatField(default=0.0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    skip_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="unique_item_annotator"),
            models.UniqueConstraint(fields=["item", "slot"], condition=Q(status__in=["leased", "submitted"]),
                                    name="unique_live_item_slot"),
            # One task at a time per person and project: a second claim returns the lease already held.
            models.UniqueConstraint(fields=["annotator", "project"], condition=Q(status="leased"),
                                    name="unique_live_lease_per_annotator"),
            models.CheckConstraint(condition=Q(active_seconds__gte=0), name="assignment_active_seconds_positive"),
        ]
        indexes = [
            # The reaper's scan: live leases of a project by expiry.
            models.Index(fields=["project", "expires_at"], condition=Q(status="leased"), name="assignment_live_lease"),
            # An annotator's current lease and progress in a project.
            models.Index(fields=["annotator", "project", "status"], name="assignment_annotator_status"),
        ]

    def __str__(self) -> str:
        return f"assignment {self.pk} ({self.status})"


class Annotation(models.Model):
    """A submitted answer. The payload is never overwritten: review (QC) changes `status` and records edits apart."""

    STATUS_SUBMITTED = "submitted"
    STATUS_ACCEPTED = "accepted"
    STATUS_EDITED = "edited"
    STATUS_REJECTED = "rejected"
    STATUSES = (STATUS_SUBMITTED, STATUS_ACCEPTED, STATUS_EDITED, STATUS_REJECTED)

    assignment = models.OneToOneField(Assignment, on_delete=models.CASCADE, related_name="annotation")
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="annotations")
    annotator = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations")
    payload = models.JSONField()
    guideline_version = models.PositiveIntegerField(null=True, blank=True)
    active_seconds = models.FloatField(default=0.0)
    display_order = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, default=STATUS_SUBMITTED, choices=[(s, s) for s in STATUSES])
    # MinHash signature of written text (instruction or response), for the project's near-duplicate check.
    signature = models.BinaryField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["project", "-id"], name="annotation_project_latest"),
            models.Index(fields=["annotator", "project"], name="annotation_annotator_project"),
        ]

    def __str__(self) -> str:
        return f"annotation {self.pk} of item {self.item_id}"


from annotation.models_quality import AnnotatorQuality, ItemConsensus, QualitySettings, QualitySnapshot, Review  # noqa: E402, F401
