"""The annotation REST API under /api/v1/ (issue 9, item 7): projects, items, members, leases, annotations.

Thin: check the request's form with a serializer, pass the object through an access guard (annotation/access.py),
call one service or selector, render. Token auth (`Authorization: Token <key>`, from POST /api/v1/auth/token/) or
the page's session with its CSRF token. Errors are the services' `core.errors`, rendered by `core.api`'s handler.
Objects a caller may not see answer 404; managers' actions on a project a member sees answer 403.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from annotation import selectors, serializers
from annotation.access import (
    access_assignment_by_id,
    access_membership_by_project_id,
    access_project_by_id,
    access_project_to_manage,
    access_projects_to_manage,
)
from annotation.models import Membership, Project
from annotation.services import assignments, items, members, projects
from annotation.services.checks import writing_checks
from annotation.services.pages import job_by_id
from core.errors import NotFound, ValidationError


def _paginated(view: APIView, request: Request, queryset: QuerySet[Any], serializer: type, **context: Any) -> Response:
    paginator = view.paginator  # type: ignore[attr-defined]
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer(page, many=True, context={"request": request, **context}).data
    return paginator.get_paginated_response(data)


class _Paginated(APIView):
    """An APIView with the project's default pagination (limit/offset), as DRF's generic views have."""

    @property
    def paginator(self) -> Any:
        if not hasattr(self, "_paginator"):
            self._paginator = api_settings.DEFAULT_PAGINATION_CLASS()
        return self._paginator


class ProjectListView(_Paginated):
    @extend_schema(responses={200: serializers.ProjectSerializer(many=True)}, summary="Projects visible to you")
    def get(self, request: Request) -> Response:
        return _paginated(self, request, selectors.projects_visible_to(request.user), serializers.ProjectSerializer)

    @extend_schema(request=serializers.ProjectCreateSerializer, responses={201: serializers.ProjectDetailSerializer},
                   summary="Create a project (managers)")
    def post(self, request: Request) -> Response:
        access_projects_to_manage(request.user)
        form = serializers.ProjectCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        project = projects.project_create(created_by=request.user, **form.validated_data)
        return Response(serializers.ProjectDetailSerializer(project, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class ProjectDetailView(APIView):
    @extend_schema(responses={200: serializers.ProjectDetailSerializer}, summary="A project, with your progress")
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_by_id(request.user, project_id)
        return Response(serializers.ProjectDetailSerializer(project, context={"request": request}).data)

    @extend_schema(request=serializers.ProjectUpdateSerializer, responses={200: serializers.ProjectDetailSerializer},
                   summary="Change a project's settings (managers)")
    def patch(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.ProjectUpdateSerializer(data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        project = projects.project_update(project, **form.validated_data)
        return Response(serializers.ProjectDetailSerializer(project, context={"request": request}).data)


class GuidelineView(APIView):
    @extend_schema(request=serializers.GuidelineSerializer, responses={201: serializers.GuidelineOutSerializer},
                   summary="Publish a new guideline version (managers)")
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.GuidelineSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        guideline = projects.guideline_publish(project, form.validated_data["text"], request.user)
        return Response(serializers.GuidelineOutSerializer(guideline).data, status=status.HTTP_201_CREATED)


class ItemListView(_Paginated):
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(responses={200: serializers.ItemSerializer(many=True)}, summary="The project's items (managers)")
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        return _paginated(self, request, selectors.project_items(project), serializers.ItemSerializer)

    @extend_schema(request=serializers.ItemsImportSerializer, responses={201: serializers.ImportReportSerializer},
                   summary="Import items from JSON Lines (managers)",
                   description="Send a JSON Lines `file` (multipart), `jsonl` text, or a list of `items`. Bad lines "
                               "are reported with their line number and reason; the good ones are imported.")
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.ItemsImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        given = [key for key in ("file", "jsonl", "items") if key in data]
        if len(given) != 1:
            raise ValidationError(_("send exactly one of file, jsonl or items"))
        if "file" in data:
            report = items.items_import(project, data["file"])
        elif "jsonl" in data:
            report = items.items_import(project, data["jsonl"].splitlines())
        else:
            report = items.items_import(project, [json.dumps(record) for record in data["items"]])
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class ItemsFromJobView(APIView):
    @extend_schema(request=serializers.ItemsFromJobSerializer, responses={201: serializers.ImportReportSerializer},
                   summary="Add a label project's items from a curation job's kept or removed documents (managers)")
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.ItemsFromJobSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job = job_by_id(form.validated_data["job"])
        report = items.items_from_job(project, job, form.validated_data["kept"], form.validated_data.get("limit"))
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class MemberListView(APIView):
    @extend_schema(responses={200: OpenApiResponse(description="progress per member")},
                   summary="Members and their progress (managers)")
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        return Response(selectors.progress_per_annotator(project))

    @extend_schema(request=serializers.MemberAddSerializer, responses={201: serializers.MembershipSerializer},
                   summary="Add a member by username (managers)")
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.MemberAddSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        membership = members.membership_add_by_username(project, form.validated_data["username"],
                                                        form.validated_data["role"])
        return Response(serializers.MembershipSerializer(membership).data, status=status.HTTP_201_CREATED)


class MemberDetailView(APIView):
    @extend_schema(request=serializers.MemberUpdateSerializer, responses={200: serializers.MembershipSerializer},
                   summary="Pause or resume a member (managers)")
    def patch(self, request: Request, project_id: int, username: str) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.MemberUpdateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        membership = Membership.objects.filter(project=project, user__username=username).select_related("user").first()
        if membership is None:
            raise NotFound(_("not a member of this project"))
        membership = members.membership_set_paused(project, membership.user, form.validated_data["paused"])
        return Response(serializers.MembershipSerializer(membership).data)


class MembersImportView(APIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=serializers.MembersImportSerializer,
                   responses={201: OpenApiResponse(description="{added, created, errors: [{line, reason}]}")},
                   summary="Add members from a CSV (managers)")
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.MembersImportSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        report = members.members_import_csv(project, form.validated_data["file"])
        return Response(report.as_dict(), status=status.HTTP_201_CREATED)


class InviteCreateView(APIView):
    @extend_schema(request=serializers.InviteCreateSerializer, responses={201: serializers.InviteSerializer},
                   summary="Create an invite link (managers)")
    def post(self, request: Request, project_id: int) -> Response:
        project = access_project_to_manage(request.user, project_id)
        form = serializers.InviteCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        invite = members.invite_create(project, request.user, **form.validated_data)
        return Response(serializers.InviteSerializer(invite).data, status=status.HTTP_201_CREATED)


class InviteAcceptView(APIView):
    @extend_schema(request=None, responses={200: serializers.MembershipSerializer},
                   summary="Join a project by its invite token")
    def post(self, request: Request, token: str) -> Response:
        membership = members.invite_accept(token, request.user)
        return Response(serializers.MembershipSerializer(membership).data)


class AnnotationListView(_Paginated):
    @extend_schema(responses={200: serializers.AnnotationSerializer(many=True)},
                   summary="Submitted annotations, newest first (managers and the project's reviewers)")
    def get(self, request: Request, project_id: int) -> Response:
        project = access_project_by_id(request.user, project_id)
        if not project.memberships.filter(user=request.user, role=Membership.ROLE_REVIEWER).exists():
            project = access_project_to_manage(request.user, project_id)
        return _paginated(self, request, selectors.project_annotations(project), serializers.AnnotationSerializer)


class ClaimNextView(APIView):
    @extend_schema(request=None, responses={200: serializers.AssignmentSerializer,
                                            204: OpenApiResponse(description="nothing left for you")},
                   summary="Lease your next item (or get back the one you hold)")
    def post(self, request: Request, project_id: int) -> Response:
        membership = access_membership_by_project_id(request.user, project_id)
        assignment = assignments.assignment_claim_next(request.user, membership.project, membership=membership)
        if assignment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(serializers.AssignmentSerializer(assignment).data)


class AssignmentDetailView(APIView):
    @extend_schema(responses={200: serializers.AssignmentSerializer}, summary="One of your assignments")
    def get(self, request: Request, assignment_id: int) -> Response:
        assignment = access_assignment_by_id(request.user, assignment_id)
        return Response(serializers.AssignmentSerializer(assignment).data)


class SubmitView(APIView):
    @extend_schema(request=serializers.SubmitSerializer,
                   responses={201: serializers.AnnotationSerializer,
                              200: OpenApiResponse(serializers.AnnotationSerializer, "already submitted: the same"),
                              400: OpenApiResponse(description="payload does not fit the kind, or a blocking check"),
                              409: OpenApiResponse(description="the lease expired and the item went to someone")},
                   summary="Submit your answer")
    def post(self, request: Request, assignment_id: int) -> Response:
        # The service looks the assignment up (404 for anyone else's) and checks the payload and the time itself,
        # in the one transaction of the submit: the hot path of every annotator's page.
        data = request.data if isinstance(request.data, dict) else {}
        annotation, created = assignments.assignment_submit(
            request.user, assignment_id, data.get("payload"), data.get("active_seconds"))
        return Response(serializers.AnnotationSerializer(annotation).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class HeartbeatView(APIView):
    @extend_schema(request=serializers.HeartbeatSerializer, responses={200: serializers.HeartbeatOutSerializer},
                   summary="Keep your lease alive")
    def post(self, request: Request, assignment_id: int) -> Response:
        access_assignment_by_id(request.user, assignment_id)
        form = serializers.HeartbeatSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        assignment = assignments.assignment_heartbeat(request.user, assignment_id,
                                                      form.validated_data.get("active_seconds"))
        return Response({"expires_at": assignment.expires_at})


class DraftView(APIView):
    @extend_schema(request=serializers.DraftSerializer, responses={204: None},
                   summary="Save a draft and the active time (renews the lease)")
    def post(self, request: Request, assignment_id: int) -> Response:
        access_assignment_by_id(request.user, assignment_id)
        form = serializers.DraftSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        assignments.assignment_draft_save(request.user, assignment_id, form.validated_data["draft"],
                                          form.validated_data.get("active_seconds"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class SkipView(APIView):
    @extend_schema(request=serializers.SkipSerializer, responses={200: serializers.AssignmentSerializer},
                   summary="Give the item back, with a reason")
    def post(self, request: Request, assignment_id: int) -> Response:
        access_assignment_by_id(request.user, assignment_id)
        form = serializers.SkipSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        assignment = assignments.assignment_skip(request.user, assignment_id, form.validated_data["reason"])
        return Response(serializers.AssignmentSerializer(assignment).data)


class CheckView(APIView):
    @extend_schema(request=serializers.CheckSerializer, responses={200: serializers.CheckResultSerializer},
                   summary="Run the writing checks on a draft answer without submitting")
    def post(self, request: Request, assignment_id: int) -> Response:
        assignment = access_assignment_by_id(request.user, assignment_id)
        form = serializers.CheckSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        project: Project = assignment.project
        if project.kind not in Project.WRITING_KINDS:
            return Response({"warnings": [], "blocking": []})
        # A draft being typed need not be a complete payload yet (a few-shot instruction without its examples):
        # only the written text has to be text.
        draft = form.validated_data["payload"]
        if not isinstance(draft, dict) or not all(isinstance(draft.get(k, ""), str)
                                                  for k in ("instruction", "response", "reasoning")):
            raise ValidationError(_("payload must be an object whose written fields are text"), field="payload")
        return Response(writing_checks(project, draft).as_dict())


urlpatterns = [
    path("projects/", ProjectListView.as_view(), name="annotation-projects"),
    path("projects/<int:project_id>/", ProjectDetailView.as_view(), name="annotation-project"),
    path("projects/<int:project_id>/guidelines/", GuidelineView.as_view(), name="annotation-guidelines"),
    path("projects/<int:project_id>/items/", ItemListView.as_view(), name="annotation-items"),
    path("projects/<int:project_id>/items/from-job/", ItemsFromJobView.as_view(), name="annotation-items-from-job"),
    path("projects/<int:project_id>/members/", MemberListView.as_view(), name="annotation-members"),
    path("projects/<int:project_id>/members/import/", MembersImportView.as_view(), name="annotation-members-import"),
    path("projects/<int:project_id>/members/<str:username>/", MemberDetailView.as_view(), name="annotation-member"),
    path("projects/<int:project_id>/invites/", InviteCreateView.as_view(), name="annotation-invites"),
    path("invites/<str:token>/accept/", InviteAcceptView.as_view(), name="annotation-invite-accept-api"),
    path("projects/<int:project_id>/annotations/", AnnotationListView.as_view(), name="annotation-annotations"),
    path("projects/<int:project_id>/assignments/next/", ClaimNextView.as_view(), name="annotation-claim-next"),
    path("assignments/<int:assignment_id>/", AssignmentDetailView.as_view(), name="annotation-assignment"),
    path("assignments/<int:assignment_id>/submit/", SubmitView.as_view(), name="annotation-submit"),
    path("assignments/<int:assignment_id>/heartbeat/", HeartbeatView.as_view(), name="annotation-heartbeat"),
    path("assignments/<int:assignment_id>/draft/", DraftView.as_view(), name="annotation-draft"),
    path("assignments/<int:assignment_id>/skip/", SkipView.as_view(), name="annotation-skip"),
    path("assignments/<int:assignment_id>/check/", CheckView.as_view(), name="annotation-check"),
]
