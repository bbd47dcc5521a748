"""The data engineers' console: server-rendered pages over the curation services and selectors.

Every page and action here is for data engineers and admins (`curator_required`): anonymous users are sent to
the login page and everybody else (annotators) gets 403. Views validate, call one service or selector, and
render. The job page's numbers are refreshed in place by static/curation/console.js, which polls
`job_progress_json` every two seconds until the job is finished.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import can_curate
from core.forms import form_apply
from curation.forms import JobSubmitForm, ScheduleCreateForm
from curation.models import Job, Shard
from curation.selectors import (
    access_dedup_cluster,
    access_dedup_step,
    access_job_by_id,
    access_schedule_by_id,
    dedup_cluster_documents,
    dedup_step_overview,
    existing_job_ids,
    job_dedup_steps,
    job_progress,
    job_removal_reasons,
    job_samples,
    jobs_overview,
    schedules_visible_to,
)
from curation.services.jobs import job_cancel, job_submit
from curation.services.schedules import schedule_create, schedule_delete
from curation.steps.dedup.clusters import ClusterMember
from curation.steps.document import Document

JOBS_PER_PAGE = 50
SAMPLES_PER_PAGE = 25
# Removed-reason segments of a funnel bar cycle through this many colours (console.css: .r0 ... .r5).
REASON_COLOURS = 6
CLUSTERS_PER_PAGE = 25
CLUSTER_MEMBERS_PER_PAGE = 20
# The start of each member's text shown (and compared) on the cluster page.
CLUSTER_TEXT_CHARS = 1500
# Above this many distinct cluster sizes the histogram groups sizes above 4 into powers of two (5-8, 9-16, ...).
HISTOGRAM_MAX_BARS = 24

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
        job = form_apply(form, lambda: job_submit(
            recipe=form.recipe_source(),
            inputs=form.cleaned_data["inputs"],
            output=form.cleaned_data["output"] or None,
            reader_overrides=form.reader_overrides(),
            dedup_index=form.cleaned_data["dedup_index"] or None,
            user=request.user,
        ))
        if job is not None:
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
        "has_dedup": bool(job_dedup_steps(job)),
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


# --- duplicates ---------------------------------------------------------------------------------------------

# A token of the cluster page's highlight: a word of a script written with spaces, or one character of a script
# written without (CJK, kana, hangul), or a run of spaces, or any other single character. Tokens join back into
# the text exactly, so the highlighted text is the text.
_UNSPACED = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_DIFF_TOKEN = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+|\s+|.", re.DOTALL)


def _histogram_rows(histogram: dict[int, int]) -> list[dict[str, Any]]:
    """Bars of the cluster-size histogram, one per size (or range of sizes), lengths on a log scale of the counts.

    A log scale, because documents without duplicates (size 1) outnumber the large clusters by orders of magnitude.
    """
    bins: list[list[int]] = []  # [smallest size, largest size, clusters]
    grouped = len(histogram) > HISTOGRAM_MAX_BARS
    for size, count in sorted(histogram.items()):
        low = high = size
        if grouped and size > 4:
            high = 1 << (size - 1).bit_length()
            low = high // 2 + 1
        if bins and bins[-1][0] == low:
            bins[-1][2] += count
        else:
            bins.append([low, high, count])
    top = max((count for _low, _high, count in bins), default=0)
    return [
        {"low": low, "high": high, "label": str(low) if low == high else f"{low}–{high}", "count": count,
         "width": f"{100 * math.log1p(count) / math.log1p(top):.1f}%" if top else "0%"}
        for low, high, count in bins
    ]


def _page_urls(query: QueryDict, param: str, page: Page) -> dict[str, str]:
    """Previous and next links of one of several paginated lists on a page, each with its own page parameter."""

    def url(number: int) -> str:
        params = query.copy()
        params[param] = str(number)
        return f"?{params.urlencode()}"

    return {
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }


def _diff_segments(kept: str, removed: str) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Split two texts into (text, differs) segments: what only one of them has is marked on its side."""
    kept_tokens = _DIFF_TOKEN.findall(kept)
    removed_tokens = _DIFF_TOKEN.findall(removed)
    matcher = difflib.SequenceMatcher(None, kept_tokens, removed_tokens, autojunk=False)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        differs = tag != "equal"
        if i2 > i1:
            left.append(("".join(kept_tokens[i1:i2]), differs))
        if j2 > j1:
            right.append(("".join(removed_tokens[j1:j2]), differs))
    return left, right


def _member_view(member: ClusterMember, documents: dict[tuple[int, str], Document], jobs: set[int],
                 job: Job) -> dict[str, Any]:
    doc = documents.get((member.job_id, member.id))
    text = (doc.get("text") or "") if doc is not None else ""
    return {
        "member": member,
        "found": doc is not None,
        "text": text[:CLUSTER_TEXT_CHARS],
        "truncated": len(text) > CLUSTER_TEXT_CHARS,
        "url": (doc.get("url") or "") if doc is not None else "",
        "lang": (doc.get("lang") or "") if doc is not None else "",
        "earlier": member.job_id != job.pk,
        "job_exists": member.job_id in jobs,
    }


@curator_required
@require_GET
def job_dedup_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    steps = []
    for overview in map(dedup_step_overview, job_dedup_steps(job)):
        param = f"page-{overview.step.position}"
        page = Paginator(overview.clusters, CLUSTERS_PER_PAGE).get_page(request.GET.get(param))
        steps.append({
            "step": overview.step,
            "summary": overview.summary,
            "histogram": _histogram_rows(overview.histogram),
            "page": page,
            **_page_urls(request.GET, param, page),
        })
    # Kept documents of earlier jobs link to those jobs, unless they were deleted since.
    jobs = existing_job_ids(cluster.kept.job_id for entry in steps for cluster in entry["page"])
    return render(request, "curation/job_dedup.html", {"job": job, "steps": steps, "jobs": jobs, "nav": "jobs"})


@curator_required
@require_GET
def job_dedup_cluster_page(request: HttpRequest, job_id: int, position: int, cluster_id: str) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    step = access_dedup_step(job, position)
    cluster = access_dedup_cluster(step, cluster_id)
    page = Paginator(cluster.removed, CLUSTER_MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    members = [cluster.kept, *page]
    documents = dedup_cluster_documents(job, cluster, members=members, position=step.position)
    jobs = existing_job_ids(member.job_id for member in members)
    kept = _member_view(cluster.kept, documents, jobs, job)
    rows = []
    for member in page:
        removed = _member_view(member, documents, jobs, job)
        kept_segments, removed_segments = (
            _diff_segments(kept["text"], removed["text"]) if kept["found"] and removed["found"] else ([], [])
        )
        rows.append({"removed": removed, "sides": [(kept, kept_segments), (removed, removed_segments)]})
    context = {"job": job, "step": step, "cluster": cluster, "kept": kept, "rows": rows, "page": page,
               "nav": "jobs"}
    return render(request, "curation/job_dedup_cluster.html", context)


# --- schedules ----------------------------------------------------------------------------------------------


@curator_required
@require_http_methods(["GET", "POST"])
def schedule_list(request: HttpRequest) -> HttpResponse:
    form = ScheduleCreateForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        schedule = form_apply(form, lambda: schedule_create(
            name=values["name"],
            recipe=values["recipe"],
            inputs=values["inputs"],
            output=values["output"],
            every_minutes=values["every_minutes"],
            crontab=values["crontab"].strip() or None,
            dedup_index=values["dedup_index"] or None,
            user=request.user,
        ))
        if schedule is not None:
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
