"""Dataset cards of curation outputs, the job-completed hook, the commands and the audit page."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from loop.models import AuditSample, FilterAudit, RecipeVersion
from loop.services.audits import audit_create, audit_results, audit_results_current
from loop.services.completion import job_completed
from tests.support.annotation_quality import annotate, make_users
from tests.support.job_outputs import outputs
from tests.support.loop_jobs import finished_job

pytestmark = pytest.mark.django_db


def test_completed_job_gets_a_dataset_card_refreshed_by_audit_results(tmp_path: Path) -> None:
    job = finished_job(tmp_path)

    job_completed(job.pk)

    out = Path(job.output)
    card = json.loads((out / "card.json").read_text())
    readme = (out / "README.md").read_text()
    assert card["documents"]["kept"] == len(outputs(job.output, "kept"))
    assert [s["step"] for s in card["steps"]] == ["language", "gopher_quality", "gopher_repetition", "fineweb"]
    assert card["steps"][2]["removed"] == next(s for s in job.stats["steps"] if s["position"] == 2)["removed"]
    assert set(card["languages"]) == {"en", "zh"}
    assert "python manage.py curate --recipe recipe.yaml" in card["reproduce"]
    assert (out / "recipe.yaml").read_text() == job.recipe_yaml
    front = yaml.safe_load(readme.split("---")[1])
    assert front["configs"][0]["data_files"][0]["path"] == "kept/*.jsonl.zst"
    assert sorted(front["language"]) == ["en", "zh"]
    assert card["audited_precision"] == []

    audit = audit_create(job, steps=["gopher_repetition"], half_width=0.2, seed=3)
    people = make_users(2, "carder", audit.project)
    for sample in AuditSample.objects.filter(audit=audit).select_related("item"):
        for person in people:
            annotate(sample.item, person, {"labels": ["junk" if sample.doc_id.startswith("junk") else "good"]})
    results = audit_results(audit)

    card = json.loads((out / "card.json").read_text())
    assert card["audited_precision"][0]["removal_precision"] == results["steps"][0]["removal_precision"]
    assert "Audited precision" in (out / "README.md").read_text()


def test_job_completion_sends_the_card_task_on_commit(tmp_path: Path, django_capture_on_commit_callbacks: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[Any] = []
    monkeypatch.setattr("loop.workflows.job_completed_task.apply_async", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        job = finished_job(tmp_path, copies=1)
    assert sent == [{"args": [job.pk, job.finished_at.isoformat()], "queue": "default"}]


def test_a_completion_message_for_another_run_is_ignored(tmp_path: Path) -> None:
    job = finished_job(tmp_path, copies=1)
    job_completed(job.pk, "2001-01-01T00:00:00+00:00")
    assert not (Path(job.output) / "card.json").exists()
    job_completed(job.pk, job.finished_at.isoformat())
    assert (Path(job.output) / "card.json").exists()


def test_commands_audit_whatif_and_reapply(tmp_path: Path) -> None:
    job = finished_job(tmp_path)
    out = StringIO()
    call_command("audit_job", job=job.pk, step=["gopher_quality"], half_width=0.2, seed=5, stdout=out)
    assert FilterAudit.objects.filter(job=job).count() == 1
    assert "gopher_quality" in out.getvalue()

    out = StringIO()
    call_command("whatif", job=job.pk, step="fineweb", param=["max_short_line_ratio=0.1"], save=True, stdout=out)
    figures = json.loads(out.getvalue().split("\nsaved")[0])
    assert figures["step_removed_total"] > 0
    version = RecipeVersion.objects.get(job=job)

    out = StringIO()
    call_command("reapply", version_id=version.pk, output=str(tmp_path / "again"), stdout=out)
    assert json.loads(out.getvalue())["documents"]["kept"] == figures["job_kept"]

    call_command("audit_job", job=job.pk, card=True, stdout=StringIO())
    assert json.loads((Path(job.output) / "card.json").read_text())["job"] == job.pk

    with pytest.raises(CommandError, match="name=value"):
        call_command("whatif", job=job.pk, step="fineweb", param=["oops"])


def test_audit_page_shows_figures_and_creates_an_audit(engineer_client: Any, tmp_path: Path) -> None:
    job = finished_job(tmp_path, copies=3)
    page = engineer_client.get(f"/jobs/{job.pk}/audit/")
    assert page.status_code == 200
    assert b"whatif-step" in page.content

    response = engineer_client.post(f"/jobs/{job.pk}/audit/", {
        "steps": ["2"], "half_width": "0.2", "seed": "1", "labels": "good, junk", "good_labels": "good"})
    assert response.status_code == 302
    audit = FilterAudit.objects.get(job=job)
    assert audit.labels == ["good", "junk"]
    page = engineer_client.get(f"/jobs/{job.pk}/audit/")
    assert f"Audit {audit.pk}".encode() in page.content
    job_page = engineer_client.get(f"/jobs/{job.pk}/")
    assert f"/jobs/{job.pk}/audit/".encode() in job_page.content


def test_audit_page_is_not_for_annotators(annotator_client: Any, tmp_path: Path) -> None:
    job = finished_job(tmp_path, copies=1)
    assert annotator_client.get(f"/jobs/{job.pk}/audit/").status_code == 404


def test_reading_an_audit_writes_nothing_until_new_labels_arrive(tmp_path: Path) -> None:
    # given a finished job's audit with half of its samples labelled, read once
    job = finished_job(tmp_path)
    job_completed(job.pk)
    audit = audit_create(job, steps=["gopher_repetition"], half_width=0.2, seed=3)
    people = make_users(2, "reader", audit.project)
    samples = list(AuditSample.objects.filter(audit=audit).select_related("item"))
    half = len(samples) // 2
    for sample in samples[:half]:
        for person in people:
            annotate(sample.item, person, {"labels": ["junk"]})
    first = audit_results_current(audit)
    card = Path(job.output) / "card.json"
    written, computed = card.stat().st_mtime_ns, audit.results_at
    # when it is read again with no new label
    again = audit_results_current(FilterAudit.objects.get(pk=audit.pk))
    # then nothing is computed or written again
    assert again == first
    assert FilterAudit.objects.get(pk=audit.pk).results_at == computed
    assert card.stat().st_mtime_ns == written
    # and when the other half is labelled, the next read computes the figures and the card again
    for sample in samples[half:]:
        for person in people:
            annotate(sample.item, person, {"labels": ["junk"]})
    latest = audit_results_current(FilterAudit.objects.get(pk=audit.pk))
    assert latest["items_labelled"] == len({s.item_id for s in samples}) > first["items_labelled"]
    assert FilterAudit.objects.get(pk=audit.pk).results_at > computed
    assert card.stat().st_mtime_ns > written
