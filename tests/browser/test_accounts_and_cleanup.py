"""Browser tests: the "My API token" page (issue 8, item 12) and deleting a failed job (item 13)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import DATA_ENGINEER
from accounts.services import user_ensure
from curation.models import Job
from curation.services.jobs import job_run_local, job_submit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "browser-test-password"


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_engineer_makes_an_api_token_sees_it_once_and_uses_it(page: Page, live_server: Any) -> None:
    user_ensure("engineer", PASSWORD, role=DATA_ENGINEER)
    _log_in(page, live_server.url, "engineer")
    page.goto(f"{live_server.url}/accounts/token/")
    expect(page.locator('[data-token-status="none"]')).to_be_visible()

    page.get_by_role("button", name="Make a key").click()
    key = page.locator("[data-token]").inner_text().strip()
    assert len(key) > 40
    answer = page.request.get(f"{live_server.url}/api/v1/jobs/", headers={"Authorization": f"Token {key}"})
    assert answer.status == 200

    page.goto(f"{live_server.url}/accounts/token/")
    expect(page.locator("[data-token]")).to_have_count(0)
    expect(page.locator(f'[data-token-prefix="{key[:12]}"]')).to_be_visible()
    assert key not in page.content()


def test_engineer_deletes_a_failed_job_after_confirming(page: Page, live_server: Any, tmp_path: Path) -> None:
    engineer = user_ensure("engineer", PASSWORD, role=DATA_ENGINEER)
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "1", "text": "hello"}) + "\n")
    job = job_run_local(job_submit(recipe="extract-only", inputs=[str(source)], output=str(tmp_path / "o"),
                                   user=engineer))
    Job.objects.filter(pk=job.pk).update(status=Job.Status.FAILED)
    _log_in(page, live_server.url, "engineer")
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.locator("[data-audit] summary").click()
    expect(page.locator('[data-audit-action="submit"] [data-audit-actor]')).to_have_text("engineer")

    page.get_by_role("link", name="Delete job…").click()
    expect(page.get_by_role("heading", name=f"Delete job #{job.pk}?")).to_be_visible()
    assert Job.objects.filter(pk=job.pk).exists()  # nothing happens before the confirmation
    page.get_by_role("button", name="Delete the job and its files").click()

    expect(page).to_have_url(f"{live_server.url}/jobs/")
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not (tmp_path / "o").exists()
