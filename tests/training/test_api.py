"""The training API, pages and services: who may use them, what a request records, bad input refused."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import user_ensure
from training.models import Pipeline, Run, RunMetric
from training.services.runs import run_claim, run_metrics_record, runs_reap

pytestmark = pytest.mark.django_db


@pytest.fixture
def trainer() -> Any:
    return user_ensure("trainer", "pw-trainer-1", role="trainer")


@pytest.fixture
def api(trainer: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(trainer)
    return client


def _submit(api: APIClient, **body: Any) -> Any:
    return api.post("/api/v1/runs/", body, format="json")


def test_annotators_get_no_training_api_or_page(client: Any) -> None:
    annotator = user_ensure("ann", "pw-ann-1", role="annotator")
    api = APIClient()
    api.force_authenticate(annotator)
    assert api.get("/api/v1/runs/").status_code == 403
    client.force_login(annotator)
    assert client.get("/training/runs/").status_code == 403


def test_post_run_records_a_pending_run_with_the_exports_content_hash(
        api: APIClient, tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    response = _submit(api, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model),
                       hyperparameters={"max_steps": 5})
    assert response.status_code == 201, response.json()
    run = Run.objects.get(pk=response.json()["id"])
    assert run.status == Run.Status.PENDING and run.max_steps == 5
    assert run.content_hash and len(run.content_hash) == 64
    assert run.output_path.endswith(f"training/runs/{run.pk}")
    assert run.hyperparameters["learning_rate"] == 1e-4  # defaults are recorded, not implied


@pytest.mark.parametrize(("body", "field"), [
    ({"kind": "sft", "dataset": "/nonexistent"}, "dataset"),
    ({"kind": "dpo", "dataset": "SFT"}, "dataset"),  # an sft export has no chosen/rejected
    ({"kind": "sft", "dataset": "SFT", "hyperparameters": {"max_step": 3}}, "hyperparameters"),
    ({"kind": "ppo", "dataset": "PPO"}, "reward_run"),
    ({"kind": "sft", "dataset": "SFT", "base_model": "/nonexistent"}, "model"),
])
def test_bad_run_requests_are_refused_with_the_field_and_record_nothing(
        api: APIClient, tiny_model: Path, demo_exports: dict[str, Path], body: dict[str, Any], field: str) -> None:
    body = {**body, "base_model": body.get("base_model", str(tiny_model))}
    body["dataset"] = {"SFT": str(demo_exports["sft"]), "PPO": str(demo_exports["ppo"])}.get(body["dataset"],
                                                                                           body["dataset"])
    response = _submit(api, **body)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert not Run.objects.exists()


def test_run_detail_returns_metrics_after_a_step_and_a_relogged_step_replaces_its_row(
        api: APIClient, tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    run_id = _submit(api, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model)).json()["id"]
    for step in (1, 2, 3):
        run_metrics_record(run_id, step, {"loss": 5.0 - step, "learning_rate": 1e-4, "grad_norm": 1.0})
    run_metrics_record(run_id, 3, {"loss": 0.5})  # logged again after a resume
    body = api.get(f"/api/v1/runs/{run_id}/?since=1").json()
    assert [m["step"] for m in body["metrics"]] == [2, 3]
    assert body["metrics"][1]["loss"] == 0.5 and body["metrics"][1]["grad_norm"] is None
    assert RunMetric.objects.filter(run_id=run_id).count() == 3
    bad = api.get(f"/api/v1/runs/{run_id}/?since=abc")
    assert bad.status_code == 400 and bad.json()["field"] == "since"


def test_cancel_stops_a_queued_run_and_a_second_cancel_conflicts(
        api: APIClient, tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    run_id = _submit(api, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model)).json()["id"]
    assert api.post(f"/api/v1/runs/{run_id}/cancel/").json()["status"] == "cancelled"
    again = api.post(f"/api/v1/runs/{run_id}/cancel/")
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert run_claim(run_id, "w1") is None  # a late message does not start it


def test_pipeline_creates_its_chain_with_only_the_first_stage_queued_and_cancel_stops_it(
        api: APIClient, tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    response = api.post("/api/v1/pipelines/", {
        "kind": "rlhf", "name": "chain", "base_model": str(tiny_model),
        "datasets": {stage: str(demo_exports[stage]) for stage in ("sft", "reward", "ppo")}}, format="json")
    assert response.status_code == 201, response.json()
    runs = {run["kind"]: run for run in response.json()["runs"]}
    assert runs["sft"]["status"] == "pending"
    assert runs["reward"]["status"] == runs["ppo"]["status"] == "waiting"
    assert runs["reward"]["parent"] == runs["sft"]["id"]
    assert runs["ppo"]["parent"] == runs["sft"]["id"] and runs["ppo"]["reward_run"] == runs["reward"]["id"]
    pipeline_id = response.json()["id"]
    assert api.post(f"/api/v1/pipelines/{pipeline_id}/cancel/").json()["status"] == "cancelled"
    assert set(Run.objects.filter(pipeline_id=pipeline_id).values_list("status", flat=True)) == {"cancelled"}


def test_a_pipeline_missing_a_stage_export_is_refused_whole(api: APIClient, tiny_model: Path,
                                                            demo_exports: dict[str, Path]) -> None:
    response = api.post("/api/v1/pipelines/", {"kind": "rlhf", "base_model": str(tiny_model),
                                               "datasets": {"sft": str(demo_exports["sft"])}}, format="json")
    assert response.status_code == 400 and response.json()["field"] == "datasets"
    assert not Pipeline.objects.exists() and not Run.objects.exists()


def test_reaper_requeues_a_run_whose_lease_expired_but_not_a_live_one(
        api: APIClient, tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    ids = [_submit(api, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model)).json()["id"]
           for _ in range(2)]
    for run_id, worker in zip(ids, ("dead", "alive"), strict=True):
        assert run_claim(run_id, worker) is not None
    assert run_claim(ids[1], "intruder") is None  # a live lease is never taken
    Run.objects.filter(pk=ids[0]).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert runs_reap() == [ids[0]]
    dead = Run.objects.get(pk=ids[0])
    assert dead.status == Run.Status.PENDING and dead.lease_owner == ""
    assert Run.objects.get(pk=ids[1]).status == Run.Status.RUNNING


def test_run_page_loads_its_chart_script_from_static_files_under_a_csp(
        client: Any, trainer: Any, tiny_model: Path, demo_exports: dict[str, Path], api: APIClient) -> None:
    run_id = _submit(api, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model)).json()["id"]
    client.force_login(trainer)
    response = client.get(f"/training/runs/{run_id}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "training/vendor/uPlot.iife.min.js" in html and f'data-api="/api/v1/runs/{run_id}/"' in html
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in html


def test_the_new_run_and_new_pipeline_forms_queue_work_and_show_errors_in_place(
        client: Any, trainer: Any, tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    client.force_login(trainer)
    response = client.post("/training/runs/new/", {"kind": "sft", "dataset": str(demo_exports["sft"]),
                                                   "base_model": str(tiny_model), "hyperparameters": "{}"})
    run = Run.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/training/runs/{run.pk}/"
    bad = client.post("/training/runs/new/", {"kind": "dpo", "dataset": str(demo_exports["sft"]),
                                              "base_model": str(tiny_model), "hyperparameters": "{}"})
    assert bad.status_code == 200 and "prompt/chosen/rejected" in bad.content.decode()
    response = client.post("/training/pipelines/", {
        "kind": "dpo", "name": "d", "base_model": str(tiny_model), "sft": str(demo_exports["sft"]),
        "dpo": str(demo_exports["dpo"]), "hyperparameters": '{"dpo": {"beta": 0.2}}'})
    pipeline = Pipeline.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/training/pipelines/{pipeline.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert "SFT → DPO" in page and page.count("/training/runs/") >= 2
    assert Run.objects.get(pipeline=pipeline, kind="dpo").hyperparameters["beta"] == 0.2


def test_the_cancel_button_on_a_run_already_cancelled_shows_the_conflict_page(
        api: APIClient, trainer: Any, client: Any, tiny_model: Path, demo_exports: dict[str, Path]) -> None:
    # given a run cancelled once from its page
    run_id = _submit(api, kind="sft", dataset=str(demo_exports["sft"]), base_model=str(tiny_model)).json()["id"]
    client.force_login(trainer)
    first = client.post(f"/training/runs/{run_id}/cancel/", follow=True)
    assert first.status_code == 200 and Run.objects.get(pk=run_id).status == "cancelled"
    # when the button is pressed again (a second tab), then the console's error page says why, with 409
    again = client.post(f"/training/runs/{run_id}/cancel/")
    assert again.status_code == 409
    assert "cancel" in again.content.decode().lower()
