"""Reads for the console, the API, the CLI and the services: job progress, the funnel, samples. No writes here."""

from __future__ import annotations

import copy
import dataclasses
import math
import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, overload

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, ExpressionWrapper, F, IntegerField, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.roles import can_curate
from curation.models import DedupIndex, DocumentSample, Job, JobSchedule, Shard, WorkerHeartbeat
from curation.services.workers import SCHEDULER_PREFIX
from curation.steps.base import Filter, build_step, step_class
from curation.steps.dedup import storage
from curation.steps.dedup.clusters import (
    Cluster,
    ClusterMember,
    cluster_size_histogram,
    load_cluster,
    load_clusters,
    load_summary,
)
from curation.steps.dedup.index import index_summary
from curation.steps.dedup.steps import CLUSTERS_FILE, sidecar_url
from curation.steps.document import Document
from curation.steps.pipeline import JobLayout, merge_shard_stats, plan_stages
from curation.steps.recipe import Recipe, builtin_recipe_names, load_builtin_recipe, parse_recipe
from curation.steps.writers import read_jsonl_zst


def access_job_by_id(user: AbstractBaseUser | AnonymousUser, job_id: int) -> Job:
    """The job, if this user may see it; 404 otherwise (annotators never see curation jobs)."""
    if not can_curate(user):
        raise Http404("no such job")
    job = Job.objects.select_related("dedup_index", "created_by").filter(pk=job_id).first()
    if job is None:
        raise Http404("no such job")
    return job


def job_recipe(job: Job) -> Recipe:
    """The recipe as submitted (validated then; not rebuilt here, since building steps may load models).

    Read from the plan parsed at submit, so a page never parses YAML; jobs from before the plan was kept parse.
    """
    if job.recipe_plan:
        return Recipe.from_plan(job.recipe_plan, job.recipe_yaml)
    return parse_recipe(job.recipe_yaml, job.recipe_name, validate=False)


def job_layout(job: Job) -> JobLayout:
    """Where the job's files live under its output folder."""
    return JobLayout(job.output)


def job_stats(job: Job, recipe: Recipe | None = None) -> dict[str, Any]:
    """The job's stats.json: per step in, kept, removed by reason, errors by kind, bytes, seconds."""
    recipe = recipe or job_recipe(job)
    shards = list(job.shards.filter(kind=Shard.Kind.MAP, status=Shard.Status.DONE).values_list("stats", flat=True))
    merged = merge_shard_stats(recipe, shards)
    # Each global step's summary is its merge unit's (index -1); its partition units' stats are their own.
    reduces = [s.stats for s in job.shards.filter(kind=Shard.Kind.REDUCE, status=Shard.Status.DONE, index=-1)]
    last_map = max(p.map_stage for p in plan_stages(recipe))
    kept = sum(s.get("docs_kept", 0) for s in shards if s.get("map_stage") == last_map)
    removed = sum(s.get("docs_removed", 0) for s in shards)
    return {
        "job": job.pk,
        "recipe": recipe.name,
        "inputs": job.inputs,
        "output": job.output,
        "dedup_index": job.dedup_index.name if job.dedup_index else None,
        "documents": {"read": merged["read"]["docs"], "kept": kept, "removed": removed},
        **merged,
        "global_steps": reduces,
        "seconds": round(sum(s.get("seconds", 0.0) for s in shards), 3),
    }


def dedup_index_summary(index: DedupIndex) -> dict[str, Any]:
    """Size (documents, bytes) and contributing jobs of an index, read from its files."""
    return index_summary(index.root)


def workers_alive(within_seconds: int = 60) -> bool:
    """Whether any worker has sent a heartbeat recently (celery beat's own heartbeat does not count)."""
    since = timezone.now() - timedelta(seconds=within_seconds)
    return WorkerHeartbeat.objects.filter(last_seen__gte=since).exclude(name__startswith=SCHEDULER_PREFIX).exists()


