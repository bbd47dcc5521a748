"""The landing page after login (each role goes where its work is), and the "API token" page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import ApiToken
from accounts.roles import ANNOTATOR, can_curate, can_manage_annotation, user_has_role
from accounts.services import can_use_api, token_revoke, token_rotate


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


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def api_token_page(request: HttpRequest) -> HttpResponse:
    """GET: the user's tokens (prefix, dates; never a key). POST action=regenerate: revoke them all and show a new
    key once, on this response only; POST action=revoke: revoke them all."""
    new_key = ""
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            token_revoke(request.user)
            return redirect("accounts:token")
        new_key = token_rotate(request.user)
    tokens = list(ApiToken.objects.filter(user=request.user))
    return render(request, "accounts/api_token.html", {
        "nav": "token", "tokens": tokens, "new_key": new_key, "now": timezone.now(),
        "allowed": can_use_api(request.user),
    })
