"""The training API under /api/v1/: runs (with their metrics) and pipelines, for trainers and admins.

Thin: validate with serializers, call one service or selector, render. Service errors become responses in the one
exception handler (core/api.py).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import can_train
from core.errors import ValidationError
from training import selectors
from training.models import Pipeline, Run, RunMetric
from training.services.pipelines import pipeline_cancel, pipeline_submit
from training.services.runs import access_run, run_cancel, run_submit


class IsTrainer(BasePermission):
    message = "training is for trainers and admins"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return can_train(request.user)


class MetricSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunMetric
        fields = ["step", *RunMetric.CHARTED, "values"]


class RunSerializer(serializers.ModelSerializer):
    progress = serializers.FloatField(read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Run
        fields = ["id", "kind", "status", "status_display", "dataset_path", "content_hash", "base_model", "parent",
                  "reward_run",
                  "hyperparameters", "output_path", "pipeline", "stage", "global_step", "max_steps", "progress",
                  "resumed_from", "attempts", "cancel_requested", "error", "created_at", "started_at",
                  "finished_at"]


class RunDetailSerializer(RunSerializer):
    metrics = serializers.SerializerMethodField()

    class Meta(RunSerializer.Meta):
        fields = [*RunSerializer.Meta.fields, "metrics"]

    def get_metrics(self, run: Run) -> list[dict[str, Any]]:
        since = self.context.get("since", -1)
        rows = selectors.run_metrics(run, since=since)
        return MetricSerializer(rows, many=True).data  # type: ignore[return-value]


class RunSubmitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Run.Kind.choices)
    dataset = serializers.CharField(help_text="export folder")
    base_model = serializers.CharField(required=False, allow_blank=True, default="")
    parent = serializers.PrimaryKeyRelatedField(queryset=Run.objects.all(), required=False, allow_null=True)
    reward_run = serializers.PrimaryKeyRelatedField(queryset=Run.objects.all(), required=False, allow_null=True)
    hyperparameters = serializers.DictField(required=False, default=dict)


class RunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`GET /runs/`, `POST /runs/`, `GET /runs/{id}/?since=STEP` (metrics after STEP), `POST /runs/{id}/cancel/`."""

    permission_classes = [IsAuthenticated, IsTrainer]
    serializer_class = RunSerializer

    def get_queryset(self) -> QuerySet[Run]:
        return selectors.runs_all()

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        run = access_run(request.user, int(kwargs["pk"]))  # type: ignore[arg-type]
        try:
            since = int(request.query_params.get("since", -1))
        except ValueError:
            raise ValidationError("since must be a step number", field="since") from None
        return Response(RunDetailSerializer(run, context={"since": since}).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = RunSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        run = run_submit(request.user, kind=data["kind"], dataset=data["dataset"],  # type: ignore[arg-type]
                         base_model=data["base_model"], parent=data.get("parent"),
                         reward_run=data.get("reward_run"), hyperparameters=data["hyperparameters"])
        return Response(RunSerializer(run).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        run = run_cancel(request.user, int(pk))  # type: ignore[arg-type]
        return Response(RunSerializer(run).data)


class PipelineSerializer(serializers.ModelSerializer):
    runs = RunSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "kind", "status", "created_at", "finished_at", "runs"]


class PipelineSubmitSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Pipeline.Kind.choices)
    name = serializers.CharField(required=False, allow_blank=True, default="")
    base_model = serializers.CharField()
    datasets = serializers.DictField(child=serializers.CharField())
    hyperparameters = serializers.DictField(child=serializers.DictField(), required=False, default=dict)


class PipelineViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`GET/POST /pipelines/`, `GET /pipelines/{id}/` (with its runs), `POST /pipelines/{id}/cancel/`."""

    permission_classes = [IsAuthenticated, IsTrainer]
    serializer_class = PipelineSerializer

    def get_queryset(self) -> QuerySet[Pipeline]:
        return selectors.pipelines_all()

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = PipelineSubmitSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        pipeline = pipeline_submit(request.user, kind=data["kind"], name=data["name"],  # type: ignore[arg-type]
                                   base_model=data["base_model"], datasets=data["datasets"],
                                   hyperparameters=data["hyperparameters"])
        return Response(PipelineSerializer(pipeline).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        pipeline = pipeline_cancel(request.user, int(pk))  # type: ignore[arg-type]
        return Response(PipelineSerializer(pipeline).data)
