"""Quality refresh on a real Celery worker: the endpoint's and the submit hook's tasks run and store the figures."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from annotation.models_quality import ItemConsensus, QualitySnapshot
from annotation.services import quality
from tests.fixtures.jobs import UserFactory
from tests.fixtures.workers import wait_for
from tests.support.annotation_quality import annotate, make_item, make_project, make_users

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def _project() -> Any:
    project = make_project("label")
    users = make_users(3, "wk", project)
    for n in range(4):
        item = make_item(project, f"w{n}")
        for user, label in zip(users, ["good", "good", "bad"], strict=True):
            annotate(item, user, {"labels": [label]})
    return project


def test_refresh_endpoint_queues_a_task_that_a_worker_runs(celery_workers: Any) -> None:
    worker = celery_workers("qc", queues="default")
    project = _project()
    client = Client()
    client.force_login(UserFactory(username="wk-manager", role="manager"))

    response = client.post(f"/api/v1/projects/{project.pk}/quality/refresh/")

    assert response.status_code == 202
    wait_for(lambda: QualitySnapshot.objects.filter(project=project).exists(), 60, "the snapshot", [worker])
    assert ItemConsensus.objects.filter(project=project).count() == 4
    assert client.get(f"/api/v1/projects/{project.pk}/quality/").json()["stale"] is False


def test_refresh_soon_schedules_one_task_per_window(celery_workers: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = celery_workers("qc-soon", queues="default")
    monkeypatch.setattr(quality, "REFRESH_DEBOUNCE_SECONDS", 1)
    project = _project()

    first = quality.quality_refresh_soon(project.pk)
    second = quality.quality_refresh_soon(project.pk)

    assert (first, second) == (True, False)
    wait_for(lambda: QualitySnapshot.objects.filter(project=project).exists(), 60, "the snapshot", [worker])
    assert QualitySnapshot.objects.get(project=project).annotations_count == 12
