"""The exports pages: list, new export (from a project's page: /exports/new/?project=ID), an export with its
progress, card and downloads. For trainers, managers and admins; everybody else gets 403.

The export page's progress is refreshed in place by static/exports/exports.js, which polls `export_progress_json`
every second until the export is finished, then reloads once to show the card and the files.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods
from fsspec.core import url_to_fs  # type: ignore[import-untyped]

from core.forms import form_apply
from exports.forms import ExportForm
from exports.permissions import can_export
from exports.selectors import (
    access_export_by_id,
    export_file_path,
    export_files,
    export_progress,
    exports_visible_to,
)
from exports.services import export_create

EXPORTS_PER_PAGE = 50
View = Callable[..., HttpResponse]


def exporter_required(view: View) -> View:
    """Log in first; then only trainers, managers and admins (403 for everyone else)."""

    @login_required
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_export(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return guarded


@exporter_required
@require_GET
def export_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(exports_visible_to(request.user), EXPORTS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "exports/export_list.html", {"page": page, "nav": "exports"})


@exporter_required
@require_http_methods(["GET", "POST"])
def export_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            export = form_apply(form, lambda: export_create(request.user, **form.export_arguments()))
            if export is not None:
                return redirect("exports:export-detail", export_id=export.pk)
    else:
        initial: dict[str, Any] = {}
        project = request.GET.get("project", "")
        if project.isdigit():
            initial["projects"] = [int(project)]
            initial["format"] = request.GET.get("format", "")
        form = ExportForm(initial=initial)
    return render(request, "exports/export_new.html", {"form": form, "nav": "exports"})


@exporter_required
@require_GET
def export_detail(request: HttpRequest, export_id: int) -> HttpResponse:
    export = access_export_by_id(request.user, export_id)
    return render(request, "exports/export_detail.html", {
        "export": export, "progress": export_progress(export), "files": export_files(export), "card": export.card,
        "nav": "exports",
    })


@exporter_required
@never_cache
@require_GET
def export_progress_json(request: HttpRequest, export_id: int) -> JsonResponse:
    return JsonResponse(export_progress(access_export_by_id(request.user, export_id)))


@exporter_required
@require_GET
def export_download(request: HttpRequest, export_id: int, name: str) -> FileResponse:
    export = access_export_by_id(request.user, export_id)
    fs, path = url_to_fs(export_file_path(export, name))
    return FileResponse(fs.open(path, "rb"), as_attachment=True, filename=posixpath.basename(path))
