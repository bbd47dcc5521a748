"""Quality API: who may call what, the figures it returns, reviews, pausing; gold items look like any other."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from annotation.models import Annotation, Membership
from annotation.services.quality import GOLD_TARGET_OVERLAP, project_quality_refresh
from tests.fixtures.jobs import UserFactory
from tests.support.annotation_quality import annotate, make_item, make_project, make_users

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def manager() -> Any:
    return UserFactory(username="qc-manager", role="manager")


@pytest.fixture
def pairwise_project() -> Any:
    project = make_project("pairwise", overlap=3, max_overlap=3)
    users = make_users(3, "pw", project)
    for n in range(8):
        item = make_item(project, f"p{n}", [{"id": "r1", "text": "short", "model": "small"},
                                            {"id": "r2", "text": "a longer answer", "model": "large"}])
        for index, user in enumerate(users):
            choice = "b" if index < 2 else "a"
            annotate(item, user, {"choice": choice, "strength": 2}, ["r1", "r2"], seconds=20.0 + n)
    project_quality_refresh(project.pk)
    return project


def test_manager_gets_the_dashboard_figures(manager: Any, pairwise_project: Any) -> None:
    response = _client(manager).get(f"/api/v1/projects/{pairwise_project.pk}/quality/")

    assert response.status_code == 200
    body = response.json()
    assert body["counts"]["annotations"] == 24
    assert body["stale"] is False
    assert {row["username"] for row in body["annotators"]} == {"pw0", "pw1", "pw2"}
    assert body["headline"]["metric"] == "krippendorff_alpha"
    assert sum(point["n"] for point in body["throughput"]["points"]) == 24
    assert sum(body["time_per_task"]["counts"]) == 24
    assert body["bias"]["position"]["n"] == 24


def test_leaderboard_ranks_the_preferred_model_first(manager: Any, pairwise_project: Any) -> None:
    body = _client(manager).get(f"/api/v1/projects/{pairwise_project.pk}/leaderboard/").json()

    assert [row["model"] for row in body["models"]] == ["large", "small"]
    assert body["models"][0]["wins"] == 16 and body["models"][0]["battles"] == 24
    assert body["matrix"]["battles"][0][1] == 24


@pytest.mark.parametrize("url", ["quality/", "leaderboard/", "quality/settings/"])
def test_annotators_get_403_and_strangers_404(url: str, pairwise_project: Any) -> None:
    member = Membership.objects.filter(project=pairwise_project).first().user  # type: ignore[union-attr]
    stranger = UserFactory(username="stranger", role="annotator")

    assert _client(member).get(f"/api/v1/projects/{pairwise_project.pk}/{url}").status_code == 403
    assert _client(stranger).get(f"/api/v1/projects/{pairwise_project.pk}/{url}").status_code == 404
    assert Client().get(f"/api/v1/projects/{pairwise_project.pk}/{url}").status_code in (401, 403)


def test_settings_patch_validates_and_saves(manager: Any, pairwise_project: Any) -> None:
    client = _client(manager)
    url = f"/api/v1/projects/{pairwise_project.pk}/quality/settings/"

    bad = client.patch(url, {"min_gold_accuracy": 3}, content_type="application/json")
    good = client.patch(url, {"min_active_seconds": 8, "agreement_threshold": 0.6}, content_type="application/json")

    assert bad.status_code == 400 and bad.json()["field"] == "min_gold_accuracy"
    assert good.status_code == 200
    assert good.json()["min_active_seconds"] == 8.0 and good.json()["agreement_threshold"] == 0.6


def test_a_reviewer_edits_an_annotation_and_the_original_stays(pairwise_project: Any) -> None:
    reviewer = UserFactory(username="qc-reviewer", role="reviewer")
    Membership.objects.create(project=pairwise_project, user=reviewer, role="reviewer")
    annotation = Annotation.objects.filter(project=pairwise_project).first()
    assert annotation is not None
    client = _client(reviewer)

    response = client.post(f"/api/v1/annotations/{annotation.pk}/review/",
                           {"action": "edit", "payload": {"choice": "tie"}, "comment": "equal"},
                           content_type="application/json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "edited"
    assert body["payload"] == annotation.payload
    assert body["effective_payload"] == {"choice": "tie", "strength": None}
    assert body["reviews"][0]["action"] == "edit" and body["reviews"][0]["comment"] == "equal"
    history = client.get(f"/api/v1/annotations/{annotation.pk}/reviews/").json()
    assert len(history["reviews"]) == 1


def test_an_annotator_of_the_project_cannot_review(pairwise_project: Any) -> None:
    member = Membership.objects.filter(project=pairwise_project).first().user  # type: ignore[union-attr]
    annotation = Annotation.objects.filter(project=pairwise_project).first()
    assert annotation is not None

    response = _client(member).post(f"/api/v1/annotations/{annotation.pk}/review/", {"action": "accept"},
                                    content_type="application/json")

    assert response.status_code == 403
    annotation.refresh_from_db()
    assert annotation.status == "submitted"


def test_a_bad_edit_is_refused_with_the_reason(manager: Any, pairwise_project: Any) -> None:
    annotation = Annotation.objects.filter(project=pairwise_project).first()
    assert annotation is not None

    response = _client(manager).post(f"/api/v1/annotations/{annotation.pk}/review/",
                                     {"action": "edit", "payload": {"choice": "c"}}, content_type="application/json")

    assert response.status_code == 400 and response.json()["field"] == "choice"


def test_manager_pauses_and_resumes_an_annotator(manager: Any, pairwise_project: Any) -> None:
    member = Membership.objects.filter(project=pairwise_project).first()
    assert member is not None
    url = f"/api/v1/projects/{pairwise_project.pk}/members/{member.user_id}/pause/"
    client = _client(manager)

    paused = client.post(url, {"paused": True}, content_type="application/json")
    member.refresh_from_db()
    assert paused.json()["paused"] is True and member.paused

    client.post(url, {"paused": False}, content_type="application/json")
    member.refresh_from_db()
    assert not member.paused


def test_refresh_with_wait_recomputes_now(manager: Any, pairwise_project: Any) -> None:
    item = make_item(pairwise_project, "late")
    annotate(item, make_users(1, "late", pairwise_project)[0], {"choice": "a", "strength": 1}, ["r1", "r2"])
    client = _client(manager)
    assert client.get(f"/api/v1/projects/{pairwise_project.pk}/quality/").json()["stale"] is True

    body = client.post(f"/api/v1/projects/{pairwise_project.pk}/quality/refresh/?wait=1").json()

    assert body["stale"] is False and body["counts"]["annotations"] == 25


def _keys(value: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON value, e.g. {"item.id", "item.responses[].text"}."""
    if isinstance(value, dict):
        found = set()
        for key, inner in value.items():
            found |= {f"{prefix}{key}"} | _keys(inner, f"{prefix}{key}.")
        return found
    if isinstance(value, list):
        return set().union(*(_keys(inner, f"{prefix[:-1]}[].") for inner in value)) if value else set()
    return set()


