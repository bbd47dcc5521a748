"""The data engineers' console: server-rendered pages over the curation services and selectors.

Every page and action here is for data engineers and admins (`curator_required`): anonymous users are sent to
the login page and everybody else (annotators) gets 403. Views validate, call one service or selector, and
render. The job page's numbers are refreshed in place by static/curation/console.js, which polls
`job_progress_json` every two seconds until the job is finished.
"""

from __future__ import annotations

import csv
import difflib
import json
import math
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.roles import can_curate
from core.forms import form_apply
from curation.forms import JobSubmitForm, ScheduleCreateForm
from curation.models import Job, JobSchedule, Shard
from curation.selectors import (
    access_dedup_cluster,
    access_dedup_index_by_name,
    access_dedup_step,
    access_job_by_id,
    access_schedule_by_id,
    builtin_recipes_overview,
    dedup_cluster_documents,
    dedup_index_summary,
    dedup_indexes_overview,
    dedup_step_overview,
    existing_job_ids,
    job_dedup_steps,
    job_filter_choices,
    job_progress,
    job_recipe,
    job_removal_reasons,
    job_samples,
    jobs_overview,
    sample_thresholds,
    schedule_next_run,
    scheduler_alive,
    schedules_visible_to,
    workers_alive,
)
from curation.services.dedup_indexes import dedup_index_delete
from curation.services.jobs import job_cancel, job_delete, job_submit
from curation.services.schedules import (
    schedule_create,
    schedule_delete,
    schedule_run_now,
    schedule_set_paused,
    schedule_update,
)
from curation.steps.dedup.clusters import ClusterMember
from curation.steps.document import Document
from curation.steps.recipe import builtin_recipe_names

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

# Read problems that are what a crawl holds rather than faults: records that are not HTML (robots.txt, images,
# PDFs) and responses with a status other than 200 (redirects, not found).
EXPECTED_SKIPS = frozenset({"not_html", "http_status"})
READ_ERROR_LABELS = {
    "truncated": gettext_lazy("cut off"),
    "corrupt": gettext_lazy("corrupt"),
    "too_large": gettext_lazy("too large"),
    "not_html": gettext_lazy("not HTML (robots.txt, images, other files)"),
    "http_status": gettext_lazy("HTTP status other than 200 (redirects, not found)"),
    "content_encoding": gettext_lazy("unreadable content encoding"),
    "bad_encoding": gettext_lazy("bad character encoding"),
    "bad_json": gettext_lazy("not valid JSON"),
    "missing_text": gettext_lazy("no text field"),
    "lone_surrogate": gettext_lazy("lone UTF-16 surrogates (kept, replaced)"),
}
# Files listed per read-error kind on the job page; the full list is a download.
TOP_ERROR_FILES = 5

