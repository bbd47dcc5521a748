"""REST API of the loop app (data engineers and admins), mounted under /api/v1/:

    GET  jobs/{id}/audit/                     the job's audits with fresh figures, its tunable steps, its versions
    POST jobs/{id}/audits/                    {"steps"?: [name|position], "half_width"?, "seed"?, "labels"?,
                                               "good_labels"?, "gold"?: {doc_id: label}, "planted_gold"?} -> 201
    GET  audits/{id}/                         one audit: strata, sample size and figures recomputed from labels
    POST jobs/{id}/whatif/                    {"step", "params": {name: value}} -> counts from stored signals
    POST jobs/{id}/recipe-versions/           {"step", "params", "apply"?: bool} -> 201, the new recipe version
    POST recipe-versions/{id}/apply/          {"output"?, "background"?} -> 200, the version with its re-applied
                                              stats; with "background": 202, a worker re-applies it
    POST projects/{id}/train-classifier/      {"version"?, "seed"?} -> 201, the model card (held-out metrics)

Thin: serializers check shapes, one service or selector does the work; errors become responses in
core.api.exception_handler.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loop.models import DEFAULT_LABELS
from loop.selectors import (
    access_audit_by_id,
    access_job_for_audit,
    access_label_project_for_training,
    access_recipe_version_by_id,
    audit_as_dict,
    job_audits,
    job_recipe_versions,
    recipe_version_as_dict,
    tunable_steps,
)
from loop.services.audits import audit_create, audit_results_current
from loop.services.classifier import classifier_train_from_project, latest_model
from loop.services.recipes import recipe_version_apply, recipe_version_save, whatif_run
from loop.workflows import enqueue_recipe_version_apply


class AuditCreateSerializer(serializers.Serializer[Any]):
    steps = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    half_width = serializers.FloatField(required=False, default=0.1)
    seed = serializers.IntegerField(required=False, default=0)
    labels = serializers.ListField(child=serializers.CharField(), required=False, default=lambda: DEFAULT_LABELS)
    good_labels = serializers.ListField(child=serializers.CharField(), required=False, default=lambda: ["good"])
    gold = serializers.DictField(child=serializers.CharField(), required=False, default=dict)
    planted_gold = serializers.IntegerField(required=False, default=4, min_value=0, max_value=100)


class WhatIfSerializer(serializers.Serializer[Any]):
    step = serializers.CharField()
    params = serializers.DictField()
    audit = serializers.IntegerField(required=False)


class VersionSerializer(WhatIfSerializer):
    apply = serializers.BooleanField(required=False, default=False)


class ApplySerializer(serializers.Serializer[Any]):
    output = serializers.CharField(required=False, allow_blank=True, default="")
    background = serializers.BooleanField(required=False, default=False)


class TrainSerializer(serializers.Serializer[Any]):
    version = serializers.CharField(required=False, allow_blank=True, default="")
    seed = serializers.IntegerField(required=False, default=0)


def _valid(serializer: serializers.Serializer[Any]) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class JobAuditView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, job_id: int) -> Response:
        job = access_job_for_audit(request.user, job_id)
        audits = []
        for audit in job_audits(job):
            audit_results_current(audit)
            audits.append(audit_as_dict(audit))
        return Response({"job": job.pk, "status": job.status, "audits": audits, "tunable_steps": tunable_steps(job),
                         "recipe_versions": [recipe_version_as_dict(v) for v in job_recipe_versions(job)]})


class AuditCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=AuditCreateSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, job_id: int) -> Response:
        job = access_job_for_audit(request.user, job_id)
        data = _valid(AuditCreateSerializer(data=request.data))
        audit = audit_create(job, user=request.user, **data)  # type: ignore[arg-type]
        return Response(audit_as_dict(audit), status=status.HTTP_201_CREATED)


class AuditDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, audit_id: int) -> Response:
        audit = access_audit_by_id(request.user, audit_id)
        audit_results_current(audit)
        return Response(audit_as_dict(audit))


class WhatIfView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=WhatIfSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, job_id: int) -> Response:
        job = access_job_for_audit(request.user, job_id)
        data = _valid(WhatIfSerializer(data=request.data))
        audit = access_audit_by_id(request.user, data["audit"]) if data.get("audit") else None
        return Response(whatif_run(job, data["step"], data["params"], audit).as_dict())


class RecipeVersionCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=VersionSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, job_id: int) -> Response:
        job = access_job_for_audit(request.user, job_id)
        data = _valid(VersionSerializer(data=request.data))
        version = recipe_version_save(job, data["step"], data["params"], request.user)  # type: ignore[arg-type]
        if data["apply"]:
            version = recipe_version_apply(version)
        return Response(recipe_version_as_dict(version), status=status.HTTP_201_CREATED)


class RecipeVersionApplyView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ApplySerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, version_id: int) -> Response:
        version = access_recipe_version_by_id(request.user, version_id)
        data = _valid(ApplySerializer(data=request.data))
        if data["background"]:
            # A large job: a worker re-applies it into the default folder; the version shows it once done.
            enqueue_recipe_version_apply(version.pk)
            return Response(recipe_version_as_dict(version), status=status.HTTP_202_ACCEPTED)
        return Response(recipe_version_as_dict(recipe_version_apply(version, data["output"] or None)))


class TrainClassifierView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=TrainSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request: Request, project_id: int) -> Response:
        project = access_label_project_for_training(request.user, project_id)
        data = _valid(TrainSerializer(data=request.data))
        card = classifier_train_from_project(project, version=data["version"] or None, seed=data["seed"])
        return Response({**card.to_dict(), "model": latest_model().rpartition("/")[0] + f"/{card.version}",
                         "latest": latest_model()}, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("jobs/<int:job_id>/audit/", JobAuditView.as_view(), name="loop-job-audit"),
    path("jobs/<int:job_id>/audits/", AuditCreateView.as_view(), name="loop-audit-create"),
    path("audits/<int:audit_id>/", AuditDetailView.as_view(), name="loop-audit"),
    path("jobs/<int:job_id>/whatif/", WhatIfView.as_view(), name="loop-whatif"),
    path("jobs/<int:job_id>/recipe-versions/", RecipeVersionCreateView.as_view(), name="loop-version-create"),
    path("recipe-versions/<int:version_id>/apply/", RecipeVersionApplyView.as_view(), name="loop-version-apply"),
    path("projects/<int:project_id>/train-classifier/", TrainClassifierView.as_view(), name="loop-train"),
]
