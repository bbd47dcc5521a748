"""The API's shapes: requests are checked here for form (types), services check the domain rules."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from annotation.models import Annotation, Assignment, Item, Membership, Project
from annotation.selectors import annotator_progress

PROJECT_SETTINGS = [
    "scale", "criteria", "labels", "multi_label", "instruction_format", "categories", "language", "system_prompt",
    "lease_seconds", "min_length", "pii_policy", "duplicate_threshold", "break_after_minutes", "round_size",
    "gold_rate", "agreement_threshold", "max_overlap",
]


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "kind", "overlap", *PROJECT_SETTINGS, "created_at", "source_job"]
        read_only_fields = fields


class ProjectDetailSerializer(ProjectSerializer):
    """A project with what the annotator's page needs: the current guidelines and the caller's own progress."""

    class Meta(ProjectSerializer.Meta):
        fields = [*ProjectSerializer.Meta.fields, "guideline_version", "guideline", "progress"]
        read_only_fields = fields

    guideline_version = serializers.SerializerMethodField()
    guideline = serializers.SerializerMethodField(help_text="the current guidelines (Markdown)")
    progress = serializers.SerializerMethodField()

    def get_guideline_version(self, project: Project) -> int | None:
        guideline = project.current_guideline
        return guideline.version if guideline else None

    def get_guideline(self, project: Project) -> str:
        guideline = project.current_guideline
        return guideline.text if guideline else ""

    def get_progress(self, project: Project) -> dict[str, Any]:
        return annotator_progress(project, self.context["request"].user)


class ProjectCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=Project.KINDS)
    overlap = serializers.IntegerField(min_value=1, max_value=100, default=1)
    guideline = serializers.CharField(required=False, allow_blank=True, default="")
    scale = serializers.ChoiceField(choices=[5, 7], required=False)
    criteria = serializers.ListField(child=serializers.CharField(), required=False)
    labels = serializers.ListField(child=serializers.CharField(), required=False)
    multi_label = serializers.BooleanField(required=False)
    instruction_format = serializers.ChoiceField(choices=Project.FORMATS, required=False)
    categories = serializers.ListField(child=serializers.CharField(), required=False)
    language = serializers.ChoiceField(choices=Project.LANGUAGES, required=False)
    system_prompt = serializers.CharField(required=False, allow_blank=True)
    lease_seconds = serializers.IntegerField(required=False)
    min_length = serializers.IntegerField(min_value=0, required=False)
    pii_policy = serializers.ChoiceField(choices=Project.PII_POLICIES, required=False)
    duplicate_threshold = serializers.FloatField(required=False)
    break_after_minutes = serializers.IntegerField(min_value=0, required=False)
    round_size = serializers.IntegerField(required=False)
    gold_rate = serializers.FloatField(required=False)
    agreement_threshold = serializers.FloatField(required=False, allow_null=True)
    max_overlap = serializers.IntegerField(min_value=1, required=False)


class ProjectUpdateSerializer(ProjectCreateSerializer):
    name = serializers.CharField(max_length=200, required=False)
    kind = None  # type: ignore[assignment]
    overlap = serializers.IntegerField(min_value=1, max_value=100, required=False)
    guideline = None  # type: ignore[assignment]


class GuidelineSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="Markdown")


class GuidelineOutSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    text = serializers.CharField()
    created_at = serializers.DateTimeField()


def served_item(item: Item, display_order: list[str]) -> dict[str, Any]:
    """An item as an annotator sees it: its imported id, text, and responses in the assignment's display order.

    Model names are left out (they would bias judgements) and so are gold answers.
    """
    by_id = {str(r["id"]): r for r in item.responses}
    ordered = [by_id[i] for i in display_order if i in by_id] or list(item.responses)
    return {
        "id": item.external_id,
        "prompt": item.prompt,
        "messages": item.messages,
        "responses": [{"id": str(r["id"]), "text": r["text"]} for r in ordered],
        "metadata": item.metadata,
    }


class ServedItemSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="the id the item was imported with")
    prompt = serializers.CharField()
    messages = serializers.JSONField(allow_null=True)
    responses = serializers.ListField(child=serializers.DictField(), help_text="[{id, text}] in display order")
    metadata = serializers.DictField()


class AssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Assignment
        fields = ["id", "project", "item", "status", "expires_at", "display_order", "rounds", "draft",
                  "active_seconds", "leased_at"]
        read_only_fields = fields

    item = serializers.SerializerMethodField()

    def get_item(self, assignment: Assignment) -> dict[str, Any]:
        return served_item(assignment.item, assignment.display_order)


class SubmitSerializer(serializers.Serializer):
    payload = serializers.JSONField(help_text="the answer; its schema depends on the project's kind (issue 9)")
    active_seconds = serializers.FloatField(required=False, min_value=0)


class CheckSerializer(serializers.Serializer):
    payload = serializers.JSONField()


class CheckResultSerializer(serializers.Serializer):
    warnings = serializers.ListField(child=serializers.DictField())
    blocking = serializers.ListField(child=serializers.DictField())


class HeartbeatSerializer(serializers.Serializer):
    active_seconds = serializers.FloatField(required=False, min_value=0)


class HeartbeatOutSerializer(serializers.Serializer):
    expires_at = serializers.DateTimeField()


class DraftSerializer(serializers.Serializer):
    draft = serializers.JSONField()
    active_seconds = serializers.FloatField(required=False, min_value=0)


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=1000)


class AnnotationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Annotation
        fields = ["id", "item", "annotator", "payload", "active_seconds", "created_at", "guideline_version",
                  "display_order", "status", "assignment"]
        read_only_fields = fields

    item = serializers.SerializerMethodField()
    annotator = serializers.CharField(source="annotator.username")

    def get_item(self, annotation: Annotation) -> dict[str, Any]:
        return {"id": annotation.item.external_id}


class ItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = Item
        fields = ["id", "prompt", "messages", "responses", "metadata", "priority", "is_gold", "expected",
                  "target_overlap", "assigned_count", "submitted_count", "created_at"]
        read_only_fields = fields

    id = serializers.CharField(source="external_id")


class ItemsImportSerializer(serializers.Serializer):
    file = serializers.FileField(required=False, help_text="a JSON Lines file (multipart upload)")
    jsonl = serializers.CharField(required=False, help_text="JSON Lines text")
    items = serializers.ListField(child=serializers.JSONField(), required=False,
                                  help_text="item objects; errors give their 1-based position as the line")


class ImportReportSerializer(serializers.Serializer):
    imported = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField(), help_text="[{line, reason}]")


class ItemsFromJobSerializer(serializers.Serializer):
    job = serializers.IntegerField()
    kept = serializers.BooleanField(default=True, help_text="true: the kept documents; false: the removed ones")
    limit = serializers.IntegerField(min_value=1, required=False)


class MemberAddSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.ROLES, default=Membership.ROLE_ANNOTATOR)


class MemberUpdateSerializer(serializers.Serializer):
    paused = serializers.BooleanField()


class MembersImportSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header: username[,password][,role]")


class InviteCreateSerializer(serializers.Serializer):
    max_uses = serializers.IntegerField(min_value=1, default=50)
    days = serializers.IntegerField(min_value=1, max_value=365, default=7)


class InviteSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    max_uses = serializers.IntegerField()
    uses = serializers.IntegerField()


class MembershipSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ["project", "username", "role", "paused", "created_at"]
        read_only_fields = fields

    username = serializers.CharField(source="user.username")