STAGE_KIND_LABELS = {
    Shard.Kind.MAP: gettext_lazy("map"),
    Shard.Kind.REDUCE: gettext_lazy("reduce"),
    Shard.Kind.FINISH: gettext_lazy("finish"),
}
STATUS_LABELS = {
    "planning": gettext_lazy("planning"),
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


def _short_message(file: str, message: str) -> str:
    """A read-error message without the file path it starts with (the table names the file once)."""
    for prefix in (f"{file}: ", f"{file} "):
        if message.startswith(prefix):
            return message[len(prefix):]
    return message


def _read_error_summary(read_errors: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Read problems by kind, expected skips apart from errors, each with its few files with the most.

    Expected skips (non-HTML records such as robots.txt and images, HTTP redirects and other statuses) are what
    a crawl holds, not faults; they are counted, never listed as errors.
    """
    kinds: dict[str, dict[str, Any]] = {}
    for file, by_kind in read_errors.get("files", {}).items():
        for kind, entry in by_kind.items():
            row = kinds.setdefault(kind, {"kind": kind, "count": 0, "files": []})
            row["count"] += entry.get("count", 0)
            row["files"].append({"file": file, "count": entry.get("count", 0),
                                 "message": _short_message(file, (entry.get("messages") or [""])[0])})
    summary: dict[str, list[dict[str, Any]]] = {"errors": [], "skips": []}
    for kind, row in sorted(kinds.items(), key=lambda item: (-item[1]["count"], item[0])):
        files = sorted(row["files"], key=lambda f: (-f["count"], f["file"]))
        row.update(label=READ_ERROR_LABELS.get(kind, kind), file_count=len(files), files=files[:TOP_ERROR_FILES])
        summary["skips" if kind in EXPECTED_SKIPS else "errors"].append(row)
    return summary


def _stage_steps(recipe_steps: list[str], stages: list[dict[str, Any]]) -> list[str]:
    """Per stage, which recipe steps (numbered from 1) it runs: map stages run the steps up to the next global
    step, a reduce stage runs its global step, the finish stage publishes."""
    labels = []
    for stage in stages:
        positions = stage.get("steps") or []
        labels.append(", ".join(f"{p + 1}. {recipe_steps[p]}" for p in positions if 0 <= p < len(recipe_steps)))
    return labels


def _timing(job: Job, progress: dict[str, Any]) -> dict[str, Any]:
    """Duration (so far), finish time, documents read per second, and an estimate of the time left."""
    start = job.started_at or job.created_at
    end = job.finished_at if job.is_finished else timezone.now()
    seconds = max((end - start).total_seconds(), 0.0) if start and end else 0.0
    read = progress["documents"]["read"]
    fraction = progress["fraction_done"]
    eta = None
    if not job.is_finished and 0 < fraction < 1 and seconds > 0:
        eta = timedelta(seconds=round(seconds * (1 - fraction) / fraction))
    return {"duration": timedelta(seconds=round(seconds)), "finished_at": job.finished_at,
            "throughput": round(read / seconds, 1) if seconds else None, "eta": eta}


def _progress_context(progress: dict[str, Any], recipe_steps: list[str] | None = None) -> dict[str, Any]:
    steps = recipe_steps or []
    stage_steps = _stage_steps(steps, progress["stages"])
    return {
        "progress": progress,
        "percent_done": int(progress["fraction_done"] * 100),
        "stages": [{**stage, "number": stage["stage"] + 1, "steps_label": label,
                    "kind_label": STAGE_KIND_LABELS.get(stage["kind"], stage["kind"])}
                   for stage, label in zip(progress["stages"], stage_steps, strict=True)],
        "funnel": _funnel_rows(progress["funnel"]),
        "read_errors": _read_error_summary(progress["read_errors"]),
        "errors_by_kind": sorted(progress["errors_by_kind"].items(), key=lambda item: (-item[1], item[0])),
    }


# --- jobs ---------------------------------------------------------------------------------------------------


def _job_filters(request: HttpRequest) -> dict[str, str]:
    return {key: request.GET.get(key, "").strip() for key in ("status", "recipe", "submitter")}


@curator_required
@require_GET
def job_list(request: HttpRequest) -> HttpResponse:
    filters = _job_filters(request)
    page = Paginator(jobs_overview(request.user, **filters), JOBS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page, "nav": "jobs", "filters": filters, "filter_query": query.urlencode(),
        "status_choices": [(value, STATUS_LABELS.get(value, value)) for value in Job.Status.values],
        "status_labels": STATUS_LABELS,
        "live": any(not job.is_finished for job in page.object_list),
        **job_filter_choices(),
    }
    if request.GET.get("fragment") == "rows":
        # The list's live refresh (console.js) swaps in the rows only.
        return render(request, "curation/job_rows.html", context)
    return render(request, "curation/job_list.html", context)


def _submit_initial(request: HttpRequest) -> dict[str, Any]:
    """Initial values of the submit form: a built-in recipe (?recipe=), or a copy of a job (?from=, resubmit;
    ?from=&edit=1, its recipe as YAML to edit)."""
    initial: dict[str, Any] = {}
    if request.GET.get("recipe") in builtin_recipe_names():
        initial["recipe"] = request.GET["recipe"]
    source_id = request.GET.get("from", "")
    if source_id.isdigit():
        source = access_job_by_id(request.user, int(source_id))
        if request.GET.get("edit") == "1" or source.recipe_name not in builtin_recipe_names():
            initial["recipe_yaml"] = source.recipe_yaml
            initial["recipe"] = ""
        else:
            initial["recipe"] = source.recipe_name
        initial.update(
            inputs="\n".join(source.inputs),
            dedup_index=source.dedup_index.name if source.dedup_index else "",
            text_field=(source.reader_options or {}).get("text_field", ""),
            format=(source.reader_options or {}).get("format", ""),
        )
    return initial


@curator_required
@require_http_methods(["GET", "POST"])
def job_submit_page(request: HttpRequest) -> HttpResponse:
    form = JobSubmitForm(request.POST if request.method == "POST" else None,
                         initial=_submit_initial(request) if request.method == "GET" else None)
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
    return render(request, "curation/job_submit.html",
                  {"form": form, "nav": "submit", "builtin_recipes": builtin_recipes_overview()})


@curator_required
@require_GET
def job_detail(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    progress = job_progress(job)
    context = {
        "job": job,
        "status_labels": STATUS_LABELS,
        "finished_statuses": list(Job.FINISHED),
        "nav": "jobs",
        "has_dedup": bool(job_dedup_steps(job)),
        "timing": _timing(job, progress),
        "is_builtin": job.recipe_name in builtin_recipe_names(),
        **_progress_context(progress, progress["recipe_steps"]),
    }
    return render(request, "curation/job_detail.html", context)


@curator_required
@require_GET
def job_read_errors_csv(request: HttpRequest, job_id: int) -> HttpResponse:
    """Every read problem of the job, one row per file and kind, as CSV (the job page lists the top files)."""
    job = access_job_by_id(request.user, job_id)
    read_errors = job_progress(job)["read_errors"]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="job-{job.pk}-read-errors.csv"'
    writer = csv.writer(response)
    writer.writerow(["file", "kind", "expected_skip", "count", "first_message"])
    for file, kinds in sorted(read_errors.get("files", {}).items()):
        for kind, entry in sorted(kinds.items()):
            first = (entry.get("messages") or [""])[0]
            writer.writerow([file, kind, "yes" if kind in EXPECTED_SKIPS else "no", entry.get("count", 0),
                             _short_message(file, first)])
    return response


@never_cache
@curator_required
@require_GET
def job_progress_json(request: HttpRequest, job_id: int) -> JsonResponse:
    return JsonResponse(job_progress(access_job_by_id(request.user, job_id)))


@curator_required
@require_http_methods(["GET", "POST"])
def job_cancel_action(request: HttpRequest, job_id: int) -> HttpResponse:
    """GET asks first (a confirmation page saying what happens to the output); POST cancels."""
    job = access_job_by_id(request.user, job_id)
    if request.method == "GET":
        return render(request, "curation/job_cancel_confirm.html", {"job": job, "nav": "jobs"})
    was_finished = job.is_finished
    job = job_cancel(job, user=request.user)
    if was_finished:
        messages.info(request, _("Job %(id)s had already finished.") % {"id": job.pk})
    else:
        messages.success(request, _("Job %(id)s cancelled.") % {"id": job.pk})
    return redirect("curation:job-detail", job_id=job.pk)


@curator_required
@require_http_methods(["GET", "POST"])
def job_delete_action(request: HttpRequest, job_id: int) -> HttpResponse:
    """GET asks first (saying the job's files go too); POST deletes a failed or cancelled job."""
    job = access_job_by_id(request.user, job_id)
    if request.method == "GET":
        return render(request, "curation/job_delete_confirm.html", {"job": job, "nav": "jobs"})
    job_delete(job, user=request.user)
    messages.success(request, _("Job %(id)s deleted, with its files.") % {"id": job_id})
    return redirect("curation:job-list")


@curator_required
@require_GET
def job_samples_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = access_job_by_id(request.user, job_id)
    kept = request.GET.get("kept") == "1"
    reason = "" if kept else request.GET.get("reason", "")
    samples = job_samples(job, kept=kept, reason=reason or None)
    page = Paginator(samples, SAMPLES_PER_PAGE).get_page(request.GET.get("page"))
    dedup_positions = {step.name: step.position for step in job_dedup_steps(job)}
    recipe_steps = [spec.name for spec in job_recipe(job).steps]
    rows = []
    for sample in page:
        document = sample.document or {}
        signals = document.get("signals") or {}
        position = dedup_positions.get(sample.removed_by)
        rows.append({
            "sample": sample,
            "heading": sample.url or str(document.get("title") or "") or sample.doc_id,
            # Only web addresses become links: a document's URL is untrusted (no javascript: or data: links).
            "href": sample.url if sample.url.lower().startswith(("http://", "https://")) else "",
            "signals": json.dumps(document.get("signals") or {}, indent=2, ensure_ascii=False, sort_keys=True),
            "lang": document.get("lang") or "",
            "thresholds": sample_thresholds(job, sample),
            # Steps are numbered from 1, as the recipe lists them.
            "step_number": recipe_steps.index(sample.removed_by) + 1 if sample.removed_by in recipe_steps else None,
            # A duplicate links to the cluster of the document it duplicates, when the step recorded which.
            "cluster_url": (
                reverse("curation:job-dedup-cluster", kwargs={
                    "job_id": job.pk, "position": position, "cluster_id": str(signals["cluster_id"])})
                # A cluster id with a line break has no URL (the path converter refuses it).
                if position is not None and signals.get("cluster_id") and "\n" not in str(signals["cluster_id"])
                else ""
            ),
            "is_duplicate": position is not None,
        })
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


def _diff_segments(kept: str, removed: str, *, cut_off: bool = False,
                   ) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """Split two texts into (text, differs) segments: what only one of them has is marked on its side.

    With `cut_off` (either text is only the start of its document), what follows the last common part is not
    marked: one text merely stops earlier than the other there, which says nothing about the documents.
    """
    kept_tokens = _DIFF_TOKEN.findall(kept)
    removed_tokens = _DIFF_TOKEN.findall(removed)
    matcher = difflib.SequenceMatcher(None, kept_tokens, removed_tokens, autojunk=False)
    opcodes = matcher.get_opcodes()
    last_equal = max((n for n, op in enumerate(opcodes) if op[0] == "equal"), default=-1)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for n, (tag, i1, i2, j1, j2) in enumerate(opcodes):
        differs = tag != "equal" and not (cut_off and n > last_equal >= 0)
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
def job_dedup_cluster_query_page(request: HttpRequest, job_id: int, position: int) -> HttpResponse:
    """The cluster page for an id given as `?id=` (one that is empty or holds a line break); 400 without one."""
    if "id" not in request.GET:
        return HttpResponseBadRequest(_("Which cluster? Give its id as ?id=."))
    return job_dedup_cluster_page(request, job_id, position, request.GET["id"])


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
            _diff_segments(kept["text"], removed["text"], cut_off=kept["truncated"] or removed["truncated"])
            if kept["found"] and removed["found"] else ([], [])
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
    schedules = [
        {"schedule": schedule, "next_run": schedule_next_run(schedule),
         "paused": schedule.periodic_task is not None and not schedule.periodic_task.enabled}
        for schedule in schedules_visible_to(request.user)
    ]
    context = {"form": form, "schedules": schedules, "nav": "schedules", "scheduler_alive": scheduler_alive(),
               "workers_alive": workers_alive()}
    return render(request, "curation/schedule_list.html", context)


def _schedule_initial(schedule: JobSchedule) -> dict[str, Any]:
    task = schedule.periodic_task
    crontab = task.crontab if task is not None else None
    return {
        "name": schedule.name,
        "recipe": schedule.recipe_name,
        "inputs": "\n".join(schedule.inputs),
        "output": schedule.output,
        "every_minutes": task.interval.every if task is not None and task.interval is not None else None,
        "crontab": " ".join([crontab.minute, crontab.hour, crontab.day_of_month, crontab.month_of_year,
                             crontab.day_of_week]) if crontab is not None else "",
        "dedup_index": schedule.dedup_index.name if schedule.dedup_index else "",
    }


@curator_required
@require_http_methods(["GET", "POST"])
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule_by_id(request.user, schedule_id)
    form = ScheduleCreateForm(request.POST if request.method == "POST" else None,
                              initial=_schedule_initial(schedule), editing=True)
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        updated = form_apply(form, lambda: schedule_update(
            schedule,
            recipe=values["recipe"],
            inputs=values["inputs"],
            output=values["output"],
            every_minutes=values["every_minutes"],
            crontab=values["crontab"].strip() or None,
            dedup_index=values["dedup_index"] or None,
        ))
        if updated is not None:
            messages.success(request, _("Schedule “%(name)s” saved.") % {"name": schedule.name})
            return redirect("curation:schedule-list")
    return render(request, "curation/schedule_edit.html", {"form": form, "schedule": schedule, "nav": "schedules"})


@curator_required
@require_POST
def schedule_pause_action(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule_by_id(request.user, schedule_id)
    paused = request.POST.get("paused") == "1"
    schedule_set_paused(schedule, paused)
    if paused:
        messages.success(request, _("Schedule “%(name)s” paused.") % {"name": schedule.name})
    else:
        messages.success(request, _("Schedule “%(name)s” resumed.") % {"name": schedule.name})
    return redirect("curation:schedule-list")


@curator_required
@require_POST
def schedule_run_now_action(request: HttpRequest, schedule_id: int) -> HttpResponse:
    schedule = access_schedule_by_id(request.user, schedule_id)
    schedule_run_now(schedule)
    messages.success(request, _("Schedule “%(name)s” sent to a worker; its job appears in the jobs list.")
                     % {"name": schedule.name})
    return redirect("curation:schedule-list")


@curator_required
@require_http_methods(["GET", "POST"])
def schedule_delete_action(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """GET asks first; POST deletes the schedule (its jobs stay)."""
    schedule = access_schedule_by_id(request.user, schedule_id)
    if request.method == "GET":
        return render(request, "curation/confirm.html", {
            "nav": "schedules",
            "title": _("Delete schedule “%(name)s”?") % {"name": schedule.name},
            "explanation": _("No more runs will start. The jobs it started stay, with their output."),
            "confirm_label": _("Delete schedule"),
            "back_url": reverse("curation:schedule-list"),
        })
    name = schedule.name
    schedule_delete(schedule, user=request.user)
    messages.success(request, _("Schedule “%(name)s” deleted.") % {"name": name})
    return redirect("curation:schedule-list")


# --- dedup indexes ------------------------------------------------------------------------------------------


@curator_required
@require_GET
def dedup_index_list(request: HttpRequest) -> HttpResponse:
    indexes = dedup_indexes_overview() if can_curate(request.user) else []
    return render(request, "curation/dedup_index_list.html", {"indexes": indexes, "nav": "dedup-indexes"})


@curator_required
@require_GET
def dedup_index_detail(request: HttpRequest, name: str) -> HttpResponse:
    index = access_dedup_index_by_name(request.user, name)
    summary = dedup_index_summary(index)
    jobs = index.jobs.select_related("created_by").order_by("-id")[:JOBS_PER_PAGE]
    return render(request, "curation/dedup_index_detail.html",
                  {"index": index, "summary": summary, "jobs": jobs, "nav": "dedup-indexes"})


@curator_required
@require_http_methods(["GET", "POST"])
def dedup_index_delete_action(request: HttpRequest, name: str) -> HttpResponse:
    """GET asks first; POST deletes the index and its files (refused while a job uses it)."""
    index = access_dedup_index_by_name(request.user, name)
    if request.method == "GET":
        return render(request, "curation/confirm.html", {
            "nav": "dedup-indexes",
            "title": _("Delete dedup index “%(name)s”?") % {"name": index.name},
            "explanation": _("Its files are deleted: later jobs no longer find duplicates of the documents it "
                             "holds. The jobs that used it and their output stay."),
            "confirm_label": _("Delete index"),
            "back_url": reverse("curation:dedup-index-detail", kwargs={"name": index.name}),
        })
    dedup_index_delete(index)
    messages.success(request, _("Dedup index “%(name)s” deleted.") % {"name": name})
    return redirect("curation:dedup-index-list")


# --- the API schema -----------------------------------------------------------------------------------------


@curator_required
@require_GET
def api_docs(request: HttpRequest) -> HttpResponse:
    """The interactive API schema viewer (vendored Swagger UI) over /api/schema/."""
    return render(request, "curation/api_docs.html", {"nav": "api"})
