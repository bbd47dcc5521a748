"""The console in a real browser: log in, submit a job, watch it finish without reloading, read why documents were
removed; an annotator sees no curation link and is refused the job list; the schedules page shows a run that could
not start and a service's error on its form field."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, Request, Route, expect

from accounts.roles import ANNOTATOR, DATA_ENGINEER
from accounts.services import user_ensure
from curation.models import Job, JobSchedule
from curation.selectors import job_progress
from curation.services.jobs import job_run_local
from curation.services.schedules import schedule_create, schedule_fire

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "browser-test-pass-1"
# console.js polls every 2 s; a finished job must see no request in a bit more than two periods.
QUIET_AFTER_FINISH_MS = 4500


# Pasted into the form: extract, then Gopher's quality rules, which keep the long English page and remove the rest.
RECIPE = "name: extract-and-gopher\nsteps:\n  - extract: {}\n  - gopher_quality: {}\n"


def _write_input(folder: Path) -> Path:
    english = (
        "The committee met on Tuesday to review the annual budget and the plans for the new library. Members agreed "
        "that the reading rooms should stay open later in the evening, and that the children's section needs more "
        "books in the languages spoken by the families who live in the town. The proposal will be put to a vote "
        "at the next meeting, after the public has had a chance to comment on it. Several residents wrote to say "
        "that they would like a quiet room for study, and the librarian said that she would look into the cost."
    )
    docs = [
        {"id": "doc-en", "text": english, "url": "https://example.org/en", "lang": "en"},
        {"id": "doc-zh", "text": "图书馆委员会周二开会审议了年度预算和新馆建设计划。", "url": "https://example.org/zh",
         "lang": "zh"},
        {"id": "doc-empty", "text": "", "url": "https://example.org/empty"},
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "docs.jsonl"
    # The last line is not JSON: a read error the page must report.
    path.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs) + "{not json\n", encoding="utf-8")
    return path


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_engineer_submits_a_job_and_watches_it_finish_live(page: Page, live_server: Any, tmp_path: Path) -> None:
    user_ensure("engineer", PASSWORD, role=DATA_ENGINEER)
    input_path = _write_input(tmp_path / "input")

    # Progress requests wait here until the test next talks to the browser, so none reaches the server while the
    # job runs in this thread (with SQLite, the live server shares this thread's connection).
    progress_requests: list[str] = []

    def pass_progress(route: Route) -> None:
        route.continue_()

    page.route(re.compile(r".*/progress\.json$"), pass_progress)

    def on_request(request: Request) -> None:
        if request.url.endswith("/progress.json"):
            progress_requests.append(request.url)

    page.on("request", on_request)

    # given a data engineer who logs in through the form and lands on the job list
    _log_in(page, live_server.url, "engineer")
    expect(page).to_have_url(f"{live_server.url}/jobs/")
    expect(page.get_by_role("heading", name="Curation jobs")).to_be_visible()

    # when they submit a job over a JSON Lines file, pasting the recipe
    page.get_by_role("link", name="New job").first.click()
    page.locator("#id_recipe").select_option("")
    page.get_by_label("My own recipe (YAML)").fill(RECIPE)
    page.get_by_label("Inputs").fill(str(input_path))
    page.get_by_label("Output folder").fill(str(tmp_path / "out"))
    page.get_by_role("button", name="Submit job").click()

    # then they see the pending job's page, which polls for progress
    expect(page).to_have_url(re.compile(r"/jobs/\d+/$"))
    job = Job.objects.get()
    expect(page.locator('[data-field="status"]')).to_have_text("pending")
    expect(page.locator("#documents-kept")).to_have_text("0")
    expect(page.locator("[data-cancel-form]")).to_be_visible()
    expect(page.locator('[data-table="read-errors"]')).to_be_hidden()
    with page.expect_response(re.compile(r".*/progress\.json$")):
        pass
    page.evaluate("window.__notReloaded = true")

    # when the job runs to the end (in this process, as `curate --local` runs it)
    job = job_run_local(job)
    assert job.status == Job.Status.COMPLETED, job.error
    progress = job_progress(job)

    # then the page shows the final numbers and funnel without reloading, and stops polling
    expect(page.locator('[data-field="status"]')).to_have_text("completed")
    expect(page.locator("#documents-kept")).to_have_text(str(job.stats["documents"]["kept"]))
    expect(page.locator('[data-field="documents.read"]')).to_have_text(str(job.stats["documents"]["read"]))
    expect(page.locator('[data-field="percent"]')).to_have_text("100")
    for index, row in enumerate(progress["funnel"]):
        step = page.locator(f'[data-funnel-index="{index}"]')
        expect(step.locator('[data-field="docs_in"]')).to_have_text(str(row["docs_in"]))
        expect(step.locator('[data-field="kept"]')).to_have_text(str(row["kept"]))
    removed = {reason: n for row in progress["funnel"] for reason, n in (row.get("removed") or {}).items()}
    assert removed, "Gopher's rules should remove the short and the empty document"
    for reason in removed:
        expect(page.locator(".funnel-reasons code", has_text=reason).first).to_be_visible()
    assert progress["errors_by_kind"], "the line that is not JSON should be counted"
    for kind, count in progress["errors_by_kind"].items():
        kind_row = page.locator('[data-table="errors-by-kind"] tr', has_text=kind)
        expect(kind_row.locator("td.num")).to_have_text(str(count))
    # read errors are summarised by kind (one row each), naming their files, once the job has finished
    read_errors = progress["read_errors"]["files"]
    kinds = {kind for entry in read_errors.values() for kind in entry}
    expect(page.locator('[data-table="read-errors"] tbody tr')).to_have_count(len(kinds))
    for file in read_errors:
        expect(page.locator('[data-table="read-errors"]')).to_contain_text(file)
    expect(page.locator("[data-cancel-form]")).to_be_hidden()
    assert page.evaluate("window.__notReloaded") is True

    polled = len(progress_requests)
    page.wait_for_timeout(QUIET_AFTER_FINISH_MS)
    assert len(progress_requests) == polled

    # when they open the samples, then a removed document shows why it was removed
    page.get_by_role("link", name="Browse samples").click()
    reason = next(iter(removed))
    expect(page.locator("code.reason", has_text=reason).first).to_be_visible()
    page.get_by_label("Removal reason").select_option(reason)
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"reason="))
    expect(page.locator("article.sample").first).to_be_visible()
    for found in page.locator("code.reason").all_text_contents():
        assert found == reason


def test_annotator_sees_no_curation_link_and_is_refused_the_job_list(page: Page, live_server: Any) -> None:
    user_ensure("annotator", PASSWORD, role=ANNOTATOR)

    _log_in(page, live_server.url, "annotator")

    expect(page).to_have_url(f"{live_server.url}/annotate/")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.locator('a[href*="/jobs"], a[href*="/schedules"]')).to_have_count(0)
    response = page.goto(f"{live_server.url}/jobs/")
    assert response is not None and response.status == 403
    expect(page.locator('a[href*="/jobs"]')).to_have_count(0)


def test_language_switcher_shows_the_console_in_chinese_by_keyboard(page: Page, live_server: Any) -> None:
    user_ensure("engineer", PASSWORD, role=DATA_ENGINEER)
    _log_in(page, live_server.url, "engineer")
    expect(page).to_have_url(f"{live_server.url}/jobs/")

    # by keyboard: the first Tab reaches the skip link; Enter on a focused language button switches
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.get_by_role("button", name="简体中文").focus()
    page.keyboard.press("Enter")

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_url(f"{live_server.url}/jobs/")
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="新建任务")).to_be_visible()
    page.get_by_role("button", name="EN").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_schedules_page_shows_a_failed_run_and_puts_a_service_error_on_its_field(page: Page, live_server: Any,
                                                                                 tmp_path: Path) -> None:
    # given a nightly schedule whose input was removed after it was created, so its last run could not start
    user_ensure("engineer", PASSWORD, role=DATA_ENGINEER)
    source = _write_input(tmp_path / "in")
    schedule_create(name="nightly", recipe="extract-only", inputs=[str(source)], output=str(tmp_path / "runs"),
                    crontab="0 3 * * *")
    source.unlink()
    assert schedule_fire(JobSchedule.objects.get(name="nightly").pk) is None
    _log_in(page, live_server.url, "engineer")

    # when the engineer opens the schedules page
    page.goto(f"{live_server.url}/schedules/")

    # then the row says when it fired and why nothing ran
    row = page.get_by_role("row").filter(has_text="nightly")
    expect(row.locator(".schedule-last-run time")).to_have_count(1)
    expect(row.locator(".schedule-error")).to_contain_text("Could not start:")
    expect(row.locator(".schedule-error")).to_contain_text(str(source))

    # and a crontab the service refuses is shown next to the crontab field, with what was typed kept
    page.get_by_label("Name").fill("hourly")
    page.get_by_label("Recipe").select_option("extract-only")
    page.get_by_label("Inputs").fill(str(tmp_path / "other.jsonl"))
    page.get_by_label("Output folder").fill(str(tmp_path / "hourly"))
    page.get_by_label("Or a crontab").fill("every night")
    page.get_by_role("button", name="Create schedule").click()
    crontab_field = page.locator(".field.has-error").filter(has=page.get_by_label("Or a crontab"))
    expect(crontab_field).to_contain_text("five fields")
    expect(page.get_by_label("Name")).to_have_value("hourly")
    assert JobSchedule.objects.filter(name="hourly").count() == 0
