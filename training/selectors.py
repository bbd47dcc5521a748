"""Reads of the training app: runs, their metrics, pipelines."""

from __future__ import annotations

from django.db.models import QuerySet

from training.models import Pipeline, Run, RunMetric


def runs_all() -> QuerySet[Run]:
    return Run.objects.select_related("pipeline", "parent", "reward_run", "created_by")


def run_metrics(run: Run, since: int = -1) -> QuerySet[RunMetric]:
    """The run's metric rows after step `since`, in step order (the page polls with the last step it has)."""
    return RunMetric.objects.filter(run=run, step__gt=since).order_by("step")


def pipelines_all() -> QuerySet[Pipeline]:
    return Pipeline.objects.prefetch_related("runs")


def runs_succeeded() -> QuerySet[Run]:
    """Runs whose model can be used: by another run, or in a comparison."""
    return Run.objects.filter(status=Run.Status.SUCCEEDED).order_by("-pk")