def worker_reports_within(seconds: float, poll_seconds: float = 1.0) -> bool:
    """Whether a worker has reported, waiting up to `seconds` for one that has just started (its first heartbeat
    comes a few seconds after it starts, as `make run` starts one): what a command that waits on workers checks
    before it says that none is running."""
    deadline = time.monotonic() + seconds
    while not workers_alive():
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_seconds)
    return True


def scheduler_alive(within_seconds: int = 60) -> bool:
    """Whether a celery beat process has recorded its heartbeat recently (curation/heartbeat.py)."""
    since = timezone.now() - timedelta(seconds=within_seconds)
    return WorkerHeartbeat.objects.filter(last_seen__gte=since, name__startswith=SCHEDULER_PREFIX).exists()


def schedule_next_run(schedule: JobSchedule) -> datetime | None:
    """When beat will next fire the schedule, from its beat task's timing; None when paused or without timing."""
    task = schedule.periodic_task
    if task is None or not task.enabled or (task.interval is None and task.crontab is None):
        return None
    now = timezone.now()
    # Beat counts an interval from the last run, or from when it loaded a task that never ran.
    last = task.last_run_at or max(task.date_changed or now, now - timedelta(days=366))
    return now + max(task.schedule.remaining_estimate(last), timedelta(0))


def job_filter_choices() -> dict[str, list[str]]:
    """The recipes and submitters that jobs exist for, for the console's jobs filter."""
    recipes = Job.objects.order_by("recipe_name").values_list("recipe_name", flat=True).distinct()
    submitters = (
        Job.objects.exclude(created_by=None).order_by("created_by__username")
        .values_list("created_by__username", flat=True).distinct()
    )
    return {"recipes": list(recipes), "submitters": list(submitters)}


def dedup_indexes_overview() -> QuerySet[DedupIndex]:
    """Every dedup index with its job count and the number of its jobs not finished yet."""
    return DedupIndex.objects.annotate(
        job_count=Count("jobs", distinct=True),
        unfinished=Count("jobs", filter=~Q(jobs__status__in=Job.FINISHED), distinct=True),
    ).order_by("name")


def access_dedup_index_by_name(user: AbstractBaseUser | AnonymousUser, name: str) -> DedupIndex:
    """The dedup index, if this user may curate; 404 otherwise."""
    if not can_curate(user):
        raise Http404("no such dedup index")
    index = DedupIndex.objects.filter(name=name).first()
    if index is None:
        raise Http404("no such dedup index")
    return index


def jobs_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Job]:
    if not can_curate(user):
        return Job.objects.none()
    return Job.objects.select_related("dedup_index", "created_by").order_by("-id")


def job_progress(job: Job) -> dict[str, Any]:
    """Where the job stands: units per stage by status, documents so far, and the per-step funnel."""
    recipe = job_recipe(job)
    plans = plan_stages(recipe)
    counts: dict[int, dict[str, int]] = {}
    for row in job.shards.values("stage", "status").annotate(n=Count("id")):
        counts.setdefault(row["stage"], {})[row["status"]] = row["n"]
    stages: list[dict[str, Any]] = []
    for stage, plan in enumerate(plans):
        by_status = counts.get(stage, {})
        if plan.kind == Shard.Kind.MAP:
            total = job.shard_count
        elif plan.is_partitioned:
            total = sum(by_status.values()) or settings.DEDUP_REDUCE_PARTITIONS
        else:
            total = 1
        stages.append({
            "stage": stage,
            "kind": plan.kind,
            "total": total,
            "done": by_status.get(Shard.Status.DONE, 0),
            "running": by_status.get(Shard.Status.RUNNING, 0),
            "pending": by_status.get(Shard.Status.PENDING, 0),
            "failed": by_status.get(Shard.Status.FAILED, 0),
            # Recipe step positions (from 0) the stage runs: a map stage's steps, a reduce stage's global step.
            "steps": list(plan.step_positions) if plan.kind == Shard.Kind.MAP else
            [plan.global_position] if plan.kind == Shard.Kind.REDUCE and plan.global_position is not None else [],
        })
    units_total = sum(s["total"] for s in stages)
    units_done = sum(s["done"] for s in stages)
    stats = job.stats if job.stats else job_stats(job)
    funnel = [{"name": "read", "docs_in": stats["read"]["docs"], "kept": stats["read"]["docs"]}]
    funnel += [{"name": s["name"], "docs_in": s["docs_in"], "kept": s["kept"], "removed": s["removed"]}
               for s in stats["steps"]]
    return {
        "id": job.pk,
        "status": job.status,
        "error": job.error,
        "stage": job.stage,
        "stage_count": job.stage_count,
        "fraction_done": units_done / units_total if units_total else 0.0,
        "stages": stages,
        # Read = kept + removed + in progress, so the numbers never contradict each other while shards run.
        "documents": {**stats["documents"], "in_progress": max(
            stats["documents"]["read"] - stats["documents"]["kept"] - stats["documents"]["removed"], 0)},
        "recipe_steps": [spec.name for spec in recipe.steps],
        "errors_by_kind": stats["errors_by_kind"],
        "read_errors": stats["read"]["errors"],
        "funnel": funnel,
    }


