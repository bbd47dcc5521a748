"""Quality pages: the dashboard shell, the review queue and its forms, and who may open them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from annotation.models import Annotation, Membership
from annotation.models_quality import Review
from annotation.services.quality import project_quality_refresh
from tests.fixtures.jobs import UserFactory
from tests.support.annotation_quality import annotate, make_item, make_project, make_users

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def routed_project() -> Any:
    """A label project whose one item went to review: three annotators, three different labels, at the cap."""
    project = make_project("label", overlap=3, max_overlap=3, agreement_threshold=0.5)
    users = make_users(3, "rv", project)
    item = make_item(project, "<script>alert(1)</script>")
    for user, label in zip(users, ["good", "bad", "spam"], strict=True):
        annotate(item, user, {"labels": [label]})
    project_quality_refresh(project.pk)
    return project


def test_dashboard_page_has_its_script_data_and_csp(routed_project: Any) -> None:
    manager = UserFactory(username="dash-manager", role="manager")

    response = _client(manager).get(f"/annotation/projects/{routed_project.pk}/quality/")

    assert response.status_code == 200
    assert b'id="quality-data"' in response.content
    assert b"uPlot.iife.min.js" in response.content and b"dashboard.js" in response.content
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_dashboard_page_refuses_annotators(routed_project: Any) -> None:
    member = Membership.objects.filter(project=routed_project).first().user  # type: ignore[union-attr]

    assert _client(member).get(f"/annotation/projects/{routed_project.pk}/quality/").status_code == 403


def test_review_page_lists_the_routed_annotations_as_text(routed_project: Any) -> None:
    reviewer = UserFactory(username="page-reviewer", role="reviewer")
    Membership.objects.create(project=routed_project, user=reviewer, role="reviewer")

    response = _client(reviewer).get(f"/annotation/projects/{routed_project.pk}/review/")

    assert response.status_code == 200
    assert response.content.count(b'class="card review-card"') == 3
    assert b"<script>alert(1)</script>" not in response.content
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in response.content


def test_review_form_accepts_and_edits(routed_project: Any) -> None:
    manager = UserFactory(username="form-manager", role="manager")
    client = _client(manager)
    first, second = Annotation.objects.filter(project=routed_project).order_by("id")[:2]

    accepted = client.post(f"/annotation/annotations/{first.pk}/review/", {"action": "accept"})
    edited = client.post(f"/annotation/annotations/{second.pk}/review/",
                         {"action": "edit", "payload": '{"labels": ["good"]}', "comment": "typo"})

    assert accepted.status_code == edited.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == "accepted"
    assert second.status == "edited" and second.payload == {"labels": ["bad"]}
    assert Review.objects.get(annotation=second).payload == {"labels": ["good"]}


def test_review_form_says_why_bad_json_was_refused(routed_project: Any) -> None:
    manager = UserFactory(username="json-manager", role="manager")
    annotation = Annotation.objects.filter(project=routed_project).first()
    assert annotation is not None

    response = _client(manager).post(f"/annotation/annotations/{annotation.pk}/review/",
                                     {"action": "edit", "payload": "{labels"})

    assert response.status_code == 400
    assert b"not valid JSON" in response.content
    assert not Review.objects.exists()


def _settings(**changes: Any) -> dict[str, Any]:
    values = {"gold_rate": "0.1", "agreement_threshold": "0.6", "max_overlap": "4", "likert_tolerance": "1",
              "ranking_min_tau": "0.5", "min_active_seconds": "4", "min_gold_accuracy": "0.8", "min_tasks": "12",
              "weight_by_trust": "on"}
    values.update(changes)
    return values


def test_manager_saves_the_quality_settings(routed_project: Any) -> None:
    client = _client(UserFactory(username="set-manager", role="manager"))

    response = client.post(f"/annotation/projects/{routed_project.pk}/quality/settings/", _settings())

    assert response.status_code == 302
    routed_project.refresh_from_db()
    settings = routed_project.quality_settings
    assert (routed_project.gold_rate, routed_project.agreement_threshold, routed_project.max_overlap) == (0.1, 0.6, 4)
    assert (settings.likert_tolerance, settings.min_tasks, settings.weight_by_trust) == (1, 12, True)


def test_a_bad_setting_is_shown_on_its_field_and_nothing_changes(routed_project: Any) -> None:
    client = _client(UserFactory(username="bad-set-manager", role="manager"))

    # max_overlap below the project's overlap (3): refused by the service, shown on the field
    response = client.post(f"/annotation/projects/{routed_project.pk}/quality/settings/", _settings(max_overlap="2"))

    assert response.status_code == 400
    assert b'data-field="max_overlap"' in response.content and b"has-error" in response.content
    routed_project.refresh_from_db()
    assert routed_project.max_overlap == 3 and routed_project.gold_rate == 0.0


def test_promote_button_makes_gold_of_unanimous_items() -> None:
    project = make_project("label", overlap=2, max_overlap=2)
    users = make_users(2, "pr", project)
    agreed = make_item(project, "agreed")
    for user in users:
        annotate(agreed, user, {"labels": ["good"]})
    client = _client(UserFactory(username="gold-manager", role="manager"))

    response = client.post(f"/annotation/projects/{project.pk}/quality/gold/", follow=True)

    agreed.refresh_from_db()
    assert agreed.is_gold and agreed.expected == {"labels": ["good"]}
    assert b"1 item is now a gold item." in response.content
