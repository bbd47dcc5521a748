"""Quality control's REST API under /api/v1/: dashboard figures, leaderboard, settings, refresh, pausing,
gold promotion, the review queue and reviews. Thin: guard, validate, call one service or selector, render.

Managers: `GET projects/{id}/quality/`, `GET projects/{id}/leaderboard/`,
`GET|PATCH projects/{id}/quality/settings/`, `POST projects/{id}/quality/refresh/`,
`POST projects/{id}/members/{user_id}/pause/`, `POST projects/{id}/gold/promote/`.
Reviewers (and managers): `GET projects/{id}/reviews/`, `GET annotations/{id}/reviews/`,
`POST annotations/{id}/review/`.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from annotation.access_quality import access_annotation_to_review, access_project_quality, access_project_to_review
from annotation.models import Annotation
from annotation.models_quality import QualitySettings
from annotation.selectors_quality import (
    annotation_reviews,
    effective_payload,
    project_leaderboard,
    quality_dashboard,
    review_queue,
)
from annotation.services.members import membership_set_paused
from annotation.services.quality import (
    gold_items_prepare,
    gold_promote_unanimous,
    project_quality_refresh,
    quality_settings_get,
    quality_settings_update,
    review_submit,
)
from annotation.tasks_quality import project_quality_refresh_task
from core.errors import NotFound, ValidationError


class QualitySettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = QualitySettings
        fields = ["likert_tolerance", "ranking_min_tau", "min_active_seconds", "min_gold_accuracy", "min_tasks",
                  "weight_by_trust", "updated_at"]
        read_only_fields = fields


def _settings_body(settings: QualitySettings) -> dict[str, Any]:
    project = settings.project
    return {**QualitySettingsSerializer(settings).data, "gold_rate": project.gold_rate,
            "agreement_threshold": project.agreement_threshold, "max_overlap": project.max_overlap}


def annotation_body(annotation: Annotation) -> dict[str, Any]:
    """An annotation as a reviewer sees it: the original payload, what counts now, and the item's text."""
    item = annotation.item
    return {
        "id": annotation.pk,
        "item": {"id": item.external_id, "prompt": item.prompt, "messages": item.messages,
                 "responses": item.responses},
        "annotator": annotation.annotator.get_username(),
        "status": annotation.status,
        "payload": annotation.payload,
        "effective_payload": effective_payload(annotation),
        "display_order": annotation.display_order,
        "active_seconds": annotation.active_seconds,
        "created_at": annotation.created_at.isoformat(),
    }


class ProjectQualityView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="The manager's quality dashboard figures")
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_quality(request.user, project_id)
        return Response(quality_dashboard(project))


class ProjectLeaderboardView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="Models ranked by Bradley-Terry with bootstrap intervals")
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_quality(request.user, project_id)
        return Response(project_leaderboard(project))


class ProjectQualitySettingsView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_quality(request.user, project_id)
        return Response(_settings_body(quality_settings_get(project)))

    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT)
    def patch(self, request: Request, project_id: int) -> Response:
        project = access_project_quality(request.user, project_id)
        if not isinstance(request.data, dict):
            raise ValidationError(_("send a JSON object of settings"))
        return Response(_settings_body(quality_settings_update(project, dict(request.data))))


class ProjectQualityRefreshView(APIView):
    @extend_schema(
        request=None, responses={200: OpenApiTypes.OBJECT, 202: OpenApiTypes.OBJECT},
        parameters=[OpenApiParameter("wait", bool, description="recompute now and answer with the figures")],
    )
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_quality(request.user, project_id)
        if request.query_params.get("wait") in ("1", "true"):
            project_quality_refresh(project.pk)
            return Response(quality_dashboard(project))
        project_quality_refresh_task.apply_async(args=[project.pk])
        return Response({"queued": True}, status=status.HTTP_202_ACCEPTED)