def job_samples(job: Job, *, kept: bool | None = None, reason: str | None = None) -> QuerySet[DocumentSample]:
    samples = job.samples.all()
    if kept is not None:
        samples = samples.filter(kept=kept)
    if reason:
        samples = samples.filter(reason=reason)
    return samples.order_by("kept", "removed_by", "reason", "shard_index", "id")


def job_removal_reasons(job: Job) -> list[dict[str, Any]]:
    """Removed sample counts per (step, reason), for the console's filter."""
    return list(
        job.samples.filter(kept=False).values("removed_by", "reason").annotate(n=Count("id")).order_by("-n")
    )


def jobs_overview(user: AbstractBaseUser | AnonymousUser, *, status: str = "", recipe: str = "",
                  submitter: str = "") -> QuerySet[Job]:
    """The jobs this user may see, annotated for the console's list in one query, without touching shards.

    `units_done`, `docs_read` and `docs_kept` are the job's own counters (kept by shard_complete).
    `units_total` gives the progress of `job_progress` without building recipes: a job has `stage_count` =
    3K+2 stages (K+1 map stages of `shard_count` units, K reduce stages of DEDUP_REDUCE_PARTITIONS units, K merge
    units and one finish unit; see `plan_stages`), so (K+1) * shard_count + K * (partitions + 1) + 1 units in all.
    """
    global_steps = (F("stage_count") - 2) / 3
    jobs = jobs_visible_to(user)
    if status:
        jobs = jobs.filter(status=status)
    if recipe:
        jobs = jobs.filter(recipe_name=recipe)
    if submitter:
        jobs = jobs.filter(created_by__username=submitter)
    return jobs.annotate(
        units_total=ExpressionWrapper(
            (global_steps + 1) * F("shard_count") + global_steps * (settings.DEDUP_REDUCE_PARTITIONS + 1) + 1,
            output_field=IntegerField(),
        ),
    )


def schedules_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[JobSchedule]:
    """Job schedules with their beat timing and run count; none for users who may not curate."""
    if not can_curate(user):
        return JobSchedule.objects.none()
    return (
        JobSchedule.objects.select_related("dedup_index", "periodic_task__interval", "periodic_task__crontab")
        .annotate(job_count=Count("jobs"))
        .order_by("name")
    )


def access_schedule_by_id(user: AbstractBaseUser | AnonymousUser, schedule_id: int) -> JobSchedule:
    """The schedule, if this user may manage it; 404 otherwise."""
    if not can_curate(user):
        raise Http404("no such schedule")
    schedule = JobSchedule.objects.select_related("periodic_task").filter(pk=schedule_id).first()
    if schedule is None:
        raise Http404("no such schedule")
    return schedule


