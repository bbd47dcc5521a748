"""The trainer's run page in a real browser: live charts drawn from the API, in English and Chinese."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from accounts.services import user_ensure
from training.models import Run
from training.services.runs import run_metrics_record

PASSWORD = "pw-trainer-browser-1"


def _log_in(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("input[name=username]").fill("trainer")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit], form input[type=submit]").last.click()
    page.wait_for_load_state()


@pytest.fixture
def finished_run(transactional_db: None, tmp_path: Any) -> Run:
    user_ensure("trainer", PASSWORD, role="trainer")
    run = Run.objects.create(kind="sft", status=Run.Status.SUCCEEDED, dataset_path=str(tmp_path),
                             content_hash="a" * 64, base_model=str(tmp_path), output_path=str(tmp_path / "out"),
                             max_steps=3, global_step=3)
    for step in (1, 2, 3):
        run_metrics_record(run.pk, step, {"loss": 4.0 / step, "learning_rate": 1e-4, "grad_norm": 0.5 + step})
    return run


def test_run_page_draws_a_chart_per_logged_metric(page: Page, live_server: Any, finished_run: Run) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    _log_in(page, live_server.url)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Training runs").click()  # the trainer's nav entry
    page.get_by_role("link", name=f"#{finished_run.pk}").click()
    loss = page.locator("figure[data-metric=loss]")
    expect(loss).to_be_visible()
    expect(loss.locator("h3")).to_have_text("Loss")
    expect(loss.locator("canvas")).to_have_count(1)
    expect(page.locator("figure[data-metric=grad_norm]")).to_be_visible()
    expect(page.locator("figure[data-metric=kl]")).to_have_count(0)  # nothing logged, no chart
    expect(page.locator("#no-metrics")).to_be_hidden()
    expect(page.locator("#run-steps")).to_have_text("3 / 3")
    assert errors == []


def test_run_page_speaks_chinese(browser: Browser, live_server: Any, finished_run: Run) -> None:
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    try:
        _log_in(page, live_server.url)
        page.goto(f"{live_server.url}/training/runs/{finished_run.pk}/")
        expect(page.locator("figure[data-metric=loss] h3")).to_have_text("损失")
        expect(page.locator("h2").first).to_have_text("指标")
    finally:
        context.close()
