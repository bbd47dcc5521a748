"""The quality dashboard and review page in a real browser: charts drawn, annotator table with flags, leaderboard,
pausing an annotator, in English and in Chinese."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from annotation.models import Membership
from annotation.services.quality import project_quality_refresh
from tests.fixtures.jobs import UserFactory
from tests.support.annotation_quality import annotate, make_item, make_project, make_users

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "pass-for-tests"  # UserFactory's


def _project() -> Any:
    """Pairwise, 30 items over three days; two careful annotators prefer model "large", one always picks "a"."""
    rng = random.Random(3)
    project = make_project("pairwise", name="Helpful answers", overlap=3, max_overlap=3)
    careful = make_users(2, "careful", project)
    biased = make_users(1, "clicker", project)[0]
    start = timezone.now() - timedelta(days=3)
    for n in range(30):
        item = make_item(project, f"q{n}", [{"id": "r1", "text": "short " * rng.randint(1, 30), "model": "small"},
                                            {"id": "r2", "text": "long " * rng.randint(1, 30), "model": "large"}])
        when = start + timedelta(hours=2 * n)
        for user in careful:
            order = ["r1", "r2"] if rng.random() < 0.5 else ["r2", "r1"]
            prefers_large = rng.random() < 0.8
            choice = "a" if (order[0] == "r2") == prefers_large else "b"
            annotate(item, user, {"choice": choice, "strength": 2}, order, seconds=rng.uniform(20, 80), when=when)
        order = ["r1", "r2"] if rng.random() < 0.5 else ["r2", "r1"]
        annotate(item, biased, {"choice": "a", "strength": 3}, order, seconds=rng.uniform(20, 80), when=when)
    project_quality_refresh(project.pk)
    return project


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_manager_sees_charts_flags_and_leaderboard_and_pauses_an_annotator(
    page: Page, live_server: Any, tmp_path: Path
) -> None:
    project = _project()
    UserFactory(username="qc-boss", role="manager")
    _log_in(page, live_server.url, "qc-boss")

    page.goto(f"{live_server.url}/annotation/projects/{project.pk}/quality/")

    expect(page.locator("body[data-qc-ready='1']")).to_have_count(1)
    expect(page.locator(".qc-chart .uplot canvas")).to_have_count(4)  # throughput, agreement, time, bias
    rows = page.locator("#annotator-table tbody tr")
    expect(rows).to_have_count(3)
    clicker = page.locator("#annotator-table tr[data-annotator='clicker0']")
    expect(clicker.locator(".qc-flag")).to_contain_text(["Position bias"])
    expect(page.locator("#annotator-table tr[data-annotator='careful0'] .qc-flag")).to_have_count(0)
    expect(page.locator("#leaderboard-table tbody tr").first).to_contain_text("large")
    expect(page.locator("#winrate-table tbody tr")).to_have_count(2)
    expect(page.get_by_test_id("headline")).not_to_have_text("…")
    page.screenshot(path=str(tmp_path / "dashboard-en.png"), full_page=True)

    clicker.get_by_role("button", name="Pause").click()

    expect(clicker.get_by_role("button", name="Resume")).to_be_visible()
    assert Membership.objects.get(project=project, user__username="clicker0").paused


def test_dashboard_in_chinese(page: Page, live_server: Any, tmp_path: Path) -> None:
    project = _project()
    UserFactory(username="qc-boss-zh", role="manager")
    _log_in(page, live_server.url, "qc-boss-zh")
    page.goto(f"{live_server.url}/annotation/projects/{project.pk}/quality/")

    page.get_by_role("button", name="简体中文").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("body[data-qc-ready='1']")).to_have_count(1)
    expect(page.get_by_role("heading", name="模型排行榜")).to_be_visible()  # the template's strings
    expect(page.locator("#annotator-table tr[data-annotator='clicker0'] .qc-flag")).to_contain_text(["位置偏差"])
    expect(page.locator(".qc-chart .uplot canvas")).to_have_count(4)
    page.screenshot(path=str(tmp_path / "dashboard-zh.png"), full_page=True)


def test_reviewer_accepts_an_annotation_on_the_review_page(page: Page, live_server: Any) -> None:
    project = make_project("label", overlap=3, max_overlap=3, agreement_threshold=0.5)
    annotators = make_users(3, "split", project)
    item = make_item(project, "disputed")
    for user, label in zip(annotators, ["good", "bad", "spam"], strict=True):
        annotate(item, user, {"labels": [label]})
    project_quality_refresh(project.pk)
    reviewer = UserFactory(username="qc-reviewer", role="reviewer")
    Membership.objects.create(project=project, user=reviewer, role="reviewer")
    _log_in(page, live_server.url, "qc-reviewer")

    page.goto(f"{live_server.url}/annotation/projects/{project.pk}/review/")
    expect(page.locator(".review-card")).to_have_count(3)
    page.locator(".review-card").first.get_by_role("button", name="Accept").click()

    expect(page.get_by_text("Review saved.")).to_be_visible()
    expect(page.locator(".review-card")).to_have_count(2)
