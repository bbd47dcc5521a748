"""The annotation pages: the annotator's projects and task page, and the managers' project pages.

Views are thin: they check who may see the page, call one service or selector and render. The annotator's task
page is rendered here and then driven by static/annotation/annotate.js against the JSON API (annotation/api.py),
with the session cookie and the CSRF token. Every page here is sent with a strict Content-Security-Policy
(annotation/csp.py): items are written by strangers, and nothing in them may run, submit or load anything.

Access: anonymous people are sent to log in; the annotator's pages need membership of the project
(`access_project_by_id`); the managers' pages need the manager role (`can_manage_annotation`), so an annotator gets
403 on every one of them even for a project they work in.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import can_manage_annotation
from annotation import selectors, ui_strings
from annotation.access import access_project_by_id, access_project_to_manage
from annotation.csp import csp_protected
from annotation.forms import (
    FORMAT_LABELS,
    KIND_LABELS,
    LANGUAGE_LABELS,
    PII_LABELS,
    GuidelineForm,
    InviteCreateForm,
    ItemsFromJobForm,
    ItemsImportForm,
    MemberAddForm,
    MembersImportForm,
    ProjectCreateForm,
)
from annotation.markup import render_markdown_safely
from annotation.models import Membership, Project
from annotation.services import pages
from annotation.services.items import items_from_job, items_import
from annotation.services.members import (
    invite_accept,
    invite_create,
    members_import_csv,
    membership_add_by_username,
)
from annotation.services.projects import guideline_publish, project_create
from core.errors import NotFound
from core.forms import form_apply

PROJECTS_PER_PAGE = 30
ITEMS_PER_PAGE = 50
LATEST_SUBMISSIONS = 20
# The annotator's clock stops after this long without input or focus (annotate.js).
IDLE_SECONDS = 60
ROLE_LABELS = {Membership.ROLE_ANNOTATOR: gettext_lazy("annotator"), Membership.ROLE_REVIEWER: gettext_lazy("reviewer")}
# Sent to the API as the skip reason (stable English, so managers can count them); shown translated.
SKIP_REASONS = [
    ("unclear", gettext_lazy("The task is unclear to me")),
    ("broken item", gettext_lazy("The item is broken or empty")),
    ("offensive", gettext_lazy("The content is offensive or harmful")),
    ("outside my expertise", gettext_lazy("It needs knowledge I do not have")),
    ("wrong language", gettext_lazy("It is not in a language I can judge")),
]

View = Callable[..., HttpResponse]


def manager_required(view: View) -> View:
    """Let managers and admins through; send anonymous people to log in; refuse everybody else (403)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_manage_annotation(request.user):
            raise PermissionDenied(_("annotation projects are managed by managers and admins"))
        return view(request, *args, **kwargs)

    return login_required(guarded)


def _kind_label(project: Project) -> str:
    return str(KIND_LABELS.get(project.kind, project.kind))


def _guideline_context(project: Project) -> dict[str, Any]:
    guideline = project.current_guideline
    # markdown-it-py with HTML disabled escapes every tag of the text (annotation/markup.py): safe to mark safe.
    html = mark_safe(render_markdown_safely(guideline.text)) if guideline else ""
    return {"guideline": guideline, "guideline_html": html}


# --- the annotator's pages ---------------------------------------------------------------------------------


@login_required
@csp_protected
@require_GET
def annotator_home(request: HttpRequest) -> HttpResponse:
    """The projects the person is a member of, with their own progress in each."""
    cards = [{"card": card, "kind_label": _kind_label(card.project)}
             for card in pages.annotator_project_cards(request.user)]
    return render(request, "annotation/annotator_home.html", {"projects": cards, "nav": "annotate"})


@login_required
@csp_protected
@require_GET
def annotate(request: HttpRequest, project_id: int) -> HttpResponse:
    """One task per screen; annotate.js fetches, shows and submits the tasks through the API."""
    project = access_project_by_id(request.user, project_id)
    if not pages.is_member(request.user, project):
        # A manager sees every project but gets tasks only where they were added as a member.
        raise NotFound(_("You are not a member of this project."))
    progress = {**selectors.annotator_progress(project, request.user),
                "leased": pages.leased_count(request.user, project)}
    api_root = get_script_prefix() + "api/v1/"
    page_data = {
        "project": {
            "id": project.pk,
            "name": project.name,
            "kind": project.kind,
            "scale": project.scale,
            "criteria": project.criteria,
            "labels": project.labels,
            "multi_label": project.multi_label,
            "categories": project.categories,
            "instruction_format": project.instruction_format,
            "language": project.language,
            "break_after_minutes": project.break_after_minutes,
            "round_size": project.round_size,
            "min_length": project.min_length,
        },
        # The API's paths are fixed by its contract (issue 9, item 7), under the site's script prefix.
        "urls": {
            "next": f"{api_root}projects/{project.pk}/assignments/next/",
            "assignments": f"{api_root}assignments/",
            "project": f"{api_root}projects/{project.pk}/",
        },
        "progress": progress,
        "idle_seconds": IDLE_SECONDS,
        "strings": ui_strings.annotate_strings(),
    }
    context = {
        "project": project,
        "kind_label": _kind_label(project),
        "writes_text": project.kind in Project.WRITING_KINDS,
        "page_data": page_data,
        "skip_reasons": SKIP_REASONS,
        "nav": "annotate",
        **_guideline_context(project),
    }
    return render(request, "annotation/annotate.html", context)


