"""Quality control's pages: the manager's dashboard (charts drawn in the browser from the JSON API) and the
reviewers' page (accept, edit or reject annotations, server-rendered forms).

Thin: guard, call one service or selector, render. The dashboard's script reads `GET /api/v1/projects/{id}/quality/`
and `.../leaderboard/` and draws with the vendored uPlot; its strings come translated through json_script (the
pages' CSP allows no inline script).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.roles import can_manage_annotation
from annotation.access_quality import access_annotation_to_review, access_project_quality, access_project_to_review
from annotation.csp import csp_protected
from annotation.forms_quality import QualitySettingsForm
from annotation.models import Project
from annotation.selectors_quality import annotation_reviews, effective_payload, review_queue
from annotation.services.quality import (
    gold_items_prepare,
    gold_promote_unanimous,
    quality_settings_get,
    quality_settings_update,
    review_submit,
)
from annotation.tasks_quality import project_quality_refresh_task
from core.errors import ValidationError
from core.forms import form_apply

FLAG_LABELS = {
    "too_fast": gettext_lazy("Too fast"),
    "straight_lining": gettext_lazy("Straight-lining"),
    "position_bias": gettext_lazy("Position bias"),
    "length_bias": gettext_lazy("Length bias"),
    "low_gold_accuracy": gettext_lazy("Low gold accuracy"),
}


def quality_strings() -> dict[str, Any]:
    """Every string dashboard.js shows, in the language of the current request."""
    return {
        "loading": _("Loading the figures…"),
        "load_failed": _("The figures could not be loaded (%(status)s)."),
        "no_data": _("No data yet."),
        "annotations": _("Annotations"),
        "active_hours": _("Active hours"),
        "agreement": _("Agreement"),
        "tasks": _("Tasks"),
        "seconds": _("Seconds per task"),
        "share_first": _("First shown chosen"),
        "share_longer": _("Longer chosen"),
        "even": _("No bias (0.5)"),
        "items": _("items"),
        "unknown": _("–"),
        "pause": _("Pause"),
        "resume": _("Resume"),
        "paused": _("paused"),
        "pause_failed": _("Could not change the pause (%(status)s)."),
        "trust_inputs": _("gold lower bound %(gold)s, agreement %(agreement)s"),
        "gold_cell": _("%(accuracy)s (%(correct)s/%(n)s, 95%% CI %(low)s–%(high)s)"),
        "flags": {key: str(label) for key, label in FLAG_LABELS.items()},
        "metrics": {
            "krippendorff_alpha": _("Krippendorff's alpha"),
            "fleiss_kappa": _("Fleiss' kappa"),
            "kendall_tau": _("Kendall's tau"),
            "pairwise_agreement": _("Pairwise agreement"),
        },
        "overall": _("All criteria"),
        "time": _("Time"),
        "annotator": _("Annotator"),
        "levels": {"ordinal": _("ordinal"), "nominal": _("nominal")},
        "units": {"h": _("h"), "min": _("min"), "s": _("s")},
        "rating_ci": _("%(low)s – %(high)s"),
        "no_leaderboard": _("No leaderboard: the responses of this project carry no model names."),
    }


def _dashboard(request: HttpRequest, project: Project, form: QualitySettingsForm | None = None,
               status: int = 200) -> HttpResponse:
    if form is None:
        form = QualitySettingsForm(initial=QualitySettingsForm.initial_for(project, quality_settings_get(project)))
    page_data = {
        "project_id": project.pk,
        "quality_url": reverse("api-project-quality", kwargs={"project_id": project.pk}),
        "leaderboard_url": reverse("api-project-leaderboard", kwargs={"project_id": project.pk}),
        "pause_url": reverse("api-member-pause", kwargs={"project_id": project.pk, "user_id": 0}),
        "strings": quality_strings(),
    }
    return render(request, "annotation/quality/dashboard.html",
                  {"project": project, "page_data": page_data, "nav": "annotation-projects", "tab": "quality",
                   "settings_form": form}, status=status)


@login_required
@csp_protected
@require_GET
def project_quality(request: HttpRequest, project_id: int) -> HttpResponse:
    """The manager's quality dashboard of one project."""
    return _dashboard(request, access_project_quality(request.user, project_id))