# --- dedup clusters (the console's per-job dedup pages) -----------------------------------------------------

# Global steps that are deduplicators by name; any other global step counts once its work dir holds clusters.
DEDUP_STEP_NAMES = frozenset({"exact_dedup", "minhash_dedup"})

# Which document of a cluster: (the job that holds it, its id). Ids are only unique within a job: a job that
# reads the same input as an earlier one finds the earlier job's copies under the very same ids.
MemberKey = tuple[int, str]


class DedupStep(NamedTuple):
    """A dedup step of a job's recipe: where it is in the recipe, its name, and its work dir."""

    position: int
    name: str
    work_dir: str


class ClusterList(Sequence[Cluster]):
    """A dedup step's clusters of two or more, largest first, read one page at a time (for Paginator).

    `count` comes from the step's summary, so the clusters file is only read for the page asked for.
    """

    def __init__(self, work_dir: str, count: int) -> None:
        self.work_dir = work_dir
        self.count_ = count

    def __len__(self) -> int:
        return self.count_

    @overload
    def __getitem__(self, index: int) -> Cluster: ...

    @overload
    def __getitem__(self, index: slice) -> list[Cluster]: ...

    def __getitem__(self, index: int | slice) -> Cluster | list[Cluster]:
        if isinstance(index, slice):
            start, stop, stride = index.indices(self.count_)
            if stride != 1:
                raise ValueError("clusters are read in contiguous pages")
            return load_clusters(self.work_dir, offset=start, limit=max(0, stop - start)) if stop > start else []
        if not -self.count_ <= index < self.count_:
            raise IndexError(index)
        return load_clusters(self.work_dir, offset=index % self.count_, limit=1)[0]


@dataclass(frozen=True)
class DedupStepOverview:
    """What a dedup step found in one job: reduce's summary (None before reduce), the sizes, the clusters."""

    step: DedupStep
    summary: dict[str, Any] | None
    histogram: dict[int, int]  # {cluster size: clusters}, singletons included
    clusters: ClusterList


def job_dedup_steps(job: Job) -> list[DedupStep]:
    """The dedup steps of the job's recipe, in recipe order, with their work dirs in the job's output."""
    layout = job_layout(job)
    steps = []
    recipe = job_recipe(job)
    for position in recipe.global_positions():  # without building steps: some load models
        name = recipe.steps[position].name
        work_dir = layout.step_work_dir(position, name)
        if name in DEDUP_STEP_NAMES or storage.exists(storage.join(work_dir, CLUSTERS_FILE)):
            steps.append(DedupStep(position, name, work_dir))
    return steps


def access_dedup_step(job: Job, position: int) -> DedupStep:
    """The job's dedup step at this recipe position; 404 when the step there is not one."""
    step = next((step for step in job_dedup_steps(job) if step.position == position), None)
    if step is None:
        raise Http404("no such dedup step")
    return step


def access_dedup_cluster(step: DedupStep, cluster_id: str) -> Cluster:
    """The step's cluster whose kept member has this id; 404 when there is none (or reduce has not run)."""
    cluster = load_cluster(step.work_dir, cluster_id)
    if cluster is None:
        raise Http404("no such cluster")
    return cluster


def dedup_step_overview(step: DedupStep) -> DedupStepOverview:
    """The summary, the histogram of cluster sizes and the (lazily read) clusters of one dedup step."""
    summary = load_summary(step.work_dir)
    histogram = cluster_size_histogram(step.work_dir)
    multi_member = sum(count for size, count in histogram.items() if size > 1)
    return DedupStepOverview(step, summary, histogram, ClusterList(step.work_dir, multi_member))