@login_required
@csp_protected
@require_http_methods(["GET", "POST"])
def invite_accept_page(request: HttpRequest, token: str) -> HttpResponse:
    """Show the invitation; on POST make the logged-in person an annotator of its project."""
    if request.method == "POST":
        membership = invite_accept(token, request.user)
        messages.success(request, _("You joined %(name)s.") % {"name": membership.project.name})
        return redirect("annotation:annotate", project_id=membership.project_id)
    invite = pages.invite_by_token(token)
    return render(request, "annotation/invite_accept.html", {"invite": invite})


# --- the managers' pages -----------------------------------------------------------------------------------


@manager_required
@csp_protected
@require_GET
def project_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.projects_visible_to(request.user), PROJECTS_PER_PAGE).get_page(request.GET.get("page"))
    rows = [{**vars(row), "kind_label": _kind_label(row.project)} for row in pages.project_rows(list(page))]
    return render(request, "annotation/project_list.html",
                  {"page": page, "rows": rows, "nav": "annotation-projects"})


@manager_required
@csp_protected
@require_http_methods(["GET", "POST"])
def project_create_page(request: HttpRequest) -> HttpResponse:
    form = ProjectCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        project = form_apply(form, lambda: project_create(
            created_by=request.user, guideline=form.cleaned_data["guidelines"], **form.project_settings()))
        if project is not None:
            messages.success(request, _("Project %(name)s created.") % {"name": project.name})
            return redirect("annotation:project-detail", project_id=project.pk)
    return render(request, "annotation/project_create.html", {"form": form, "nav": "annotation-projects"})


def _settings_rows(project: Project) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [
        (_("Kind of task"), _kind_label(project)),
        (_("Overlap"), project.overlap),
        (_("Language of the items"), LANGUAGE_LABELS.get(project.language, project.language)),
        (_("Lease (seconds)"), project.lease_seconds),
        (_("Break reminder after (minutes of work)"), project.break_after_minutes),
    ]
    if project.kind == Project.KIND_LIKERT:
        rows += [(_("Likert scale"), f"1-{project.scale}"), (_("Likert criteria"), ", ".join(project.criteria))]
    if project.kind == Project.KIND_RANKING:
        rows.append((_("Responses per ranking round"), project.round_size))
    if project.kind == Project.KIND_LABEL:
        rows += [(_("Labels"), ", ".join(project.labels)), (_("Several labels per document"),
                                                             _("yes") if project.multi_label else _("no"))]
    if project.kind in Project.WRITING_KINDS:
        rows += [
            (_("Instruction format"), FORMAT_LABELS.get(project.instruction_format, project.instruction_format)),
            (_("Task categories"), ", ".join(project.categories)),
            (_("Minimum length of written text (characters)"), project.min_length),
            (_("Personal data in written text"), PII_LABELS.get(project.pii_policy, project.pii_policy)),
            (_("Near-duplicate threshold"), project.duplicate_threshold),
        ]
    return rows


def _project_page(request: HttpRequest, project: Project, **extra: Any) -> HttpResponse:
    submissions = selectors.latest_submissions(project, LATEST_SUBMISSIONS)
    for annotation in submissions:
        annotation.payload_text = pages.payload_text(annotation)  # type: ignore[attr-defined]
    context = {
        "project": project,
        "kind_label": _kind_label(project),
        "counts": selectors.project_counts(project),
        "annotators": selectors.progress_per_annotator(project),
        "submissions": submissions,
        "settings_rows": _settings_rows(project),
        "import_form": extra.pop("import_form", None) or ItemsImportForm(),
        "job_form": extra.pop("job_form", None) or ItemsFromJobForm(),
        "nav": "annotation-projects",
        **extra,
    }
    return render(request, "annotation/project_detail.html", context)


@manager_required
@csp_protected
@require_GET
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    """Progress, per-annotator progress, the latest submissions and the import forms of one project."""
    return _project_page(request, access_project_to_manage(request.user, project_id))


@manager_required
@csp_protected
@require_POST
def project_import(request: HttpRequest, project_id: int) -> HttpResponse:
    """Import items from an uploaded JSON Lines file; the good lines are imported, bad ones reported by number."""
    project = access_project_to_manage(request.user, project_id)
    form = ItemsImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        # The upload is read line by line as bytes; the service decodes each line and reports the bad ones.
        report = form_apply(form, lambda: items_import(project, form.cleaned_data["file"]))
    return _project_page(request, project, import_form=form if report is None else None, import_report=report)


