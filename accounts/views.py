"""The landing page after login: each role goes where its work is."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.roles import ANNOTATOR, can_curate, can_manage_annotation, user_has_role


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Data engineers and admins go to the job list, managers to their annotation projects, annotators to their
    projects to annotate; everybody else sees the plain home page."""
    if can_curate(request.user):
        return redirect("curation:job-list")
    if can_manage_annotation(request.user):
        return redirect("annotation:project-list")
    if user_has_role(request.user, ANNOTATOR):
        return redirect("annotation:annotator-home")
    return render(request, "accounts/home.html", {"nav": "home"})