def dedup_cluster_documents(
    job: Job,
    cluster: Cluster,
    *,
    members: Sequence[ClusterMember] | None = None,
    position: int | None = None,
) -> dict[MemberKey, Document]:
    """Find the documents of a cluster's members (all, or `members`) in the output of the jobs that hold them.

    A member of this job is in its shard's output: in `removed/` from the map stage that applied the step on
    (removed as a duplicate, or by a later step), or in `kept/`. `position`, the step's place in the recipe,
    narrows the removed files to those stages. A member of an earlier job is looked up in that job's output, in
    the shards whose dedup sidecars list its id (every shard when none does). Each file is read only until every
    id wanted from it has turned up. Members not found (their job was deleted, its output moved) are left out.
    """
    wanted = list(members) if members is not None else list(cluster.members)
    found: dict[MemberKey, Document] = {}
    mine: dict[int, set[str]] = {}
    earlier: dict[int, set[str]] = {}
    for member in wanted:
        if member.job_id == job.pk and member.shard is not None:
            mine.setdefault(member.shard, set()).add(member.id)
        else:
            earlier.setdefault(member.job_id, set()).add(member.id)

    layout = job_layout(job)
    removed_stages = _removed_map_stages(job, after_position=position)
    for shard, ids in sorted(mine.items()):
        urls = [*(layout.removed(shard, stage) for stage in removed_stages[:1]), layout.kept(shard),
                *(layout.removed(shard, stage) for stage in removed_stages[1:])]
        found.update(((job.pk, doc_id), doc) for doc_id, doc in _documents_in(urls, ids).items())

    for earlier_job in Job.objects.filter(pk__in=earlier.keys()).order_by("pk"):
        found.update(
            ((earlier_job.pk, doc_id), doc)
            for doc_id, doc in _documents_of_job(earlier_job, earlier[earlier_job.pk]).items()
        )
    return found


def existing_job_ids(job_ids: Iterable[int]) -> set[int]:
    """Which of these jobs still exist (a cluster may name members of jobs deleted since)."""
    return set(Job.objects.filter(pk__in=set(job_ids)).values_list("pk", flat=True))


def _removed_map_stages(job: Job, after_position: int | None = None) -> list[int]:
    """The map stages whose removed files may hold a step's members: from the one that applied the step on.

    Without a step, every map stage, last first (deduplication comes late in most recipes).
    """
    plans = [plan for plan in plan_stages(job_recipe(job)) if plan.kind == Shard.Kind.MAP]
    if after_position is None:
        return sorted((plan.map_stage for plan in plans), reverse=True)
    applied = next((plan.map_stage for plan in plans if plan.global_position == after_position), 0)
    return [plan.map_stage for plan in plans if plan.map_stage >= applied]


def _documents_of_job(job: Job, ids: set[str]) -> dict[str, Document]:
    """Find documents of `job` by id in its output, shard by shard (see `dedup_cluster_documents`)."""
    layout = job_layout(job)
    stages = _removed_map_stages(job)
    located = _shards_of_ids(job, ids)
    found: dict[str, Document] = {}
    for shard, shard_ids in sorted(located.items()):
        urls = [layout.kept(shard), *(layout.removed(shard, stage) for stage in stages)]
        found.update(_documents_in(urls, shard_ids))
    unlocated = ids - set(found) - set().union(*located.values())
    for shard in range(job.shard_count):
        if not unlocated:
            break
        urls = [layout.kept(shard), *(layout.removed(shard, stage) for stage in stages)]
        hits = _documents_in(urls, unlocated)
        found.update(hits)
        unlocated -= set(hits)
    return found


def _shards_of_ids(job: Job, ids: set[str]) -> dict[int, set[str]]:
    """Which shard of `job` holds each id, from its dedup steps' sidecars (one id column per shard)."""
    located: dict[int, set[str]] = {}
    remaining = set(ids)
    for step in job_dedup_steps(job):
        for shard in range(job.shard_count):
            if not remaining:
                return located
            url = sidecar_url(step.work_dir, shard)
            if not storage.exists(url):
                continue
            hits = remaining.intersection(storage.read_parquet(url, columns=["id"]).column("id").to_pylist())
            if hits:
                located.setdefault(shard, set()).update(hits)
                remaining -= hits
    return located