@manager_required
@csp_protected
@require_POST
def project_from_job(request: HttpRequest, project_id: int) -> HttpResponse:
    """Add a curation job's kept (or removed) documents to the project as items."""
    project = access_project_to_manage(request.user, project_id)
    form = ItemsFromJobForm(request.POST)
    report = None
    if form.is_valid():
        data = form.cleaned_data
        report = form_apply(form, lambda: items_from_job(
            project, pages.job_by_id(data["job"]), kept=data["kept"], limit=data["limit"]))
    return _project_page(request, project, job_form=form if report is None else None, import_report=report)


@manager_required
@csp_protected
@require_GET
def project_items(request: HttpRequest, project_id: int) -> HttpResponse:
    project = access_project_to_manage(request.user, project_id)
    page = Paginator(selectors.project_items(project), ITEMS_PER_PAGE).get_page(request.GET.get("page"))
    for item in page:
        item.preview = pages.item_preview(item)  # type: ignore[attr-defined]
    return render(request, "annotation/project_items.html", {
        "project": project, "kind_label": _kind_label(project), "page": page, "nav": "annotation-projects"})


@manager_required
@csp_protected
@require_http_methods(["GET", "POST"])
def project_guidelines(request: HttpRequest, project_id: int) -> HttpResponse:
    """Edit the guidelines: each publish is a new version; the current one is shown as annotators see it."""
    project = access_project_to_manage(request.user, project_id)
    current = project.current_guideline
    form = GuidelineForm(request.POST if request.method == "POST" else None,
                         initial={"text": current.text if current else ""})
    if request.method == "POST" and form.is_valid():
        guideline = form_apply(form, lambda: guideline_publish(project, form.cleaned_data["text"], request.user))
        if guideline is not None:
            messages.success(request, _("Guidelines version %(version)s published.") % {"version": guideline.version})
            return redirect("annotation:project-guidelines", project_id=project.pk)
    return render(request, "annotation/project_guidelines.html", {
        "project": project, "kind_label": _kind_label(project), "form": form,
        "versions": project.guidelines.select_related("created_by").order_by("-version"),
        "nav": "annotation-projects", **_guideline_context(project)})


def _members_page(request: HttpRequest, project: Project, **extra: Any) -> HttpResponse:
    members = list(Membership.objects.filter(project=project).select_related("user").order_by("user__username"))
    for member in members:
        member.role_label = ROLE_LABELS.get(member.role, member.role)  # type: ignore[attr-defined]
    context = {
        "project": project,
        "kind_label": _kind_label(project),
        "members": members,
        "add_form": extra.pop("add_form", None) or MemberAddForm(),
        "csv_form": extra.pop("csv_form", None) or MembersImportForm(),
        "invite_form": extra.pop("invite_form", None) or InviteCreateForm(),
        "nav": "annotation-projects",
        **extra,
    }
    return render(request, "annotation/project_members.html", context)


@manager_required
@csp_protected
@require_http_methods(["GET", "POST"])
def project_members(request: HttpRequest, project_id: int) -> HttpResponse:
    """The members; on POST add one existing user by username, as annotator or reviewer."""
    project = access_project_to_manage(request.user, project_id)
    if request.method == "GET":
        return _members_page(request, project)
    form = MemberAddForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        membership = form_apply(form, lambda: membership_add_by_username(project, data["username"], data["role"]))
        if membership is not None:
            messages.success(request, _("%(name)s added.") % {"name": data["username"]})
            return redirect("annotation:project-members", project_id=project.pk)
    return _members_page(request, project, add_form=form)


@manager_required
@csp_protected
@require_POST
def project_members_import(request: HttpRequest, project_id: int) -> HttpResponse:
    """Add members from an uploaded CSV file; each bad line is reported with its number."""
    project = access_project_to_manage(request.user, project_id)
    form = MembersImportForm(request.POST, request.FILES)
    report = None
    if form.is_valid():
        report = form_apply(form, lambda: members_import_csv(project, form.cleaned_data["file"]))
    return _members_page(request, project, csv_form=form if report is None else None, csv_report=report)


@manager_required
@csp_protected
@require_POST
def project_invite(request: HttpRequest, project_id: int) -> HttpResponse:
    """Create an invite link and show it on the members page."""
    project = access_project_to_manage(request.user, project_id)
    form = InviteCreateForm(request.POST)
    invite_url = None
    if form.is_valid():
        invite = form_apply(form, lambda: invite_create(project, request.user, max_uses=form.cleaned_data["max_uses"],
                                                        days=form.cleaned_data["days"]))
        if invite is not None:
            invite_url = request.build_absolute_uri(reverse("annotation:invite-accept",
                                                            kwargs={"token": invite.token}))
    return _members_page(request, project, invite_form=form, invite_url=invite_url)
