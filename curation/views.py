"""The data engineers' console: server-rendered pages over the curation services and selectors.

Every page and action here is for data engineers and admins (`curator_required`): anonymous users are sent to
the login page and everybody else (annotators) gets 403. Views validate, call one service or selector, and
render. The job page's numbers are refreshed in place by static/curation/console.js, which polls
`job_progress_json` every two seconds until the job is finished.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import can_curate
from curation.forms import JobSubmitForm, ScheduleCreateForm
from curation.models import Job, Shard
from curation.schedules import schedule_create, schedule_delete
from curation.selectors import (
    access_job_by_id,
    access_schedule_by_id,
    job_progress,
    job_removal_reasons,
    job_samples,
    jobs_overview,
    schedules_visible_to,
)
from curation.services import JobError, job_cancel, job_submit

JOBS_PER_PAGE = 50
SAMPLES_PER_PAGE = 25
# Removed-reason segments of a funnel bar cycle through this many colours (console.css: .r0 ... .r5).
REASON_COLOURS = 6

STAGE_KIND_LABELS = {
    Shard.Kind.MAP: gettext_lazy("map"),
    Shard.Kind.REDUCE: gettext_lazy("reduce"),
    Shard.Kind.FINISH: gettext_lazy("finish"),
}
STATUS_LABELS = {
    Job.Status.PENDING: gettext_lazy("pending"),
    Job.Status.RUNNING: gettext_lazy("running"),
    Job.Status.COMPLETED: gettext_lazy("completed"),
    Job.Status.FAILED: gettext_lazy("failed"),
    Job.Status.CANCELLED: gettext_lazy("cancelled"),
}

View = Callable[..., HttpResponse]


def curator_required(view: View) -> View:
    """Let data engineers and admins through; send anonymous users to log in; refuse everybody else (403)."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not can_curate(request.user):
            raise PermissionDenied("curation is for data engineers and admins")
        return view(request, *args, **kwargs)

    return login_required(guarded)


# --- presentation helpers (mirrored by console.js, which redraws the same markup from progress.json) ----------


def _percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.2f}%" if whole else "0%"


def _funnel_rows(funnel: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars per step, scaled to the largest step input: a kept segment, then one segment per removal reason."""
    base = max((row["docs_in"] for row in funnel), default=0)
    rows = []
    for row in funnel:
        removed = sorted((row.get("removed") or {}).items(), key=lambda item: (-item[1], item[0]))
        rows.append({
            "name": row["name"],
            "docs_in": row["docs_in"],
            "kept": row["kept"],
            "kept_width": _percent(row["kept"], base),
            "removed_total": sum(n for _reason, n in removed),
            "reasons": [
                {"reason": reason, "count": n, "width": _percent(n, base), "colour": i % REASON_COLOURS}
                for i, (reason, n) in enumerate(removed)
            ],
        })
    return rows


def _read_error_rows(read_errors: dict[str, Any]) -> list[dict[str, Any]]:
    """Flatten ReadErrors.to_dict()'s {"files": {file: {kind: {count, messages}}}} into table rows."""
    rows = []
    for file, kinds in sorted(read_errors.get("files", {}).items()):
        for kind, entry in sorted(kinds.items()):
            rows.append({"file": file, "kind": kind, "count": entry.get("count", 0),
                         "messages": entry.get("messages", [])})
    return rows


def _progress_context(progress: dict[str, Any]) -> dict[str, Any]:
    return {
        "progress": progress,
        "percent_done": int(progress["fraction_done"] * 100),
        "stages": [{**stage, "kind_label": STAGE_KIND_LABELS.get(stage["kind"], stage["kind"])}
                   for stage in progress["stages"]],
        "funnel": _funnel_rows(progress["funnel"]),
        "read_error_rows": _read_error_rows(progress["read_errors"]),
        "errors_by_kind": sorted(progress["errors_by_kind"].items(), key=lambda item: (-item[1], item[0])),
    }


# --- jobs ---------------------------------------------------------------------------------------------------


@curator_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(jobs_overview(request.user), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "curation/job_list.html", {"page": page, "nav": "jobs"})


@curator_required
@require_http_methods(["GET", "POST"])
def job_submit_page(request: HttpRequest) -> HttpResponse:
    form = JobSubmitForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            job = job_submit(
                recipe=form.recipe_source(),
                inputs=form.cleaned_data["inputs"],
                output=form.cleaned_data["output"] or None,
                reader_overrides=form.reader_overrides(),
                dedup_index=form.cleaned_data["dedup_index"] or None,
                user=request.user,
            )
        except JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Job %(id)s submitted.") % {"id": job.pk})
            return redirect("curation:job-detail", job_id=job.pk)
    return render(request, "curation/job_submit.html", {"form": form, "nav": "submit"})


@curator_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    context = {
        "job": job,
        "status_labels": STATUS_LABELS,
        "finished_statuses": list(Job.FINISHED),
        "nav": "jobs",
        **_progress_context(job_progress(job)),
    }
    return render(request, "curation/job_detail.html", context)


@never_cache
@curator_required
@require_GET
def job_progress_json(request: HttpRequest, job_id: int) -> JsonResponse:
    return JsonResponse(job_progress(access_job_by_id(request.user, job_id)))


@curator_required
@require_POST
def job_cancel_action(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    was_finished = job.is_finished
    job = job_cancel(job)
    if was_finished:
        messages.info(request, _("Job %(id)s had already finished.") % {"id": job.pk})
    else:
        messages.success(request, _("Job %(id)s cancelled.") % {"id": job.pk})
    return redirect("curation:job-detail", job_id=job.pk)


@curator_required
@require_GET
def job_samples_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    kept = request.GET.get("kept") == "1"
    reason = "" if kept else request.GET.get("reason", "")
    samples = job_samples(job, kept=kept, reason=reason or None)
    page = Paginator(samples, SAMPLES_PER_PAGE).get_page(request.GET.get("page"))
    rows = [
        {"sample": sample,
         "signals": json.dumps(sample.document.get("signals") or {}, indent=2, ensure_ascii=False, sort_keys=True),
         "lang": sample.document.get("lang") or ""}
        for sample in page
    ]
    context = {"job": job, "page": page, "rows": rows, "kept": kept, "reason": reason,
               "reasons": job_removal_reasons(job), "nav": "jobs"}
    return render(request, "curation/job_samples.html", context)


# --- schedules ----------------------------------------------------------------------------------------------


@curator_required
@require_http_methods(["GET", "POST"])
def schedule_list(request: HttpRequest) -> HttpResponse:
    form = ScheduleCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            schedule = schedule_create(
                name=values["name"],
                recipe=values["recipe"],
                inputs=values["inputs"],
                output=values["output"],
                every_minutes=values["every_minutes"],
                crontab=values["crontab"].strip() or None,
                dedup_index=values["dedup_index"] or None,
                user=request.user,
            )
        except JobError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Schedule “%(name)s” created.") % {"name": schedule.name})
            return redirect("curation:schedule-list")
    schedules = schedules_visible_to(request.user)
    return render(request, "curation/schedule_list.html", {"form": form, "schedules": schedules, "nav": "schedules"})


@curator_required
@require_POST
def schedule_delete_action(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule_by_id(request.user, schedule_id)
    name = schedule.name
    schedule_delete(schedule)
    messages.success(request, _("Schedule “%(name)s” deleted.") % {"name": name})
    return redirect("curation:schedule-list")
