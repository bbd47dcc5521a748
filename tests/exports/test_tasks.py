"""Exports run as Celery tasks on the `default` queue, in a real worker process, and run once when sent twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.roles import TRAINER
from accounts.services import token_issue, user_ensure
from exports.models import Export
from exports.services import export_create, export_run
from exports.workflows import QUEUE, TASK_EXPORT_RUN
from tests.fixtures.workers import wait_for
from tests.support.export_projects import PASSWORD, ranking_project
from workers.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_an_export_posted_to_the_api_is_run_by_a_worker_once_even_when_sent_twice(
    celery_workers: Callable[..., Any],
) -> None:
    # given a ranking project and a worker on the default queue
    project = ranking_project(["Explain how tides work.", "请解释潮汐是怎么形成的。"])
    trainer = user_ensure("trainer", PASSWORD, role=TRAINER)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(trainer)}")
    worker = celery_workers("exports", queues="default")
    # when a trainer posts an export (sent on commit) and the same task is sent again by mistake
    response = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk]}, format="json")
    assert response.status_code == 201, response.content
    export_id = response.json()["id"]
    app.send_task(TASK_EXPORT_RUN, args=[export_id], queue=QUEUE)
    # then the worker completes it, and ran it once
    wait_for(lambda: Export.objects.get(pk=export_id).is_finished, 120, "the export to finish", [worker])
    export = Export.objects.get(pk=export_id)
    assert export.status == Export.Status.COMPLETED, export.error
    assert export.attempts == 1
    assert export.card["splits"]["train"]["rows"] + export.card["splits"]["test"]["rows"] == 2 * 5
    detail = api.get(f"/api/v1/exports/{export_id}/").json()
    assert detail["progress"]["fraction"] == 1.0 and detail["content_hash"] == export.content_hash


def test_a_hub_push_is_run_by_a_worker_and_its_failure_is_recorded(
    celery_workers: Callable[..., Any], settings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a finished export, a token and a Hub endpoint where nothing listens, for the web app and the worker
    for name, value in (("HF_TOKEN", "hf_not_a_real_token"), ("HF_ENDPOINT", "http://127.0.0.1:9")):
        monkeypatch.setenv(name, value)
    settings.EXPORTS_HUB_TOKEN, settings.EXPORTS_HUB_ENDPOINT = "hf_not_a_real_token", "http://127.0.0.1:9"
    project = ranking_project(["Explain how tides work."])
    trainer = user_ensure("trainer", PASSWORD, role=TRAINER)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_issue(trainer)}")
    export_id = api.post("/api/v1/exports/", {"format": "reward", "projects": [project.pk]}, format="json").json()["id"]
    export_run(export_id)
    worker = celery_workers("exports-push", queues="default")
    # when a push is requested through the API
    response = api.post(f"/api/v1/exports/{export_id}/push/", {"repo_id": "me/data"}, format="json")
    assert response.status_code == 202, response.content
    # then the worker runs it and records why it failed
    wait_for(lambda: Export.objects.get(pk=export_id).hub_status != Export.HubStatus.PENDING, 120,
             "the push to finish", [worker])
    export = Export.objects.get(pk=export_id)
    assert export.hub_status == Export.HubStatus.FAILED
    assert "could not push to the Hugging Face Hub at http://127.0.0.1:9" in export.hub_error


def test_a_worker_builds_a_large_export_in_several_processes_with_the_bytes_of_one(
    celery_workers: Callable[..., Any], settings: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given a ranking project, exported here in one process, and a worker that builds exports in three
    project = ranking_project([f"Question {n}: why is the sky blue?" for n in range(12)])
    trainer = user_ensure("trainer", PASSWORD, role=TRAINER)
    settings.EXPORT_PROCESSES = 1
    inline = export_run(export_create(trainer, format="reward", projects=[project.pk], enqueue=False).pk)
    monkeypatch.setenv("EXPORT_PROCESSES", "3")
    monkeypatch.setenv("EXPORT_PARALLEL_MIN_ITEMS", "1")
    worker = celery_workers("exports-parallel", queues="default")
    # when the same export is sent to the worker (its process forks the parts inside a Celery pool process)
    export = export_create(trainer, format="reward", projects=[project.pk])
    wait_for(lambda: Export.objects.get(pk=export.pk).is_finished, 120, "the export to finish", [worker])
    # then it completes with the same rows as the export made in one process
    export = Export.objects.get(pk=export.pk)
    assert export.status == Export.Status.COMPLETED, export.error
    assert export.content_hash == inline.content_hash
    assert export.card["sources"] == inline.card["sources"]