@login_required
@csp_protected
@require_POST
def project_quality_settings(request: HttpRequest, project_id: int) -> HttpResponse:
    """Save the project's quality-control settings; a bad value is shown on its field."""
    project = access_project_quality(request.user, project_id)
    form = QualitySettingsForm(request.POST)
    if form.is_valid() and form_apply(form, lambda: quality_settings_update(project, form.cleaned_data)):
        messages.success(request, _("Settings saved. They apply from the next recomputation."))
        return redirect("annotation:project-quality", project_id=project.pk)
    return _dashboard(request, project, form, status=400)


@login_required
@csp_protected
@require_POST
def project_gold_promote(request: HttpRequest, project_id: int) -> HttpResponse:
    """Make gold items of the finished items every annotator agreed on."""
    project = access_project_quality(request.user, project_id)
    promoted = gold_promote_unanimous(project, max(2, project.overlap))
    gold_items_prepare(project)
    messages.success(request, ngettext("%(count)d item is now a gold item.", "%(count)d items are now gold items.",
                                       promoted) % {"count": promoted})
    return redirect("annotation:project-quality", project_id=project.pk)


@login_required
@csp_protected
@require_POST
def project_quality_refresh(request: HttpRequest, project_id: int) -> HttpResponse:
    """Queue a recomputation of the project's quality figures."""
    project = access_project_quality(request.user, project_id)
    project_quality_refresh_task.apply_async(args=[project.pk])
    messages.info(request, _("The figures are being recomputed; reload the page in a moment."))
    return redirect("annotation:project-quality", project_id=project.pk)


def _review_card(annotation: Any) -> dict[str, Any]:
    item = annotation.item
    return {
        "annotation": annotation,
        "responses": [{"id": r.get("id"), "text": r.get("text", "")} for r in item.responses or []],
        "payload_json": json.dumps(annotation.payload, ensure_ascii=False, indent=1),
        "effective_json": json.dumps(effective_payload(annotation), ensure_ascii=False, indent=1),
        "reviews": annotation_reviews(annotation),
    }


@login_required
@csp_protected
@require_GET
def project_review(request: HttpRequest, project_id: int) -> HttpResponse:
    """The reviewers' queue: annotations of items routed to review, or every undecided one with ?all=1."""
    project = access_project_to_review(request.user, project_id)
    routed_only = request.GET.get("all") != "1"
    cards = [_review_card(annotation) for annotation in review_queue(project, routed_only=routed_only, limit=30)]
    return render(request, "annotation/quality/review.html", {
        "project": project, "cards": cards, "routed_only": routed_only, "nav": "annotation-projects",
        "tab": "review", "is_manager": can_manage_annotation(request.user),
    })


@login_required
@csp_protected
@require_POST
def annotation_review(request: HttpRequest, annotation_id: int) -> HttpResponse:
    """Accept, edit (with the corrected payload as JSON) or reject one annotation, then back to the queue."""
    annotation = access_annotation_to_review(request.user, annotation_id)
    action = request.POST.get("action", "")
    payload = None
    if action == "edit":
        try:
            payload = json.loads(request.POST.get("payload", ""))
        except json.JSONDecodeError as error:
            raise ValidationError(_("The corrected answer is not valid JSON: %(error)s") % {"error": error.msg},
                                  field="payload") from error
    review_submit(request.user, annotation, action, payload, request.POST.get("comment", ""))
    messages.success(request, _("Review saved."))
    target = reverse("annotation:project-review", kwargs={"project_id": annotation.project_id})
    if request.POST.get("all") == "1":
        target += "?all=1"
    return redirect(target)