def test_gold_and_ordinary_assignments_send_the_same_keys_and_no_answer() -> None:
    # At a gold rate of one half, one of the two claims is the gold item, whichever comes first.
    project = make_project("label", overlap=1, max_overlap=1, gold_rate=0.5)
    annotator = make_users(1, "blind", project)[0]
    make_item(project, "gold-1", is_gold=True, expected={"labels": ["spam"]}, target_overlap=GOLD_TARGET_OVERLAP)
    make_item(project, "plain-1")
    client = _client(annotator)

    served = []
    for _ in range(2):
        response = client.post(f"/api/v1/projects/{project.pk}/assignments/next/")
        assert response.status_code == 200, response.content
        served.append(response.json())
        detail = client.get(f"/api/v1/assignments/{served[-1]['id']}/")
        assert _keys(detail.json()) == _keys(served[-1])
        submitted = client.post(f"/api/v1/assignments/{served[-1]['id']}/submit/",
                                {"payload": {"labels": ["good"]}}, content_type="application/json")
        assert submitted.status_code == 201, submitted.content

    assert {body["item"]["id"] for body in served} == {"gold-1", "plain-1"}
    assert _keys(served[0]) == _keys(served[1])
    for body in served:
        text = json.dumps(body)
        assert "expected" not in text and "is_gold" not in text and "spam\"]" not in text
    page = client.get(f"/annotate/{project.pk}/")
    assert page.status_code == 200 and b"expected" not in page.content and b"is_gold" not in page.content
