"""The REST API: token auth, submit/list/inspect/cancel, samples, roles, OpenAPI schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.services import token_issue
from curation.models import Job
from curation.services.jobs import job_run_local
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user)}")
    return client


def test_engineer_submits_inspects_and_cancels_a_job(engineer: Any, tmp_path: Path) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "hello"}])
    api = client_for(engineer)
    response = api.post("/api/v1/jobs/", {"recipe": "extract-only", "inputs": [str(tmp_path / "a.jsonl")],
                                          "output": str(tmp_path / "o")}, format="json")
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    assert response.json()["progress"]["stages"][0]["total"] == 1
    assert [j["id"] for j in api.get("/api/v1/jobs/").json()["results"]] == [job_id]
    assert api.post(f"/api/v1/jobs/{job_id}/cancel/").json()["status"] == "cancelled"
    assert Job.objects.get(pk=job_id).status == Job.Status.CANCELLED


def test_submit_with_missing_input_is_a_400_with_the_reason(engineer: Any, tmp_path: Path) -> None:
    response = client_for(engineer).post(
        "/api/v1/jobs/", {"recipe": "extract-only", "inputs": [str(tmp_path / "nope.jsonl")]}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "nope.jsonl" in body["detail"]
    assert (body["code"], body["field"]) == ("invalid", "inputs")
    assert Job.objects.count() == 0


def test_submit_into_an_occupied_output_folder_is_a_409_conflict(engineer: Any, tmp_path: Path) -> None:
    # given an output folder that holds someone's files
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("keep me")
    # when a job is submitted into it
    response = client_for(engineer).post(
        "/api/v1/jobs/", {"recipe": "extract-only", "inputs": [str(tmp_path / "a.jsonl")],
                          "output": str(tmp_path / "taken")}, format="json")
    # then the service's Conflict is the response, and nothing was created or touched
    assert response.status_code == 409
    assert response.json() == {"detail": f"output folder {tmp_path / 'taken'} already exists and is not empty",
                                "code": "conflict", "field": "output"}
    assert Job.objects.count() == 0
    assert (tmp_path / "taken" / "keep.txt").read_text() == "keep me"


def test_deleting_a_dedup_index_in_use_is_a_409_conflict(engineer: Any, tmp_path: Path) -> None:
    # given a job that is not finished and uses the index
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    api = client_for(engineer)
    submitted = api.post("/api/v1/jobs/", {"recipe": "extract-only", "inputs": [str(tmp_path / "a.jsonl")],
                                           "output": str(tmp_path / "o"), "dedup_index": "crawl"}, format="json")
    assert submitted.status_code == 201, submitted.content
    # when the index is deleted
    response = api.delete("/api/v1/dedup-indexes/crawl/")
    # then it is refused with the job's id, and the index stays
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert f"job(s) {submitted.json()['id']}" in response.json()["detail"]
    assert api.get("/api/v1/dedup-indexes/crawl/").status_code == 200


def test_samples_show_removed_documents_with_reason(engineer: Any, tmp_path: Path) -> None:
    # given a finished job where Gopher's rules removed a two-word document
    prose = "The river rose in the night and the people of the town went up to the hills with their animals. " * 3
    write_jsonl(tmp_path / "a.jsonl", [{"id": "long", "text": prose}, {"id": "short", "text": "Buy now"}])
    recipe = "name: r\nsteps:\n  - extract: {}\n  - gopher_quality: {}\n"
    api = client_for(engineer)
    job_id = api.post("/api/v1/jobs/", {"recipe": recipe, "inputs": [str(tmp_path / "a.jsonl")],
                                        "output": str(tmp_path / "o")}, format="json").json()["id"]
    job = job_run_local(Job.objects.get(pk=job_id))
    assert job.status == Job.Status.COMPLETED
    # when samples are asked for
    kept = api.get(f"/api/v1/jobs/{job_id}/samples/?kept=true").json()["results"]
    removed = api.get(f"/api/v1/jobs/{job_id}/samples/?kept=false").json()["results"]
    # then each side holds its document, the removed one with the step and reason
    assert [s["doc_id"] for s in kept] == ["long"]
    assert [(s["doc_id"], s["removed_by"], s["reason"]) for s in removed] == [
        ("short", "gopher_quality", "gopher_word_count")]
    detail = api.get(f"/api/v1/jobs/{job_id}/").json()
    assert detail["progress"]["documents"] == {"read": 2, "kept": 1, "removed": 1, "in_progress": 0}


@pytest.mark.parametrize("path", ["/api/v1/jobs/", "/api/v1/recipes/", "/api/v1/dedup-indexes/", "/api/v1/jobs/1/"])
def test_annotator_reaches_no_curation_api(annotator: Any, path: str) -> None:
    assert client_for(annotator).get(path).status_code == 403


def test_anonymous_requests_are_refused() -> None:
    assert APIClient().get("/api/v1/jobs/").status_code == 401


def test_openapi_schema_lists_the_job_endpoints(engineer: Any) -> None:
    response = client_for(engineer).get("/api/schema/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/api/v1/jobs/{id}/cancel/" in body and "/api/v1/jobs/" in body
