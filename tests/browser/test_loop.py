"""The audit page in a real browser: measured precision, the what-if slider updating counts from stored signals,
saving a recipe version, the train button; the page in Chinese."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from accounts.roles import DATA_ENGINEER
from accounts.services import user_ensure
from curation.selectors import job_recipe
from loop.models import AuditSample, RecipeVersion
from loop.services.audits import audit_create
from loop.services.tables import signal_table_ensure
from loop.signal_table import whatif
from tests.support.annotation_quality import annotate, make_users
from tests.support.loop_jobs import finished_job

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "loop-test-pass-1"


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_an_engineer_audits_tunes_a_threshold_and_trains_from_the_browser(page: Page, live_server: Any,
                                                                        settings: Any, tmp_path: Path) -> None:
    # given a finished job, an audit with labels, and a data engineer
    settings.QUALITY_MODEL_REGISTRIES = [str(tmp_path / "models")]
    user = user_ensure("engineer", PASSWORD, role=DATA_ENGINEER)
    job = finished_job(tmp_path / "job", copies=12, user=user)
    audit = audit_create(job, steps=["gopher_repetition", "fineweb"], half_width=0.2, seed=2)
    people = make_users(2, "browser-labeller", audit.project)
    samples = {s.item_id: s for s in AuditSample.objects.filter(audit=audit).select_related("item")}
    for sample in samples.values():  # a document sampled for both steps is one item
        for person in people:
            annotate(sample.item, person, {"labels": ["junk" if sample.doc_id.startswith("junk") else "good"]})
    _log_in(page, live_server.url, "engineer")

    # when they follow the job page's link to the audit page
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.locator("[data-audit-link]").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{job.pk}/audit/$"))

    # then the measured precision is shown per step, with the labellers' agreement
    expect(page.get_by_role("heading", name="Measured precision")).to_be_visible()
    expect(page.locator('tr.step-row[data-step="gopher_repetition"]')).to_contain_text("100%")
    expect(page.locator('[data-field="alpha"]')).not_to_have_text("not enough labels")

    # when they pick the last filter and move its short-line threshold
    page.locator("#whatif-step").select_option("3")
    expect(page.locator('[data-count="step_removed_total"]')).to_have_text("0")
    expected = whatif(signal_table_ensure(job), job_recipe(job), 3, {"max_short_line_ratio": 0.1})
    assert sum(expected.step_removed.values()) > 0
    slider = page.locator("#p-3-max_short_line_ratio")
    slider.evaluate("(node) => { node.value = '0.1'; node.dispatchEvent(new Event('input', {bubbles: true})); }")

    # then the counts follow, from the stored signals
    expect(page.locator('[data-count="step_removed_total"]')).to_have_text(str(sum(expected.step_removed.values())))
    expect(page.locator('[data-count="job_kept"]')).to_have_text(str(expected.job_kept))

    # when they save the threshold as a recipe version
    page.get_by_role("button", name="Save as a new recipe version").click()
    expect(page.locator("#version-result")).to_contain_text("Saved as recipe version 1")
    assert RecipeVersion.objects.get(job=job).changes == {"max_short_line_ratio": 0.1}

    # and train the quality classifier from the audit's labels
    page.get_by_role("button", name="Train the quality classifier from these labels").click()
    expect(page.locator(".train-result")).to_contain_text("Model registered", timeout=60_000)
    assert list((tmp_path / "models" / "quality-classifier").iterdir())

    # and the page reads in Chinese when they switch the language
    page.locator('button[name="language"][value="zh-hans"]').click()
    expect(page.get_by_role("heading", name="实测精确率")).to_be_visible()
    expect(page.get_by_role("heading", name="假设分析")).to_be_visible()
