"""Exports run as Celery tasks on the `default` queue, in a real worker process, and run once when sent twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.roles import TRAINER
from accounts.services import user_ensure
from exports.models import Export
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
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=trainer).key}")
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
