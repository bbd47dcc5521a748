"""Issue 8, item 13: odd cluster ids, over-long fields, a broker that is down, deleting failed and cancelled jobs."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.errors import ValidationError
from core.models import AuditEvent
from core.selectors import audit_for
from curation.models import Job, JobSchedule, Shard
from curation.selectors import job_dedup_steps
from curation.services.dedup_indexes import dedup_index_ensure
from curation.services.jobs import job_delete, job_run_local, job_submit
from curation.services.schedules import schedule_create, schedule_delete
from curation.tasks import shard_run_task
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db
TEXT = ("The community garden behind the library began as a single bed of tomatoes planted by two retired teachers. "
        "Ten years later it has forty plots, a shared tool shed and a compost heap that the school studies.")


@pytest.mark.parametrize("odd_id", ["", "line one\nline two", "carriage\rreturn"])
def test_dedup_pages_take_cluster_ids_that_are_empty_or_hold_a_newline(
    engineer_client: Client, tmp_path: Path, odd_id: str,
) -> None:
    # given a dedup job whose two copies have ids no URL path can carry
    docs = [{"id": odd_id, "text": TEXT}, {"id": odd_id + "\n(copy)", "text": TEXT}]
    path = write_jsonl(tmp_path / "odd.jsonl", docs)
    job = job_run_local(job_submit(recipe="dedup-only", inputs=[str(path)], output=str(tmp_path / "o")))
    assert job.status == Job.Status.COMPLETED, job.error
    # when the dedup page is shown
    page = engineer_client.get(reverse("curation:job-dedup", kwargs={"job_id": job.pk}))
    # then it renders, and its link to the cluster opens that cluster
    assert page.status_code == 200
    position = next(step[0] for step in job_dedup_steps(job) if step[1] == "exact_dedup")
    base = reverse("curation:job-dedup-cluster-query", kwargs={"job_id": job.pk, "position": position})
    links = re.findall(rf'href="({re.escape(base)}\?id=[^"]*)"', page.content.decode())
    assert len(links) == 1
    cluster = engineer_client.get(unescape(links[0]))
    assert cluster.status_code == 200
    assert "(copy)" in unescape(cluster.content.decode())


def test_a_cluster_url_holding_a_newline_is_404_not_500(engineer_client: Client, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "text": TEXT}, {"id": "b", "text": TEXT}])
    job = job_run_local(job_submit(recipe="dedup-only", inputs=[str(path)], output=str(tmp_path / "o")))
    position = job_dedup_steps(job)[0][0]
    assert engineer_client.get(f"/jobs/{job.pk}/dedup/{position}/a%0Ab/").status_code == 404
    query = reverse("curation:job-dedup-cluster-query", kwargs={"job_id": job.pk, "position": position})
    assert engineer_client.get(query, {"id": "a\nb"}).status_code == 404
    assert engineer_client.get(query).status_code == 400


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_an_output_longer_than_its_column_is_a_400_naming_the_field(engineer: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "hello"}])
    deep = tmp_path.joinpath(*(["d" * 60] * 20))  # a legal path of ~1,300 characters
    response = _api(engineer).post("/api/v1/jobs/", {"recipe": "extract-only", "inputs": [str(source)],
                                                     "output": str(deep)}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["field"] == "output"
    assert Job.objects.count() == 0


def test_a_schedule_name_longer_than_its_column_is_a_400_naming_the_field(engineer: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "hello"}])
    with pytest.raises(ValidationError) as refused:
        schedule_create(name="n" * 201, recipe="extract-only", inputs=[str(source)], output=str(tmp_path / "r"),
                        every_minutes=60, user=engineer)
    assert refused.value.field == "name"
    assert not JobSchedule.objects.exists()


def test_with_the_broker_down_submit_is_a_503_and_creates_nothing(engineer: Any, tmp_path: Path,
                                                                 settings: Any) -> None:
    # given a broker URL pointing at a closed port
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "hello"}])
    conf = shard_run_task.app.conf
    original = conf.broker_url, conf.broker_write_url
    conf.broker_url = conf.broker_write_url = "redis://127.0.0.1:1/0"
    try:
        response = _api(engineer).post("/api/v1/jobs/", {"recipe": "extract-only", "inputs": [str(source)],
                                                         "output": str(tmp_path / "o")}, format="json")
    finally:
        conf.broker_url, conf.broker_write_url = original
    # then the client is told to retry, and no job, shard or output folder exists
    assert response.status_code == 503, response.content
    assert response.json()["code"] == "unavailable"
    assert not Job.objects.exists() and not Shard.objects.exists()
    assert not (tmp_path / "o").exists()


def _finished(tmp_path: Path, status: str) -> Job:
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "hello"}])
    job = job_run_local(job_submit(recipe="extract-only", inputs=[str(source)], output=str(tmp_path / "o")))
    Job.objects.filter(pk=job.pk).update(status=status)
    return Job.objects.get(pk=job.pk)


@pytest.mark.parametrize("status", [Job.Status.FAILED, Job.Status.CANCELLED])
def test_a_failed_or_cancelled_job_is_deleted_with_its_files_and_the_audit_keeps_who(
    engineer: Any, tmp_path: Path, status: str,
) -> None:
    job = _finished(tmp_path, status)
    (tmp_path / "o" / "_work" / "docs").mkdir(parents=True, exist_ok=True)
    (tmp_path / "o" / "_work" / "docs" / "left.jsonl.zst").write_bytes(b"x")
    job_id = job.pk

    response = _api(engineer).delete(f"/api/v1/jobs/{job_id}/")

    assert response.status_code == 204, response.content
    assert not Job.objects.filter(pk=job_id).exists() and not Shard.objects.filter(job_id=job_id).exists()
    assert not (tmp_path / "o").exists()
    events = AuditEvent.objects.filter(target_type="curation.job", target_id=str(job_id))
    assert [(e.action, e.actor_name) for e in events] == [("submit", ""), ("delete", engineer.username)]


def test_deleting_a_job_keeps_files_it_did_not_write(engineer: Any, tmp_path: Path) -> None:
    job = _finished(tmp_path, Job.Status.FAILED)
    (tmp_path / "o" / "notes.txt").write_text("mine")
    job_delete(job, user=engineer)
    assert (tmp_path / "o" / "notes.txt").read_text() == "mine"
    assert not (tmp_path / "o" / "kept").exists()


@pytest.mark.parametrize("status", [Job.Status.COMPLETED, Job.Status.RUNNING, Job.Status.PENDING])
def test_only_failed_or_cancelled_jobs_can_be_deleted(engineer: Any, tmp_path: Path, status: str) -> None:
    job = _finished(tmp_path, status)
    response = _api(engineer).delete(f"/api/v1/jobs/{job.pk}/")
    assert response.status_code == 409
    assert Job.objects.filter(pk=job.pk).exists() and (tmp_path / "o" / "kept").exists()


def test_api_shows_who_submitted_and_cancelled_a_job(engineer: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "hello"}])
    api = _api(engineer)
    job_id = api.post("/api/v1/jobs/", {"recipe": "extract-only", "inputs": [str(source)],
                                        "output": str(tmp_path / "o")}, format="json").json()["id"]
    api.post(f"/api/v1/jobs/{job_id}/cancel/")
    api.post(f"/api/v1/jobs/{job_id}/cancel/")  # a second cancel changes nothing and records nothing
    audit = api.get(f"/api/v1/jobs/{job_id}/").json()["audit"]
    assert [(e["action"], e["actor"]) for e in audit] == [("submit", engineer.username),
                                                         ("cancel", engineer.username)]


def test_schedule_and_index_deletions_are_recorded(engineer: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "hello"}])
    schedule = schedule_create(name="nightly", recipe="extract-only", inputs=[str(source)],
                               output=str(tmp_path / "runs"), every_minutes=60, user=engineer)
    assert [e.action for e in audit_for(schedule)] == ["create"]
    schedule_id = schedule.pk
    schedule_delete(schedule, user=engineer)
    index = dedup_index_ensure("crawl")
    assert _api(engineer).get("/api/v1/dedup-indexes/crawl/").json()["audit"] == []
    index_id = index.pk
    assert _api(engineer).delete("/api/v1/dedup-indexes/crawl/").status_code == 204
    deleted = AuditEvent.objects.filter(action="delete").order_by("pk")
    assert [(e.target_type, e.target_id, e.target_label, e.actor_name) for e in deleted] == [
        ("curation.jobschedule", str(schedule_id), "nightly", engineer.username),
        ("curation.dedupindex", str(index_id), "crawl", engineer.username),
    ]


def test_the_job_page_shows_the_history_and_a_delete_button_for_a_failed_job(
    engineer_client: Client, engineer: Any, tmp_path: Path,
) -> None:
    job = _finished(tmp_path, Job.Status.FAILED)
    html = engineer_client.get(reverse("curation:job-detail", kwargs={"job_id": job.pk})).content.decode()
    assert "data-audit" in html and reverse("curation:job-delete", kwargs={"job_id": job.pk}) in html
