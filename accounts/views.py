"""The landing page after login: each role goes where its work is."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from accounts.roles import can_curate


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Data engineers and admins go to the job list; everybody else sees their (annotation) home page."""
    if can_curate(request.user):
        return redirect("curation:job-list")
    return render(request, "accounts/home.html", {"nav": "home"})
