"""The exports API and pages: trainers and managers create, follow and download exports; other roles get 403."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.roles import ANNOTATOR, DATA_ENGINEER, MANAGER, TRAINER
from accounts.services import token_issue, user_ensure
from exports.hub import export_push_run
from exports.models import Export
from exports.services import export_run
from tests.support.export_projects import PASSWORD, ranking_project

pytestmark = pytest.mark.django_db

PROMPTS = ["Explain how tides work.", "请解释潮汐是怎么形成的。", "Name three rivers in Europe."]


def _api(role: str, username: str | None = None) -> APIClient:
    user = user_ensure(username or role, PASSWORD, role=role)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(user)}")
    return client


def test_a_trainer_creates_follows_and_downloads_an_export_through_the_api() -> None:
    project = ranking_project(PROMPTS)
    api = _api(TRAINER)
    # when a trainer posts an export request
    response = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk],
                                             "options": {"merge": "majority", "test_fraction": 0.0}}, format="json")
    assert response.status_code == 201, response.content
    export_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    # and a worker runs it
    export_run(export_id)
    # then the detail shows the card, the hash and the files; the list holds it; each file downloads
    detail = api.get(f"/api/v1/exports/{export_id}/").json()
    assert detail["status"] == "completed" and detail["progress"]["fraction"] == 1.0
    assert detail["content_hash"] == detail["card"]["content_hash"]
    assert "data/train-00000-of-00001.jsonl" in detail["files"]
    assert [e["id"] for e in api.get("/api/v1/exports/").json()["results"]] == [export_id]
    download = api.get(f"/api/v1/exports/{export_id}/download/", {"file": "data/train-00000-of-00001.jsonl"})
    assert download.status_code == 200
    rows = [json.loads(line) for line in b"".join(download.streaming_content).decode("utf-8").splitlines()]
    assert len(rows) == detail["card"]["splits"]["train"]["rows"] == 3 * 5
    card = api.get(f"/api/v1/exports/{export_id}/download/", {"file": "card.json"})
    assert json.loads(b"".join(card.streaming_content))["content_hash"] == detail["content_hash"]


def test_a_file_outside_the_export_cannot_be_downloaded() -> None:
    project = ranking_project(PROMPTS[:1])
    api = _api(TRAINER)
    export_id = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk]}, format="json").json()["id"]
    export_run(export_id)
    for name in ("../../secret_key", "/etc/passwd", "data/../card.json", ""):
        assert api.get(f"/api/v1/exports/{export_id}/download/", {"file": name}).status_code == 404


def test_bad_requests_get_400_with_the_reason_and_store_nothing() -> None:
    api = _api(TRAINER)
    assert api.post("/api/v1/exports/", {"format": "nope", "projects": [1]}, format="json").status_code == 400
    response = api.post("/api/v1/exports/", {"format": "reward", "projects": [12345]}, format="json")
    assert response.status_code == 404 and "12345" in response.json()["detail"]
    project = ranking_project(PROMPTS[:1])
    response = api.post("/api/v1/exports/", {"format": "sft", "projects": [project.pk]}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "projects"
    response = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk],
                                             "options": {"test_fraction": 1.5}}, format="json")
    assert response.status_code == 400 and "test_fraction" in response.json()["detail"]
    assert Export.objects.count() == 0


@pytest.mark.parametrize("role,allowed", [(TRAINER, True), (MANAGER, True), (ANNOTATOR, False),
                                          (DATA_ENGINEER, False)])
def test_only_trainers_managers_and_admins_reach_exports(role: str, allowed: bool) -> None:
    project = ranking_project(PROMPTS[:1])
    export = Export.objects.create(name="x", version=1, format="reward", sources={"projects": [project.pk]},
                                   spec={"format": "reward"}, path="/tmp/nowhere")
    api = _api(role, username=f"user-{role}")
    expected = 200 if allowed else 403
    assert api.get("/api/v1/exports/").status_code == expected
    assert api.get(f"/api/v1/exports/{export.pk}/").status_code == expected
    created = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk]}, format="json")
    assert created.status_code == (201 if allowed else 403)
    client = Client()
    client.login(username=f"user-{role}", password=PASSWORD)
    for url in ("/exports/", "/exports/new/", f"/exports/{export.pk}/", f"/exports/{export.pk}/progress.json"):
        assert client.get(url).status_code == expected, url


def test_the_pages_list_create_show_progress_and_serve_files(client: Client) -> None:
    project = ranking_project(PROMPTS)
    user_ensure("trainer", PASSWORD, role=TRAINER)
    client.login(username="trainer", password=PASSWORD)
    # the form, opened from a project's page, has the project chosen
    form = client.get(f"/exports/new/?project={project.pk}&format=dpo")
    assert form.status_code == 200 and f'value="{project.pk}" selected' in form.content.decode()
    response = client.post("/exports/new/", {"format": "dpo", "projects": [str(project.pk)], "merge": "consensus",
                                             "test_fraction": "0.0", "seed": "0", "pii_action": "redact",
                                             "files": "jsonl"})
    export = Export.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/exports/{export.pk}/"
    assert client.get(f"/exports/{export.pk}/progress.json").json()["status"] == "pending"
    export_run(export.pk)
    page = client.get(f"/exports/{export.pk}/").content.decode()
    assert export.name in page and "data/train-00000-of-00001.jsonl" in page
    download = client.get(f"/exports/{export.pk}/files/data/train-00000-of-00001.jsonl")
    assert download.status_code == 200 and b'"chosen"' in b"".join(download.streaming_content)


def test_a_bad_form_is_shown_again_with_the_services_reason(client: Client) -> None:
    project = ranking_project(PROMPTS[:1])
    user_ensure("trainer", PASSWORD, role=TRAINER)
    client.login(username="trainer", password=PASSWORD)
    response = client.post("/exports/new/", {"format": "sft", "projects": [str(project.pk)], "merge": "consensus",
                                             "test_fraction": "0.1", "seed": "0", "pii_action": "redact",
                                             "files": "jsonl"})
    assert response.status_code == 200
    assert "sft exports come from instruction and response projects" in response.content.decode()
    assert Export.objects.count() == 0


def test_pushing_to_the_hub_without_a_token_says_how_to_configure_one(settings: Any) -> None:
    settings.EXPORTS_HUB_TOKEN = ""
    project = ranking_project(PROMPTS[:1])
    api = _api(TRAINER)
    export_id = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk]}, format="json").json()["id"]
    export_run(export_id)
    response = api.post(f"/api/v1/exports/{export_id}/push/", {"repo_id": "me/data"}, format="json")
    assert response.status_code == 400 and "HF_TOKEN" in response.json()["detail"]


def test_pushing_to_a_hub_that_is_not_there_fails_with_a_clear_message(settings: Any) -> None:
    # given a token and a Hub endpoint where nothing listens
    settings.EXPORTS_HUB_TOKEN = "hf_not_a_real_token"
    settings.EXPORTS_HUB_ENDPOINT = "http://127.0.0.1:9"
    project = ranking_project(PROMPTS[:1])
    api = _api(TRAINER)
    export_id = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk]}, format="json").json()["id"]
    export_run(export_id)
    response = api.post(f"/api/v1/exports/{export_id}/push/", {"repo_id": "me/data"}, format="json")
    # then the request only queues the push (the upload is a task, never inside the request)
    assert response.status_code == 202, response.content
    assert response.json()["hub_status"] == "pending" and response.json()["hub_repo"] == "me/data"
    # and a second push while this one is under way is refused
    again = api.post(f"/api/v1/exports/{export_id}/push/", {"repo_id": "me/other"}, format="json")
    assert again.status_code == 409 and "me/data" in again.json()["detail"]
    # when the task runs, the push fails with the endpoint and the reason, shown on the export
    export_push_run(export_id)
    detail = api.get(f"/api/v1/exports/{export_id}/").json()
    assert detail["hub_status"] == "failed"
    assert "could not push to the Hugging Face Hub at http://127.0.0.1:9" in detail["hub_error"]
    assert Export.objects.get(pk=export_id).status == Export.Status.COMPLETED  # the export itself is untouched
