"""FineWeb's rules: English defaults, FineWeb-2's Chinese thresholds, signals that re-decide."""

from __future__ import annotations

import pytest

from curation.steps.base import build_step
from curation.steps.document import Document
from curation.steps.filters import fineweb
from tests.support import planted_filters as planted


def run_fineweb(text: str, **params: object) -> tuple[bool, Document]:
    step = build_step("fineweb", params)
    doc: Document = {"id": "d", "text": text}
    kept = list(step.run(iter([doc])))
    return bool(kept), doc


@pytest.mark.parametrize("text", [planted.GOOD_EN, planted.GOOD_EN_2, planted.GOOD_ZH, planted.GOOD_ZH_2])
def test_good_prose_is_kept(text: str) -> None:
    kept, doc = run_fineweb(text)

    assert kept, doc.get("reason")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (planted.UNPUNCTUATED_EN, "fineweb_line_punct"),
        (planted.UNPUNCTUATED_ZH, "fineweb_line_punct"),
        (planted.MENU_EN, "fineweb_line_punct"),
        (planted.SHORT_LINES_EN, "fineweb_short_lines"),
        (planted.DUPLICATE_LINES_EN, "fineweb_char_dup"),
        (planted.DUPLICATE_LINES_ZH, "fineweb_char_dup"),
    ],
)
def test_removes_the_junk_it_targets(text: str, reason: str) -> None:
    kept, doc = run_fineweb(text)

    assert not kept
    assert doc["reason"] == reason


def test_short_chinese_lines_are_not_a_reason_as_in_fineweb_2() -> None:
    # Many short but punctuated Chinese lines: the short-line rule is off for Chinese.
    text = "\n".join(line for line in planted.GOOD_ZH.replace("，", "。\n").splitlines())

    kept, doc = run_fineweb(text)

    assert doc["signals"]["fineweb_short_line_ratio"] > 0.67
    assert kept, doc.get("reason")


def test_one_repeated_line_is_tolerated_in_chinese_but_not_in_english() -> None:
    zh_line = "欢迎大家周末来公园散步。"
    en_line = "Welcome to our town, and enjoy your walk along the river."

    kept_zh, doc_zh = run_fineweb(planted.GOOD_ZH + f"\n{zh_line}" * 2)
    kept_en, doc_en = run_fineweb(planted.GOOD_EN + f"\n{en_line}" * 2)

    assert 0.01 < doc_zh["signals"]["fineweb_char_dup_ratio"] <= 0.1
    assert kept_zh
    assert not kept_en and doc_en["reason"] == "fineweb_char_dup"


def test_a_list_of_one_word_lines_trips_the_list_ratio() -> None:
    text = "\n".join(f"Ingredient{index}." for index in range(40))

    kept, doc = run_fineweb(text, max_short_line_ratio=None)

    assert not kept
    assert doc["reason"] == "fineweb_list_ratio"


def test_paragraph_breaks_do_not_count_as_list_lines() -> None:
    _, single = run_fineweb(planted.GOOD_EN.replace("\n\n", "\n"))
    _, double = run_fineweb(planted.GOOD_EN)

    assert single["signals"]["fineweb_list_ratio"] == double["signals"]["fineweb_list_ratio"]


def test_a_threshold_change_re_decides_without_recomputing(monkeypatch: pytest.MonkeyPatch) -> None:
    _, doc = run_fineweb(planted.GOOD_EN)
    monkeypatch.setattr(fineweb.FineWebQualityFilter, "compute", lambda *a, **k: pytest.fail("recomputed"))

    stricter = build_step("fineweb", {"min_line_punct_ratio": 1.01})

    assert list(stricter.run(iter([doc]))) == []
    assert doc["reason"] == "fineweb_line_punct"


def test_a_different_short_line_length_is_a_new_signal() -> None:
    _, doc = run_fineweb(planted.SHORT_LINES_EN)

    kept = list(build_step("fineweb", {"short_line_length": 10}).run(iter([doc])))

    assert "fineweb_short_line_10_ratio" in doc["signals"]
    assert doc["signals"]["fineweb_short_line_10_ratio"] < doc["signals"]["fineweb_short_line_ratio"]
    assert kept == [doc]
