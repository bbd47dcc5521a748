"""The managers' annotation pages in a real browser: create a project, import items (a bad line is reported),
add an annotator, publish guidelines; the annotator then finds the project on their page."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Item, Membership, Project
from tests.support.annotation_projects import PASSWORD, annotator_user, manager_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where the screenshots go when a person wants to look at them (they are always taken).
SCREENSHOTS = os.environ.get("ANNOTATION_SCREENSHOTS")


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"manager-{name}.png"), full_page=True)


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_manager_creates_a_project_imports_items_and_adds_an_annotator(page: Page, live_server: Any,
                                                                        tmp_path: Path) -> None:
    manager_user()
    annotator_user("alice")

    # given a manager who logs in and lands on the project list
    _log_in(page, live_server.url, "manager")
    expect(page).to_have_url(f"{live_server.url}/annotation/projects/")

    # when they create a pairwise project
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Which answer is better?")
    page.get_by_label("Kind of task").select_option("pairwise")
    page.get_by_label("Overlap").fill("2")
    page.get_by_label("Guidelines (Markdown)").fill("# Compare\n\nPrefer the **truthful** answer.")
    _shot(page, tmp_path, "create")
    page.get_by_role("button", name="Create project").click()
    project = Project.objects.get(name="Which answer is better?")
    expect(page).to_have_url(f"{live_server.url}/annotation/projects/{project.pk}/")
    assert (project.kind, project.overlap) == ("pairwise", 2)

    # and import a JSON Lines file whose second line is broken
    good = {"id": "p1", "prompt": "Capital of France?",
            "responses": [{"id": "a", "text": "Paris"}, {"id": "b", "text": "Lyon"}]}
    bad = {"id": "p2", "prompt": "Only one response", "responses": [{"id": "a", "text": "Paris"}]}
    path = tmp_path / "items.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n", encoding="utf-8")
    page.get_by_label("JSON Lines file").set_input_files(str(path))
    page.get_by_role("button", name="Import", exact=True).click()

    # then the good line is imported and the bad one is reported with its number and reason
    expect(page.get_by_text("1 item imported.")).to_be_visible()
    expect(page.locator(".import-errors li")).to_have_text("line 2: pairwise items need exactly 2 responses, "
                                                           "this one has 1")
    assert list(Item.objects.filter(project=project).values_list("external_id", flat=True)) == ["p1"]
    _shot(page, tmp_path, "project")

    # when they add an annotator by username on the members page
    page.get_by_role("link", name="Members").click()
    page.get_by_label("Username").fill("alice")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.locator("tr[data-member=alice]")).to_be_visible()
    assert Membership.objects.filter(project=project, user__username="alice").exists()
    _shot(page, tmp_path, "members")

    # and publish a second version of the guidelines
    page.get_by_role("link", name="Guidelines").click()
    page.get_by_label("Guidelines (Markdown)").fill("# Compare\n\nPrefer the truthful answer; then the kinder.")
    page.get_by_role("button", name="Publish a new version").click()
    expect(page.get_by_text("Guidelines version 2 published.")).to_be_visible()

    # then the annotator finds the project on their page with its guidelines one key away
    page.context.clear_cookies()
    _log_in(page, live_server.url, "alice")
    expect(page).to_have_url(f"{live_server.url}/annotate/")
    page.get_by_role("link", name="Start").click()
    expect(page.get_by_text("Capital of France?")).to_be_visible()
    page.keyboard.press("g")
    expect(page.locator("#guidelines-dialog")).to_contain_text("then the kinder")