class MemberPauseView(APIView):
    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT, summary="Pause or resume an annotator")
    def post(self, request: Request, project_id: int, user_id: int) -> Response:
        project = access_project_quality(request.user, project_id)
        paused = request.data.get("paused", True) if isinstance(request.data, dict) else None
        if not isinstance(paused, bool):
            raise ValidationError(_("paused must be true or false"), field="paused")
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            raise NotFound(_("no such member"))
        membership = membership_set_paused(project, user, paused)
        return Response({"user_id": user.pk, "username": user.get_username(), "paused": membership.paused})


class GoldPromoteView(APIView):
    @extend_schema(request=OpenApiTypes.OBJECT, responses=OpenApiTypes.OBJECT,
                   summary="Make gold items of finished items every annotator agreed on")
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_quality(request.user, project_id)
        minimum = request.data.get("min_annotations", 3) if isinstance(request.data, dict) else 3
        if isinstance(minimum, bool) or not isinstance(minimum, int):
            raise ValidationError(_("min_annotations must be an integer"), field="min_annotations")
        promoted = gold_promote_unanimous(project, minimum)
        opened = gold_items_prepare(project)
        return Response({"promoted": promoted, "opened": opened})


class ReviewQueueView(APIView):
    @extend_schema(
        responses=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("all", bool, description="every undecided annotation, not only routed ones"),
                    OpenApiParameter("limit", int)],
    )
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_to_review(request.user, project_id)
        try:
            limit = min(200, max(1, int(request.query_params.get("limit", 50))))
        except ValueError:
            raise ValidationError(_("limit must be an integer"), field="limit") from None
        routed_only = request.query_params.get("all") not in ("1", "true")
        annotations = review_queue(project, routed_only=routed_only, limit=limit)
        return Response({"results": [annotation_body(annotation) for annotation in annotations]})


class AnnotationReviewsView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT, summary="An annotation with every review done to it")
    def get(self, request: Request, annotation_id: int) -> Response:
        annotation = access_annotation_to_review(request.user, annotation_id)
        return Response({**annotation_body(annotation), "reviews": annotation_reviews(annotation)})


class AnnotationReviewSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "edit", "reject"])
    payload = serializers.JSONField(required=False, allow_null=True)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class AnnotationReviewView(APIView):
    @extend_schema(request=AnnotationReviewSerializer, responses={201: OpenApiTypes.OBJECT},
                   summary="Accept, edit or reject an annotation (the original is kept)")
    def post(self, request: Request, annotation_id: int) -> Response:
        annotation = access_annotation_to_review(request.user, annotation_id)
        serializer = AnnotationReviewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        review_submit(request.user, annotation, data["action"], data.get("payload"), data.get("comment", ""))
        return Response({**annotation_body(annotation), "reviews": annotation_reviews(annotation)},
                        status=status.HTTP_201_CREATED)


urlpatterns = [
    path("projects/<int:project_id>/quality/", ProjectQualityView.as_view(), name="api-project-quality"),
    path("projects/<int:project_id>/quality/settings/", ProjectQualitySettingsView.as_view(),
         name="api-project-quality-settings"),
    path("projects/<int:project_id>/quality/refresh/", ProjectQualityRefreshView.as_view(),
         name="api-project-quality-refresh"),
    path("projects/<int:project_id>/leaderboard/", ProjectLeaderboardView.as_view(), name="api-project-leaderboard"),
    path("projects/<int:project_id>/members/<int:user_id>/pause/", MemberPauseView.as_view(),
         name="api-member-pause"),
    path("projects/<int:project_id>/gold/promote/", GoldPromoteView.as_view(), name="api-gold-promote"),
    path("projects/<int:project_id>/reviews/", ReviewQueueView.as_view(), name="api-review-queue"),
    path("annotations/<int:annotation_id>/reviews/", AnnotationReviewsView.as_view(), name="api-annotation-reviews"),
    path("annotations/<int:annotation_id>/review/", AnnotationReviewView.as_view(), name="api-annotation-review"),
]
