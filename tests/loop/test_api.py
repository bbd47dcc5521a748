"""The loop API: audits, what-if, recipe versions and re-apply, training; for data engineers only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from loop.models import RecipeVersion
from tests.support.job_outputs import outputs
from tests.support.loop_jobs import finished_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(engineer: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(engineer)
    return client


def test_audit_whatif_version_and_reapply_through_the_api(api: APIClient, tmp_path: Path) -> None:
    job = finished_job(tmp_path)

    created = api.post(f"/api/v1/jobs/{job.pk}/audits/", {"steps": ["gopher_repetition"], "half_width": 0.2},
                       format="json")
    assert created.status_code == 201, created.content
    audit = created.json()
    assert audit["samples"] == 28 and audit["steps"] == [2]

    listing = api.get(f"/api/v1/jobs/{job.pk}/audit/").json()
    assert [a["id"] for a in listing["audits"]] == [audit["id"]]
    assert any(step["step"] == "fineweb" for step in listing["tunable_steps"])
    detail = api.get(f"/api/v1/audits/{audit['id']}/").json()
    assert detail["results"]["steps"][0]["removal_precision"]["n"] == 0  # nothing labelled yet

    whatif = api.post(f"/api/v1/jobs/{job.pk}/whatif/", {"step": "fineweb", "params": {"max_short_line_ratio": 0.1}},
                      format="json").json()
    assert whatif["step_removed_total"] > 0 and whatif["before"]["step_removed"] == 0

    saved = api.post(f"/api/v1/jobs/{job.pk}/recipe-versions/",
                     {"step": "fineweb", "params": {"max_short_line_ratio": 0.1}, "apply": True}, format="json")
    assert saved.status_code == 201, saved.content
    version = saved.json()
    assert version["version"] == 1 and "max_short_line_ratio: 0.1" in version["recipe_yaml"]
    kept = outputs(version["applied_output"], "kept")
    assert len(kept) == whatif["job_kept"]

    again = api.post(f"/api/v1/recipe-versions/{version['id']}/apply/", {}, format="json")
    assert again.status_code == 409  # the folder already holds outputs: nothing is overwritten
    assert RecipeVersion.objects.get(pk=version["id"]).applied_stats["documents"]["kept"] == len(kept)


def test_bad_threshold_is_a_clear_400(api: APIClient, tmp_path: Path) -> None:
    job = finished_job(tmp_path, copies=2)
    response = api.post(f"/api/v1/jobs/{job.pk}/whatif/", {"step": "fineweb", "params": {"no_such": 1}},
                        format="json")
    assert response.status_code == 400
    assert "no_such" in response.json()["detail"]
    response = api.post(f"/api/v1/jobs/{job.pk}/whatif/", {"step": "language2", "params": {}}, format="json")
    assert response.status_code == 400


def test_annotators_see_no_audit(annotator: Any, tmp_path: Path) -> None:
    job = finished_job(tmp_path, copies=1)
    client = APIClient()
    client.force_authenticate(annotator)
    assert client.get(f"/api/v1/jobs/{job.pk}/audit/").status_code == 404
    response = client.post("/api/v1/projects/1/train-classifier/", {}, format="json")
    assert response.status_code in (403, 404)
    assert json.loads(response.content)["detail"]


def test_reapply_in_the_background_sends_the_task(api: APIClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                  django_capture_on_commit_callbacks: Any) -> None:
    job = finished_job(tmp_path, copies=2)
    version = api.post(f"/api/v1/jobs/{job.pk}/recipe-versions/",
                       {"step": "fineweb", "params": {"max_short_line_ratio": 0.1}}, format="json").json()
    sent: list[Any] = []
    monkeypatch.setattr("loop.workflows.recipe_version_apply_task.apply_async", lambda **kw: sent.append(kw))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"/api/v1/recipe-versions/{version['id']}/apply/", {"background": True}, format="json")
    assert response.status_code == 202
    assert sent == [{"args": [version["id"]], "queue": "default"}]
