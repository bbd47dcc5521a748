"""The annotator's page in a real browser: each kind of task done by keyboard or pointer through the JSON API,
the near-duplicate warning while writing, the Chinese interface, and hostile item text that must stay text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from annotation.models import Annotation, Assignment, Project
from annotation.services.assignments import assignment_claim_next, assignment_submit
from tests.browser.conftest import TIMEOUT_MS
from tests.support.annotation_projects import PASSWORD, RESPONSES, annotator_user, project_with_items, qa_items

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Where the screenshots of every kind go when a person wants to look at them (they are always taken).
SCREENSHOTS = os.environ.get("ANNOTATION_SCREENSHOTS")


def _log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{base_url}/annotate/")


def _open_task(page: Page, base_url: str, project: Project) -> None:
    page.goto(f"{base_url}/annotate/{project.pk}/")
    expect(page.locator("#task[data-assignment]")).to_have_count(1)


def _shot(page: Page, tmp_path: Path, name: str) -> None:
    folder = Path(SCREENSHOTS) if SCREENSHOTS else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"annotate-{name}.png"), full_page=True)


def _expect_all_done(page: Page) -> None:
    # The first writing check of a process loads the language and PII models: allow it the browser timeout.
    expect(page.locator("#all-done")).to_be_visible(timeout=TIMEOUT_MS)


def _served_order(page: Page) -> list[str]:
    return page.locator(".rank-item").evaluate_all("nodes => nodes.map(n => n.dataset.responseId)")


def _annotation(project: Project) -> Annotation:
    return Annotation.objects.get(project=project)


def test_likert_task_by_keyboard_only(page: Page, live_server: Any, tmp_path: Path) -> None:
    # given an annotator in a Likert project (three criteria, 1-5) with one item
    annotator = annotator_user()
    project = project_with_items("likert", qa_items(1, responses=1), members=(annotator,))
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    expect(page.get_by_text(RESPONSES[0]["text"])).to_be_visible()
    expect(page.locator(".likert-end").first).to_contain_text("worst")
    _shot(page, tmp_path, "likert")

    # when they rate with number keys, move between criteria with the arrow keys and submit with Ctrl+Enter
    expect(page.locator("#likert-0")).to_be_focused()
    page.keyboard.press("4")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("5")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("2")
    page.keyboard.press("ArrowUp")
    expect(page.locator("#likert-1")).to_be_focused()
    page.keyboard.press("3")  # change the middle one again
    expect(page.locator(".likert-row[data-criterion=truthfulness] output")).to_have_text("3")
    page.wait_for_timeout(1500)  # let the active-time clock tick at least once
    page.keyboard.press("Control+Enter")

    # then the annotation holds every rating, the time on task, and the page says nothing is left
    _expect_all_done(page)
    annotation = _annotation(project)
    assert annotation.payload == {"ratings": {"helpfulness": 4, "truthfulness": 3, "harmlessness": 2}}
    assert annotation.active_seconds > 0
    expect(page.locator("#progress-text")).to_have_text("1 done of 1")


def test_likert_refuses_to_submit_until_every_criterion_is_rated(page: Page, live_server: Any) -> None:
    annotator = annotator_user()
    project = project_with_items("likert", qa_items(1, responses=1), members=(annotator,))
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)

    page.keyboard.press("4")
    page.keyboard.press("Control+Enter")

    expect(page.locator("#task-status")).to_contain_text("Rate every criterion first: truthfulness, harmlessness")
    assert not Annotation.objects.exists()


def test_ranking_by_drag_and_by_keyboard(page: Page, live_server: Any, tmp_path: Path) -> None:
    # given a ranking project with two items of four responses each
    annotator = annotator_user()
    items = [{"id": f"k{i}", "prompt": f"Which answer is best? ({i})", "responses": RESPONSES} for i in range(2)]
    project = project_with_items("ranking", items, members=(annotator,))
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    _shot(page, tmp_path, "ranking")

    # when the annotator drags the last response to the top and submits (on a screen tall enough for all four)
    page.set_viewport_size({"width": 1280, "height": 1200})
    page.locator(".rank-list").scroll_into_view_if_needed()
    first_item = page.locator("#task").get_attribute("data-item")
    order = _served_order(page)
    assert sorted(order) == ["r1", "r2", "r3", "r4"]
    assignment = Assignment.objects.get(annotator=annotator, item__external_id=first_item)
    assert order == assignment.display_order  # shown in the order the server recorded
    last = page.locator(".rank-item").nth(3).locator(".drag-handle")
    top = page.locator(".rank-item").nth(0)
    last_box, top_box = last.bounding_box(), top.bounding_box()
    assert last_box and top_box
    page.mouse.move(last_box["x"] + last_box["width"] / 2, last_box["y"] + last_box["height"] / 2)
    page.mouse.down()
    for step in range(1, 11):
        y = last_box["y"] + (top_box["y"] + 5 - last_box["y"]) * step / 10
        page.mouse.move(last_box["x"] + last_box["width"] / 2, y)
        page.wait_for_timeout(30)
    page.mouse.up()
    expect(page.locator(".rank-item").first).to_have_attribute("data-response-id", order[3])
    page.keyboard.press("Control+Enter")

    # then the ranking is the dragged order
    expect(page.locator("#task")).not_to_have_attribute("data-item", first_item or "")
    dragged = Annotation.objects.get(item__external_id=first_item)
    assert dragged.payload == {"ranking": [[order[3]], [order[0]], [order[1]], [order[2]]], "all_bad": False}

    # when, on the second item, the annotator works by keyboard only: J moves the focus, arrow up moves the
    # focused response, = ties it with the one above, X flags all as bad
    order = _served_order(page)
    expect(page.locator(".rank-item").first).to_be_focused()
    page.keyboard.press("j")
    page.keyboard.press("j")
    expect(page.locator(".rank-item").nth(2)).to_be_focused()
    page.keyboard.press("ArrowUp")
    expect(page.locator(".rank-item").nth(1)).to_have_attribute("data-response-id", order[2])
    page.keyboard.press("=")
    expect(page.locator(".rank-item").nth(1)).to_have_class("rank-item is-tied")
    page.keyboard.press("x")
    expect(page.locator("#all-bad")).to_be_checked()
    page.keyboard.press("Control+Enter")

    # then the tie is one group and the flag is recorded
    _expect_all_done(page)
    second = Annotation.objects.exclude(item__external_id=first_item).get()
    assert second.payload == {"ranking": [[order[0], order[2]], [order[1]], [order[3]]], "all_bad": True}


def test_ranking_in_rounds_merges_into_one_order(page: Page, live_server: Any) -> None:
    # given a ranking item with seven responses and rounds of four: the server serves it in rounds
    annotator = annotator_user()
    responses = [{"id": f"s{i}", "text": f"Answer number {i}"} for i in range(7)]
    project = project_with_items("ranking", [{"id": "many", "prompt": "Rank these", "responses": responses}],
                                 members=(annotator,), round_size=4)
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    rounds = Assignment.objects.get(annotator=annotator).rounds
    assert rounds and len(rounds) > 1

    # when the annotator keeps each round's served order and moves on with N, then submits
    for index, served in enumerate(rounds):
        expect(page.locator(".ranking .section-title")).to_contain_text(f"Round {index + 1} of {len(rounds)}")
        assert _served_order(page) == served
        if index < len(rounds) - 1:
            page.keyboard.press("n")
    page.keyboard.press("Control+Enter")

    # then one merged ranking of all seven is stored with the rounds
    _expect_all_done(page)
    payload = _annotation(project).payload
    assert payload["rounds"] == [[[r] for r in served] for served in rounds]
    assert sorted(r for group in payload["ranking"] for r in group) == [f"s{i}" for i in range(7)]


def test_pairwise_task_with_keys(page: Page, live_server: Any, tmp_path: Path) -> None:
    annotator = annotator_user()
    project = project_with_items("pairwise", qa_items(2), members=(annotator,))
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    _shot(page, tmp_path, "pairwise")
    assignment = Assignment.objects.get(annotator=annotator, status=Assignment.STATUS_LEASED)
    texts = {r["id"]: r["text"] for r in RESPONSES}
    # A is the first response of the recorded display order
    expect(page.locator(".pair-side[data-side=a] .text-block")).to_have_text(texts[assignment.display_order[0]])
    expect(page.locator(".pair-side[data-side=b] .text-block")).to_have_text(texts[assignment.display_order[1]])

    # B, much better (3), then a change of mind to strength 2; submit
    page.keyboard.press("b")
    page.keyboard.press("3")
    page.keyboard.press("2")
    expect(page.locator("button.choice[data-choice=b]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#task")).not_to_have_attribute("data-assignment", str(assignment.pk))

    # the second item: a tie by pointer
    page.get_by_role("button", name="Tie").click()
    page.get_by_role("button", name="Submit").click()
    _expect_all_done(page)

    payloads = [a.payload for a in Annotation.objects.order_by("id")]
    assert payloads == [{"choice": "b", "strength": 2}, {"choice": "tie", "strength": None}]


def test_skip_asks_for_a_reason(page: Page, live_server: Any) -> None:
    annotator = annotator_user()
    project = project_with_items("pairwise", qa_items(1), members=(annotator,))
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)

    page.keyboard.press("s")
    dialog = page.locator("#skip-dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Skip task").click()
    expect(dialog.locator(".skip-error")).to_have_text("Choose or write a reason.")
    dialog.get_by_label("The item is broken or empty").check()
    dialog.get_by_role("button", name="Skip task").click()

    _expect_all_done(page)
    assignment = Assignment.objects.get(annotator=annotator)
    assert (assignment.status, assignment.skip_reason) == (Assignment.STATUS_SKIPPED, "broken item")


def test_writing_an_instruction_shows_the_near_duplicate_warning(page: Page, live_server: Any,
                                                                  tmp_path: Path) -> None:
    # given an instruction project where someone already wrote an instruction
    writer, annotator = annotator_user("writer"), annotator_user()
    project = project_with_items("instruction", [{"id": f"slot{i}", "prompt": ""} for i in range(2)],
                                 members=(writer, annotator), categories=["brainstorming", "open QA"])
    earlier = ("Write a short poem about the autumn rain falling softly on the old stone walls of the city at "
               "night, in the voice of a tired night watchman.")
    claimed = assignment_claim_next(writer, project)
    assert claimed is not None
    assignment_submit(writer, claimed.pk, {"instruction": earlier, "category": "brainstorming"}, 40.0)

    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)

    # when the annotator writes nearly the same instruction
    page.get_by_label("Category").select_option("brainstorming")
    page.locator("#instruction-text").fill(earlier.replace("tired", "weary"))

    # then the warning appears beside the text with the similar instruction shown as text
    warning = page.locator(".check-warning")
    expect(warning).to_be_visible()
    expect(warning.locator(".similar-text")).to_have_text(earlier)
    _shot(page, tmp_path, "instruction")

    # and a warning does not stop the submit
    page.keyboard.press("Control+Enter")
    _expect_all_done(page)
    assert Annotation.objects.filter(annotator=annotator).count() == 1


def test_a_draft_survives_a_reload(page: Page, live_server: Any, tmp_path: Path) -> None:
    annotator = annotator_user()
    project = project_with_items("response", [{"id": "c1", "messages": [
        {"role": "user", "content": "What should I pack for a rainy hike?"},
        {"role": "assistant", "content": "A rain jacket. Anything else you want to know?"},
        {"role": "user", "content": "And for the food?"}]}], members=(annotator,))
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    expect(page.get_by_text("A rain jacket. Anything else you want to know?")).to_be_visible()
    _shot(page, tmp_path, "response")

    page.locator("#response-text").fill("Sandwiches, nuts and plenty of water.")
    expect(page.locator("#task-status")).to_have_text("Draft saved")
    page.reload()

    expect(page.locator("#response-text")).to_have_value("Sandwiches, nuts and plenty of water.")


def test_labels_by_number_keys(page: Page, live_server: Any, tmp_path: Path) -> None:
    annotator = annotator_user()
    project = project_with_items("label", [{"id": "d1", "prompt": "Shares rose 3% after the results."}],
                                 members=(annotator,), labels=["news", "opinion", "spam"], multi_label=True)
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    _shot(page, tmp_path, "label")

    page.keyboard.press("1")
    page.keyboard.press("2")
    page.keyboard.press("2")  # un-choose again
    page.keyboard.press("3")
    page.keyboard.press("Control+Enter")

    _expect_all_done(page)
    assert _annotation(project).payload == {"labels": ["news", "spam"]}


def test_the_interface_switches_to_chinese(page: Page, live_server: Any, tmp_path: Path) -> None:
    annotator = annotator_user()
    project = project_with_items("likert", [{"id": "z1", "prompt": "北京是哪个国家的首都？",
                                             "responses": [{"id": "r1", "text": "北京是中国的首都。"}]}],
                                 members=(annotator,), criteria=["有用性", "真实性"], language="zh")
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)

    page.get_by_role("button", name="简体中文").click()

    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("button", name="提交")).to_be_visible()  # the template's strings
    expect(page.get_by_role("heading", name="您的评分")).to_be_visible()  # annotate.js's strings
    expect(page.locator(".likert-end").first).to_contain_text("最差")
    expect(page.get_by_text("北京是中国的首都。")).to_be_visible()
    _shot(page, tmp_path, "likert-zh")
    page.keyboard.press("?")
    expect(page.get_by_role("heading", name="标注指南")).to_be_visible()


def test_a_writing_check_and_the_refused_submit_speak_chinese(page: Page, live_server: Any) -> None:
    # given a response project that wants at least 20 characters, and an annotator who reads Chinese
    annotator = annotator_user()
    project = project_with_items("response", [{"id": "w1", "prompt": "请介绍一下长城。"}], members=(annotator,),
                                 language="zh", min_length=20, pii_policy="off")
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    page.get_by_role("button", name="简体中文").click()
    expect(page.locator("#task[data-assignment]")).to_have_count(1)

    # when they write too little and submit anyway
    page.locator("#response-text").fill("长城很长。")
    blocking = page.locator(".check-blocking")
    expect(blocking).to_contain_text("请至少写 20 个字符（目前 5 个）")
    page.keyboard.press("Control+Enter")

    # then the server's refusal is shown in Chinese too, and nothing is stored
    expect(page.locator("#task-status.is-error")).to_have_text("请至少写 20 个字符（目前 5 个）")
    assert not Annotation.objects.filter(project=project).exists()


HOSTILE_PROMPT = ('Look: <script>window.__pwned = "script"; alert(1)</script> and '
                  '<img src="x" onerror="window.__pwned = \'img\'; alert(2)"> then '
                  '<a href="javascript:window.__pwned=\'link\'">click me</a> '
                  '<form action="https://evil.example/"><button>send</button></form>')


def test_hostile_item_text_is_shown_as_text_and_runs_nothing(page: Page, live_server: Any) -> None:
    # given an item whose prompt, response and id hold script, an onerror handler, a javascript: link, a form
    annotator = annotator_user()
    project = project_with_items("pairwise", [{"id": "<b>x</b>", "prompt": HOSTILE_PROMPT, "responses": [
        {"id": "a", "text": HOSTILE_PROMPT}, {"id": "b", "text": "<svg onload=alert(3)></svg>"}]}],
        members=(annotator,), name="<script>alert('name')</script>")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    # when the annotator opens it and clicks on the text
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    page.locator(".prompt-text").click()
    page.get_by_text("click me", exact=False).first.click()

    # then the text is visible literally and nothing ran, was created or was loaded
    expect(page.locator(".prompt-text")).to_have_text(HOSTILE_PROMPT)
    expect(page.locator(".pair-side[data-side] .text-block").filter(has_text="<svg onload")).to_have_count(1)
    expect(page.locator("h1")).to_contain_text("<script>alert('name')</script>")
    task = page.locator("#task")
    for selector in ("script", "img", "a", "form", "svg", "iframe"):
        expect(task.locator(selector)).to_have_count(0)
    assert page.evaluate("() => window.__pwned") is None
    assert dialogs == []
    assert not [url for url in requests if url.endswith("/x") or "evil.example" in url]


def test_the_clock_stops_while_the_window_is_in_the_background(page: Page, live_server: Any) -> None:
    annotator = annotator_user()
    project = project_with_items("likert", qa_items(1, responses=1), members=(annotator,))
    _log_in(page, live_server.url, "annotator")
    _open_task(page, live_server.url, project)
    expect(page.locator("#clock-state")).to_have_text("")

    # when the window loses the focus (another window in front), the clock says so and stands still
    page.evaluate("() => window.dispatchEvent(new Event('blur'))")
    expect(page.locator("#clock-state")).to_have_text("paused")
    stopped_at = page.locator("#active-clock").text_content()
    page.wait_for_timeout(2200)
    expect(page.locator("#active-clock")).to_have_text(stopped_at or "")

    # and it runs again when the person comes back
    page.evaluate("() => window.dispatchEvent(new Event('focus'))")
    expect(page.locator("#clock-state")).to_have_text("")


def test_instruction_formats_few_shot_chain_of_thought_and_multi_turn(page: Page, live_server: Any,
                                                                        tmp_path: Path) -> None:
    annotator = annotator_user()
    projects = {
        fmt: project_with_items("instruction", [{"id": f"{fmt}-1", "prompt": ""}], members=(annotator,),
                                name=f"{fmt} project", instruction_format=fmt, categories=["math"])
        for fmt in ("few_shot", "chain_of_thought", "multi_turn")
    }
    _log_in(page, live_server.url, "annotator")

    # few-shot: the instruction and one example of input and output
    _open_task(page, live_server.url, projects["few_shot"])
    page.get_by_label("Category").select_option("math")
    page.locator("#instruction-text").fill("Convert the temperature from Celsius to Fahrenheit.")
    page.locator("#example-in-0").fill("20 °C")
    page.locator("#example-out-0").fill("68 °F")
    _shot(page, tmp_path, "instruction-few-shot")
    page.keyboard.press("Control+Enter")
    _expect_all_done(page)

    # chain of thought: the instruction and its worked reasoning
    _open_task(page, live_server.url, projects["chain_of_thought"])
    page.get_by_label("Category").select_option("math")
    page.locator("#instruction-text").fill("How many minutes are there in a week?")
    page.locator("#instruction-reasoning").fill("A day has 24 × 60 = 1440 minutes; a week has 7 × 1440 = 10080.")
    page.keyboard.press("Control+Enter")
    _expect_all_done(page)

    # multi-turn: an earlier user turn and assistant answer, then the user's next message
    _open_task(page, live_server.url, projects["multi_turn"])
    page.get_by_label("Category").select_option("math")
    page.locator("#turn-0").fill("What is 12 squared?")
    page.locator("#turn-1").fill("144.")
    page.locator("#instruction-text").fill("And 13 squared?")
    _shot(page, tmp_path, "instruction-multi-turn")
    page.keyboard.press("Control+Enter")
    _expect_all_done(page)

    payloads = {a.project.instruction_format: a.payload for a in Annotation.objects.select_related("project")}
    assert payloads["few_shot"] == {"instruction": "Convert the temperature from Celsius to Fahrenheit.",
                                    "category": "math", "examples": [{"input": "20 °C", "output": "68 °F"}]}
    assert payloads["chain_of_thought"]["reasoning"].startswith("A day has 24 × 60")
    assert payloads["multi_turn"] == {"instruction": "And 13 squared?", "category": "math", "turns": [
        {"role": "user", "content": "What is 12 squared?"}, {"role": "assistant", "content": "144."}]}


def _clock_seconds(page: Page) -> int:
    minutes, seconds = (page.locator("#active-clock").text_content() or "0:00").split(":")
    return int(minutes) * 60 + int(seconds)


def test_a_break_is_suggested_and_idle_time_is_left_out(page: Page, live_server: Any) -> None:
    # given a project that suggests a break after one minute of work, and the page's clock under the test's control
    annotator = annotator_user()
    project = project_with_items("likert", qa_items(1, responses=1), members=(annotator,), break_after_minutes=1)
    _log_in(page, live_server.url, "annotator")
    page.clock.install()
    _open_task(page, live_server.url, project)

    # when the person works (a key every 20 seconds) for 80 seconds
    for _ in range(4):
        page.keyboard.press("ArrowDown")
        page.clock.run_for("00:20")

    # then after a minute of work the break is suggested, and the clock stands still during the break
    expect(page.locator("#break-dialog")).to_be_visible()
    assert 58 <= _clock_seconds(page) <= 61
    page.get_by_role("button", name="Continue").click()

    # when they then do nothing for two minutes, only the first minute (the idle limit) counts
    page.clock.run_for("02:00")
    expect(page.locator("#clock-state")).to_have_text("paused")
    assert 117 <= _clock_seconds(page) <= 122
