"""Exports in a real browser: a trainer opens the new-export form from a project's link, starts a reward export,
watches it finish without touching the page, and downloads a file that loads with `datasets`; the page in Chinese."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import datasets
import pytest
from playwright.sync_api import Page, expect

from accounts.roles import ANNOTATOR, MANAGER, TRAINER
from accounts.services import user_ensure
from exports.models import Export
from exports.services import export_run
from tests.support.export_projects import PASSWORD, ranking_project

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PROMPTS = ["Explain how tides work.", "请解释潮汐是怎么形成的。", "Name three rivers in Europe."]


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_a_trainer_exports_from_the_browser_and_downloads_the_data(page: Page, live_server: Any,
                                                                   tmp_path: Path) -> None:
    # given a ranking project and a trainer
    project = ranking_project(PROMPTS)
    user_ensure("trainer", PASSWORD, role=TRAINER)
    _log_in(page, live_server.url, "trainer")

    # when they open the form from the project's export link, choose reward pairs and start the export
    page.goto(f"{live_server.url}/exports/new/?project={project.pk}")
    expect(page.get_by_role("heading", name="New dataset export")).to_be_visible()
    expect(page.get_by_label("Annotation projects")).to_have_values([str(project.pk)])
    page.get_by_label("Format", exact=True).select_option("reward")
    page.get_by_label("Several annotators").select_option("majority")
    page.get_by_label("Test share").fill("0")
    page.get_by_label("File formats").select_option("jsonl")
    page.get_by_role("button", name="Start export").click()

    # then the export's page shows it pending and polls for progress
    expect(page).to_have_url(re.compile(r"/exports/\d+/$"))
    export = Export.objects.get()
    expect(page.locator('[data-field="status"]')).to_have_text("pending")
    with page.expect_response(re.compile(r".*/progress\.json$")):
        pass
    expect(page.locator('[data-field="stage"]')).to_have_text("")
    expect(page.locator('[data-field="counted"]')).to_have_text("items")

    # when a worker runs it (here, in this process), then the page shows the card and the files by itself
    export = export_run(export.pk)
    assert export.status == Export.Status.COMPLETED, export.error
    expect(page.locator('[data-field="status"]')).to_have_text("completed")
    expect(page.locator('[data-field="stage"]')).to_have_text("all rows written")
    expect(page.locator('[data-field="counted"]')).to_have_text("rows")
    expect(page.locator('[data-field="content-hash"]')).to_have_text(export.content_hash)
    expect(page.locator('[data-table="splits"]')).to_contain_text("15")

    # and the data file downloads and loads with datasets as reward pairs
    with page.expect_download() as download_info:
        page.get_by_role("link", name="data/train-00000-of-00001.jsonl").click()
    saved = tmp_path / "train.jsonl"
    download_info.value.save_as(saved)
    rows = [json.loads(line) for line in saved.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 15 and {"prompt", "chosen", "rejected", "margin"} == set(rows[0])
    loaded = datasets.load_dataset("json", data_files=str(saved), cache_dir=str(tmp_path / "cache"))["train"]
    assert loaded.num_rows == 15

    # and the page reads in Chinese when they switch the language
    page.locator('button[name="language"][value="zh-hans"]').click()
    expect(page.get_by_role("heading", name="数据集卡片")).to_be_visible()
    expect(page.locator('[data-field="status"]')).to_have_text("已完成")
    expect(page.locator('[data-field="stage"]')).to_have_text("所有行均已写入")


def test_a_manager_reaches_exports_from_the_project_page_and_the_top_menu(page: Page, live_server: Any) -> None:
    # given a ranking project, a manager, and an annotator
    project = ranking_project(PROMPTS[:1])
    user_ensure("manager", PASSWORD, role=MANAGER)
    user_ensure("someone", PASSWORD, role=ANNOTATOR)
    _log_in(page, live_server.url, "manager")
    # when the manager opens the project's page and presses its export button
    page.goto(f"{live_server.url}/annotation/projects/{project.pk}/")
    page.get_by_role("link", name="Export dataset").click()
    # then the new-export form opens with the project chosen
    expect(page.get_by_role("heading", name="New dataset export")).to_be_visible()
    expect(page.get_by_label("Annotation projects")).to_have_values([str(project.pk)])
    # and the top menu's "Exports" leads to the list of exports
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports").click()
    expect(page).to_have_url(re.compile(r"/exports/$"))
    # while an annotator's menu has no such link
    page.context.clear_cookies()
    _log_in(page, live_server.url, "someone")
    expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Exports")).to_have_count(0)