def _documents_in(urls: Iterable[str], ids: set[str]) -> dict[str, Document]:
    """Read the files in turn, keeping the first document of each wanted id, until all are found."""
    found: dict[str, Document] = {}
    for url in urls:
        if len(found) == len(ids):
            break
        if not storage.exists(url):
            continue
        # Leaving the loop early drops the reader, which closes its file at once.
        for doc in read_jsonl_zst(url):
            doc_id = str(doc.get("id"))
            if doc_id in ids and doc_id not in found:
                found[doc_id] = doc
                if len(found) == len(ids):
                    break
    return found


# --- why a sample was removed ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """A threshold of the step that removed a document, with the signal it was compared with (when one matches)."""

    param: str
    threshold: Any
    signal: str
    value: Any


def _relaxed(value: Any, name: str) -> Any:
    """The value of a threshold parameter that lets every document through, or None when there is none."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if name.startswith("min") or name in ("threshold", "min_score"):
        return -math.inf
    if name.startswith("max"):
        return math.inf
    return None


def _signal_for(param: str, signals: dict[str, Any]) -> str:
    """The signal a threshold parameter is compared with, by name (`min_words` -> `gopher_words`); '' if none."""
    stem = re.sub(r"^(min|max)_", "", param)
    for key in sorted(signals):
        if key == stem or key.endswith(f"_{stem}"):
            return key
    if param in ("threshold", "min_score"):
        scores = [key for key in sorted(signals) if key.endswith("score")]
        return scores[-1] if scores else ""
    return ""


def sample_thresholds(job: Job, sample: DocumentSample) -> list[Threshold]:
    """The thresholds that removed a sample: each one that, relaxed alone, would change the step's decision.

    Asks the step itself: rebuilds the step that removed the document with its recipe parameters (only filters
    that load no model), takes the thresholds that apply to the document's language, and re-runs the step's
    decision on the stored signals with one threshold at a time relaxed. Empty when the step is not such a filter
    or no single threshold decided (a language not listed, a duplicate).
    """
    if sample.kept or not sample.removed_by:
        return []
    specs = [spec for spec in job_recipe(job).steps if spec.name == sample.removed_by]
    if not specs:
        return []
    try:
        cls = step_class(specs[0].name)
        if not issubclass(cls, Filter) or getattr(cls, "loads_model", False) or cls.name == "quality_classifier":
            return []
        step: Any = build_step(specs[0].name, specs[0].params)
    except Exception:  # an old job's recipe that no longer builds: nothing to explain
        return []
    document = copy.deepcopy(sample.document)
    signals = document.get("signals") or {}
    lang = str(signals.get("lang") or document.get("lang") or "")
    params = step.params_for(lang) if hasattr(step, "params_for") else step.params
    if not dataclasses.is_dataclass(params) or isinstance(params, type):
        return []
    found = []
    for field in dataclasses.fields(params):
        value = getattr(params, field.name)
        relaxed = _relaxed(value, field.name)
        if relaxed is None:
            continue
        patched = dataclasses.replace(params, **{field.name: relaxed})
        step.params = patched
        if hasattr(step, "params_for"):
            step.params_for = lambda _lang, patched=patched: patched
        try:
            decision = step.decide(copy.deepcopy(document))
        except Exception:  # a relaxed value the step cannot compare: this threshold is not the answer
            continue
        if decision != sample.reason:
            signal = _signal_for(field.name, signals)
            found.append(Threshold(field.name, value, signal, signals.get(signal) if signal else None))
    return found


def builtin_recipes_overview() -> list[dict[str, Any]]:
    """The built-in recipes with their description, steps (numbered from 1 by the template) and YAML text."""
    recipes = []
    for name in builtin_recipe_names():
        recipe = load_builtin_recipe(name, validate=False)
        recipes.append({"name": name, "description": recipe.description,
                        "steps": [spec.name for spec in recipe.steps], "yaml": recipe.source_yaml})
    return recipes
