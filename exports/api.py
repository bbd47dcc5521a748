"""REST API of exports, for trainers, managers and admins: create, list, inspect, download and push exports.

    POST /api/v1/exports/                 {"format", "projects": [ids] | "job": id | "from_export": id,
                                           "name"?, "options"?: {...ExportSpec fields}}  -> 201, the export
    GET  /api/v1/exports/                 the exports, newest first (paginated)
    GET  /api/v1/exports/{id}/            one export: status, progress, content hash, card, files
    GET  /api/v1/exports/{id}/download/?file=data/train-00000-of-00001.jsonl   one file of a finished export
    POST /api/v1/exports/{id}/push/       {"repo_id": "owner/name", "private"?: true}  -> 202: a push to the
                                          Hugging Face Hub is queued (needs HF_TOKEN); its outcome shows in hub_*

Thin: serializers validate the shape, one service or selector does the work; services' errors become responses in
`core.api.exception_handler`. Exports are written under STORAGE_ROOT: the API takes no output path.
"""

from __future__ import annotations

import posixpath
from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.urls import include, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from fsspec.core import url_to_fs  # type: ignore[import-untyped]
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from exports.formats.spec import FORMATS
from exports.hub import export_push_request
from exports.models import Export
from exports.selectors import (
    access_export_by_id,
    export_file_path,
    export_files,
    export_progress,
    exports_visible_to,
)
from exports.services import export_create


class ExportSerializer(serializers.ModelSerializer):
    class Meta:
        model = Export
        fields = ["id", "name", "version", "format", "sources", "status", "content_hash", "path", "error",
                  "created_by", "created_at", "started_at", "finished_at", "progress", "hub_status", "hub_repo",
                  "hub_url", "hub_error"]
        read_only_fields = fields

    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()

    def get_progress(self, export: Export) -> dict[str, Any]:
        return export_progress(export)


class ExportDetailSerializer(ExportSerializer):
    class Meta(ExportSerializer.Meta):
        fields = [*ExportSerializer.Meta.fields, "spec", "card", "files"]
        read_only_fields = fields

    files = serializers.SerializerMethodField()

    def get_files(self, export: Export) -> list[str]:
        return export_files(export)


class ExportCreateSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=list(FORMATS))
    projects = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    job = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    from_export = serializers.IntegerField(min_value=1, required=False, allow_null=True, default=None)
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=100)
    options = serializers.DictField(required=False, default=dict,
                                    help_text="ExportSpec fields: style, merge, min_agreement, min_trust, "
                                              "test_fraction, seed, eval_paths, pii_action, files ...")


class PushSerializer(serializers.Serializer):
    repo_id = serializers.CharField(max_length=200)
    private = serializers.BooleanField(required=False, default=True)


class ExportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [IsAuthenticated]
    serializer_class = ExportSerializer

    def get_queryset(self) -> QuerySet[Export]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no user: the model is enough
            return Export.objects.none()
        return exports_visible_to(self.request.user)

    def get_object(self) -> Export:
        return access_export_by_id(self.request.user, int(self.kwargs["pk"]))

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ExportDetailSerializer if self.action == "retrieve" else ExportSerializer

    @extend_schema(request=ExportCreateSerializer, responses={201: ExportDetailSerializer})
    def create(self, request: Request) -> Response:
        data = ExportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        export = export_create(request.user, format=values["format"], projects=values["projects"],
                               job=values["job"], from_export=values["from_export"], name=values["name"],
                               options=dict(values["options"]))
        return Response(ExportDetailSerializer(export).data, status=status.HTTP_201_CREATED)

    @extend_schema(parameters=[OpenApiParameter("file", str, required=True,
                                                description="a file the export lists, e.g. card.json")],
                   responses={(200, "application/octet-stream"): bytes})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        export = self.get_object()
        location = export_file_path(export, request.query_params.get("file", ""))
        fs, path = url_to_fs(location)
        return FileResponse(fs.open(path, "rb"), as_attachment=True, filename=posixpath.basename(path))

    @extend_schema(request=PushSerializer, responses={202: ExportDetailSerializer})
    @action(detail=True, methods=["post"])
    def push(self, request: Request, pk: str) -> Response:
        export = self.get_object()
        data = PushSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        export = export_push_request(export.pk, data.validated_data["repo_id"],
                                     private=data.validated_data["private"])
        return Response(ExportDetailSerializer(export).data, status=status.HTTP_202_ACCEPTED)


router = SimpleRouter()
router.register("exports", ExportViewSet, basename="export")

urlpatterns = [path("", include(router.urls))]
