"""REST API for data engineers: submit, list, inspect, cancel and delete jobs; list, inspect and delete dedup indexes.

Thin: validate with serializers, call one service or selector, render. Token or session auth; annotators get 403.
Services' errors become responses in one place, core.api.exception_handler: {"detail", "code", "field"?}.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import can_curate
from core.serializers import AuditEventSerializer, audit_events
from curation.models import DedupIndex, DocumentSample, Job
from curation.selectors import dedup_index_summary, job_progress, job_samples, jobs_visible_to
from curation.services.dedup_indexes import dedup_index_delete
from curation.services.jobs import job_cancel, job_delete, job_submit
from curation.steps.readers import FORMATS
from curation.steps.recipe import MAX_RECIPE_BYTES, builtin_recipe_names, load_builtin_recipe


class CurationPagination(LimitOffsetPagination):
    """Pages of at most `max_limit` rows, whatever `?limit=` asks (a bigger limit is cut to it)."""

    max_limit = 200


class IsDataEngineer(BasePermission):
    message = "curation is for data engineers and admins"

    def has_permission(self, request: Request, view: Any) -> bool:
        return can_curate(request.user)


class JobSerializer(serializers.ModelSerializer):
    class Meta:
        model = Job
        fields = ["id", "recipe_name", "inputs", "output", "status", "stage", "stage_count", "shard_count",
                  "units_done", "docs_read", "docs_kept", "docs_removed", "dedup_index", "error", "created_at",
                  "started_at", "finished_at"]
        read_only_fields = fields

    dedup_index = serializers.SlugRelatedField(slug_field="name", read_only=True)


class JobDetailSerializer(JobSerializer):
    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "progress", "recipe_yaml", "audit"]
        read_only_fields = fields

    progress = serializers.SerializerMethodField()
    audit = serializers.SerializerMethodField(help_text="who submitted and cancelled the job, oldest first")

    @extend_schema_field(AuditEventSerializer(many=True))
    def get_audit(self, job: Job) -> list[dict[str, Any]]:
        return audit_events(job)

    def get_progress(self, job: Job) -> dict[str, Any]:
        return job_progress(job)


class JobSubmitSerializer(serializers.Serializer):
    recipe = serializers.CharField(help_text="built-in recipe name, or recipe YAML text (never a server path)",
                                   max_length=MAX_RECIPE_BYTES)
    inputs = serializers.ListField(child=serializers.CharField(), allow_empty=False)
    output = serializers.CharField(required=False, allow_blank=True,
                                   help_text="output folder; default STORAGE_ROOT/jobs/<id>")
    text_field = serializers.CharField(required=False)
    format = serializers.ChoiceField(choices=list(FORMATS), required=False)
    dedup_index = serializers.SlugField(required=False)


class SampleSerializer(serializers.ModelSerializer):
    class Meta:
        model = DocumentSample
        fields = ["doc_id", "kept", "removed_by", "reason", "url", "text", "document", "shard_index"]


class JobViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                 viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsDataEngineer]
    pagination_class = CurationPagination
    serializer_class = JobSerializer

    def get_queryset(self) -> QuerySet[Job]:
        return jobs_visible_to(self.request.user)

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "retrieve":
            return JobDetailSerializer
        if self.action == "create":
            return JobSubmitSerializer
        return JobSerializer

    @extend_schema(request=JobSubmitSerializer, responses={201: JobDetailSerializer})
    def create(self, request: Request) -> Response:
        data = JobSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        overrides = {k: values[k] for k in ("text_field", "format") if k in values}
        job = job_submit(recipe=values["recipe"], inputs=values["inputs"], output=values.get("output") or None,
                         reader_overrides=overrides, dedup_index=values.get("dedup_index"), user=request.user)
        return Response(JobDetailSerializer(job).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: JobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        job = job_cancel(self.get_object(), user=request.user)
        return Response(JobSerializer(job).data)

    def perform_destroy(self, instance: Job) -> None:
        """DELETE: a failed or cancelled job goes, with its work files (409 for any other job)."""
        job_delete(instance, user=self.request.user)

    @extend_schema(
        parameters=[
            OpenApiParameter("kept", bool, description="true: kept documents; false: removed ones"),
            OpenApiParameter("reason", str, description="only removed documents with this reason"),
        ],
        responses={200: SampleSerializer(many=True)},
    )
    @action(detail=True, methods=["get"])
    def samples(self, request: Request, pk: str | None = None) -> Response:
        kept_param = request.query_params.get("kept")
        kept = None if kept_param is None else kept_param.lower() in ("1", "true", "yes")
        samples = job_samples(self.get_object(), kept=kept, reason=request.query_params.get("reason"))
        page = self.paginate_queryset(samples)
        return self.get_paginated_response(SampleSerializer(page, many=True).data)


class RecipeListView(APIView):
    permission_classes = [IsAuthenticated, IsDataEngineer]

    @extend_schema(responses={200: serializers.ListSerializer(child=serializers.DictField())})
    def get(self, request: Request) -> Response:
        recipes = [load_builtin_recipe(name, validate=False) for name in builtin_recipe_names()]
        return Response([{"name": r.name, "description": r.description, "steps": [s.name for s in r.steps],
                          "yaml": r.source_yaml} for r in recipes])


class DedupIndexSerializer(serializers.ModelSerializer):
    class Meta:
        model = DedupIndex
        fields = ["name", "root", "created_at", "summary", "audit"]

    summary = serializers.SerializerMethodField()
    audit = serializers.SerializerMethodField(help_text="who did what to the index, oldest first")

    @extend_schema_field(AuditEventSerializer(many=True))
    def get_audit(self, index: DedupIndex) -> list[dict[str, Any]]:
        return audit_events(index)

    def get_summary(self, index: DedupIndex) -> dict[str, Any]:
        return dedup_index_summary(index)


class DedupIndexViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                        viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated, IsDataEngineer]
    pagination_class = CurationPagination
    serializer_class = DedupIndexSerializer
    lookup_field = "name"
    queryset = DedupIndex.objects.order_by("name")

    def perform_destroy(self, instance: DedupIndex) -> None:
        dedup_index_delete(instance, user=self.request.user)
