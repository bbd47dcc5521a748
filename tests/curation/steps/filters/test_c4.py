"""C4: line rules rewrite the text of kept documents, document rules remove; both languages."""

from __future__ import annotations

import pytest

from curation.steps.base import build_step
from curation.steps.document import Document
from curation.steps.filters import c4
from tests.support import planted_filters as planted

WEB_DEFAULT = {"remove_lines_without_terminal_punct": False}


def run_c4(text: str, **params: object) -> tuple[bool, Document]:
    step = build_step("c4", params)
    doc: Document = {"id": "d", "text": text}
    kept = list(step.run(iter([doc])))
    return bool(kept), doc


@pytest.mark.parametrize("text", [planted.GOOD_EN, planted.GOOD_EN_2, planted.GOOD_ZH, planted.GOOD_ZH_2])
@pytest.mark.parametrize("params", [{}, WEB_DEFAULT])
def test_good_prose_is_kept_unchanged(text: str, params: dict[str, object]) -> None:
    kept, doc = run_c4(text, **params)

    assert kept, doc.get("reason")
    assert doc["text"] == text
    assert doc["signals"]["c4_sentences"] >= 5


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (planted.LOREM_IPSUM, "c4_lorem_ipsum"),
        (planted.JAVASCRIPT_CODE, "c4_curly_bracket"),
        (planted.MENU_EN, "c4_too_few_sentences"),
        (planted.MENU_ZH, "c4_too_few_sentences"),
        (planted.WORD_SALAD_EN, "c4_too_few_sentences"),
        (planted.KEYWORD_SPAM_ZH, "c4_too_few_sentences"),
    ],
)
def test_document_rules_remove_the_junk_they_target(text: str, reason: str) -> None:
    kept, doc = run_c4(text, **WEB_DEFAULT)

    assert not kept
    assert doc["reason"] == reason
    # The removed output shows the text that was judged, not the cleaned one.
    assert doc["text"] == text


def test_javascript_and_cookie_lines_are_dropped_and_counted() -> None:
    kept, doc = run_c4(planted.JAVASCRIPT_NOTICE)

    assert kept
    assert "JavaScript" not in doc["text"]
    assert "cookies" not in doc["text"]
    assert doc["text"] == planted.GOOD_EN
    assert doc["signals"]["c4_lines_removed_javascript"] == 1
    assert doc["signals"]["c4_lines_removed_policy"] == 1


def test_lines_without_terminal_punctuation_are_dropped_unless_the_rule_is_off() -> None:
    text = "Latest news\nSports\n" + planted.GOOD_EN

    _, strict = run_c4(text)
    _, lenient = run_c4(text, **WEB_DEFAULT)

    assert strict["text"] == planted.GOOD_EN
    assert strict["signals"]["c4_lines_removed_no_terminal_punct"] == 2
    # With the rule off, "Latest news" and "Sports" still have fewer than three words.
    assert lenient["signals"]["c4_lines_removed_too_few_words"] == 2
    assert lenient["text"] == planted.GOOD_EN


def test_chinese_lines_are_measured_in_jieba_words_and_chinese_punctuation() -> None:
    menu_then_prose = "首页\n新闻中心\n" + planted.GOOD_ZH

    kept, doc = run_c4(menu_then_prose)

    assert kept, doc.get("reason")
    assert doc["text"] == planted.GOOD_ZH
    assert doc["signals"]["c4_lines_removed_no_terminal_punct"] == 2
    assert doc["signals"]["c4_sentences"] >= 10


def test_citation_markers_are_removed_and_paragraph_breaks_kept() -> None:
    first, second = planted.GOOD_EN_2.split("\n\n")[:2]
    text = f"{first[:-1]}[1].\n\nMenu\n\n{second}[citation needed]"

    kept, doc = run_c4(text, min_sentences=1)

    assert kept
    assert doc["text"] == f"{first}\n\n{second}"


def test_a_line_with_a_thousand_character_word_is_dropped() -> None:
    text = planted.GOOD_EN + "\n" + "x" * 1001 + " is not a word."

    kept, doc = run_c4(text)

    assert kept
    assert doc["signals"]["c4_lines_removed_long_word"] == 1
    assert doc["text"] == planted.GOOD_EN


def test_a_rerun_over_kept_output_reads_signals_and_does_not_clean_again(monkeypatch: pytest.MonkeyPatch) -> None:
    _, doc = run_c4(planted.JAVASCRIPT_NOTICE)
    cleaned = doc["text"]
    monkeypatch.setattr(c4, "clean_lines", lambda *a, **k: pytest.fail("cleaned twice"))

    kept = list(build_step("c4").run(iter([doc])))

    assert kept == [doc]
    assert doc["text"] == cleaned


def test_a_lower_sentence_threshold_re_decides_and_then_cleans_the_removed_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "Please enable JavaScript to read this page properly.\n" + planted.GOOD_EN.split("\n\n")[0]
    kept, doc = run_c4(text)
    assert not kept and doc["reason"] == "c4_too_few_sentences"
    sentences = doc["signals"]["c4_sentences"]
    monkeypatch.setattr(c4.C4QualityFilter, "compute", lambda *a, **k: pytest.fail("signals recomputed"))

    lenient = build_step("c4", {"min_sentences": sentences})
    kept_now = list(lenient.run(iter([doc])))

    assert kept_now == [doc]
    assert doc["text"] == planted.GOOD_EN.split("\n\n")[0]
    assert doc["signals"]["c4_cleaned"] is True


def test_disabling_a_document_rule_keeps_the_document_from_its_signals() -> None:
    _, doc = run_c4(planted.LOREM_IPSUM)

    kept = list(build_step("c4", {"drop_lorem_ipsum": False}).run(iter([doc])))

    assert kept == [doc]
    assert doc["signals"]["c4_lorem_ipsum"] is True
