"""What the page, the API and the command show of an export's progress: stages and counts in people's words."""

from __future__ import annotations

import pytest
from django.utils import translation

from exports.models import Export
from exports.selectors import export_progress

pytestmark = pytest.mark.django_db


def _export(sources: dict[str, object], status: str, progress: dict[str, object]) -> Export:
    version = Export.objects.count() + 1
    return Export.objects.create(name="progress", version=version, format="reward", sources=sources, spec={},
                                 path=f"/tmp/progress/v{version}", status=status, progress=progress)


def test_each_stage_says_what_it_counts_and_how_far_it_is() -> None:
    # given an export of projects while it reads, while it writes, and once completed
    reading = _export({"projects": [1]}, Export.Status.RUNNING, {"stage": "rows", "done": 50, "total": 200})
    writing = _export({"projects": [1]}, Export.Status.RUNNING, {"stage": "write", "done": 30, "total": 120})
    done = _export({"projects": [1]}, Export.Status.COMPLETED, {"stage": "done", "done": 120, "total": 120})
    # then items are counted while reading, rows while writing, each stage with its fraction
    shown = [export_progress(export) for export in (reading, writing, done)]
    assert [(p["stage_label"], p["counted"], p["fraction"]) for p in shown] == [
        ("reading and checking", "items", 0.25), ("writing files", "rows", 0.25), ("all rows written", "rows", 1.0)]
    assert [p["stage"] for p in shown] == ["rows", "write", "done"]  # the keys stay for scripts


def test_a_job_export_counts_documents_and_one_not_started_shows_its_status() -> None:
    job = _export({"job": 3}, Export.Status.RUNNING, {"stage": "rows", "done": 10, "total": None})
    pending = _export({"projects": [1]}, Export.Status.PENDING, {})
    assert (export_progress(job)["counted"], export_progress(job)["fraction"]) == ("documents", None)
    assert (export_progress(pending)["stage_label"], export_progress(pending)["status_label"]) == ("", "pending")


def test_the_labels_read_in_chinese() -> None:
    writing = _export({"projects": [1]}, Export.Status.RUNNING, {"stage": "write", "done": 30, "total": 120})
    with translation.override("zh-hans"):
        shown = export_progress(writing)
    assert (shown["status_label"], shown["stage_label"], shown["counted"]) == ("运行中", "正在写入文件", "行")
