"""Gopher quality and repetition: planted junk is removed for the reason it was planted, good prose is kept."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from curation.steps.base import RecipeError, build_step
from curation.steps.document import Document
from curation.steps.filters import gopher
from curation.steps.filters.gopher import ngram_repetition
from tests.support import planted_filters as planted


def run_step(name: str, text: str, **params: object) -> tuple[bool, Document]:
    step = build_step(name, params)
    doc: Document = {"id": "d", "text": text}
    kept = list(step.run(iter([doc])))
    return bool(kept), doc


@pytest.mark.parametrize("text", [planted.GOOD_EN, planted.GOOD_EN_2, planted.GOOD_ZH, planted.GOOD_ZH_2])
@pytest.mark.parametrize("name", ["gopher_quality", "gopher_repetition"])
def test_good_prose_is_kept_in_english_and_chinese(name: str, text: str) -> None:
    kept, doc = run_step(name, text)

    assert kept, doc.get("reason")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (planted.WORD_SALAD_EN, "gopher_stopwords"),
        (planted.WORD_SALAD_ZH, "gopher_stopwords"),
        (planted.MENU_EN, "gopher_word_count"),
        (planted.MENU_ZH, "gopher_word_count"),
        (planted.BULLETS_EN, "gopher_bullet_lines"),
        (planted.ELLIPSIS_LINES_EN, "gopher_ellipsis_lines"),
        (planted.HASHTAGS_EN, "gopher_symbol_ratio"),
        (planted.NUMBERS_EN, "gopher_alpha_words"),
    ],
)
def test_quality_filter_removes_the_junk_it_targets(text: str, reason: str) -> None:
    kept, doc = run_step("gopher_quality", text)

    assert not kept
    assert doc["reason"] == reason
    assert doc["removed_by"] == "gopher_quality"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (planted.KEYWORD_SPAM_EN, "gopher_top_2gram"),
        (planted.KEYWORD_SPAM_ZH, "gopher_top_2gram"),
        (planted.DUPLICATE_LINES_EN, "gopher_dup_line_frac"),
        (planted.DUPLICATE_LINES_ZH, "gopher_dup_line_frac"),
    ],
)
def test_repetition_filter_removes_the_junk_it_targets(text: str, reason: str) -> None:
    kept, doc = run_step("gopher_repetition", text)

    assert not kept
    assert doc["reason"] == reason


def test_repeated_paragraphs_are_caught_in_english_but_not_in_chinese_where_fineweb_2_disables_the_rule() -> None:
    english = "\n\n".join([planted.GOOD_EN_2.split("\n\n")[0]] * 3 + planted.GOOD_EN.split("\n\n"))
    # Three paragraphs, one a repeat (1/3 > 0.30); the last one has four lines, so few lines repeat (1/6).
    first, *rest = planted.GOOD_ZH.splitlines()
    chinese = "\n\n".join([first, first, "\n".join(rest)])

    kept_en, doc_en = run_step("gopher_repetition", english)
    kept_zh, doc_zh = run_step("gopher_repetition", chinese)

    assert not kept_en and doc_en["reason"] == "gopher_dup_para_char_frac"
    assert doc_zh["signals"]["gopher_dup_para_frac"] > 0.30
    assert kept_zh, doc_zh.get("reason")


def test_every_statistic_is_stored_as_a_signal() -> None:
    _, doc = run_step("gopher_quality", planted.GOOD_EN)
    _, doc_rep = run_step("gopher_repetition", planted.GOOD_EN)

    signals = doc["signals"]
    assert signals["lang"] == "en"
    assert signals["gopher_words"] > 150
    assert 3 < signals["gopher_mean_word_length"] < 10
    assert signals["gopher_stopwords"] >= 5
    assert signals["gopher_alpha_words_ratio"] > 0.8
    rep = doc_rep["signals"]
    assert {f"gopher_top_{n}gram_char_frac" for n in (2, 3, 4)} <= set(rep)
    assert {f"gopher_dup_{n}gram_char_frac" for n in range(5, 11)} <= set(rep)


def test_chinese_words_come_from_jieba_and_use_fineweb_2_thresholds() -> None:
    step = build_step("gopher_quality")
    _, doc = run_step("gopher_quality", planted.GOOD_ZH)

    # Segmented words: a Chinese text of ~400 characters has well over 50 words, 1-5 characters long.
    assert doc["signals"]["gopher_words"] > 100
    assert 1 <= doc["signals"]["gopher_mean_word_length"] <= 5
    zh = step.params_for("zh")  # type: ignore[attr-defined]
    assert (zh.min_mean_word_length, zh.max_mean_word_length, zh.min_alpha_words_ratio) == (1.0, 5.0, 0.735)
    assert step.params_for("yue") is zh  # type: ignore[attr-defined]
    assert step.params_for("en").max_mean_word_length == 10.0  # type: ignore[attr-defined]


def test_a_recipe_overrides_one_chinese_threshold_and_keeps_the_others() -> None:
    step = build_step("gopher_quality", {"min_words": 80, "per_language": {"zh": {"min_words": 120}}})

    zh = step.params_for("zh")  # type: ignore[attr-defined]
    assert zh.min_words == 120
    assert zh.max_mean_word_length == 5.0
    assert step.params_for("en").min_words == 80  # type: ignore[attr-defined]


def test_an_unknown_per_language_threshold_is_a_recipe_error() -> None:
    with pytest.raises(RecipeError, match="min_wrods"):
        build_step("gopher_quality", {"per_language": {"zh": {"min_wrods": 3}}})


def test_yaml_lists_become_ngram_threshold_pairs() -> None:
    step = build_step("gopher_repetition", {"max_top_ngram_char_frac": [[2, 0.5], [3, 0.4]]})

    assert step.params.max_top_ngram_char_frac == ((2, 0.5), (3, 0.4))


def test_a_threshold_change_re_decides_from_signals_without_recomputing(monkeypatch: pytest.MonkeyPatch) -> None:
    _, doc = run_step("gopher_quality", planted.GOOD_EN)
    words = doc["signals"]["gopher_words"]

    def fail(*args: object, **kwargs: object) -> None:
        raise AssertionError("signals were recomputed")

    monkeypatch.setattr(gopher.GopherQualityFilter, "compute", fail)
    monkeypatch.setattr(gopher.GopherRepetitionFilter, "compute", fail)
    stricter = build_step("gopher_quality", {"min_words": words + 1})

    kept = list(stricter.run(iter([doc])))

    assert kept == []
    assert doc["reason"] == "gopher_word_count"
    assert stricter.stats.errors == Counter()


def test_the_repetition_threshold_change_re_decides_too(monkeypatch: pytest.MonkeyPatch) -> None:
    _, doc = run_step("gopher_repetition", planted.GOOD_EN_2)
    top2 = doc["signals"]["gopher_top_2gram_char_frac"]
    monkeypatch.setattr(gopher.GopherRepetitionFilter, "compute", lambda *a, **k: pytest.fail("recomputed"))
    stricter = build_step(
        "gopher_repetition", {"max_top_ngram_char_frac": [[2, top2 / 2], [3, 0.18], [4, 0.16]]}
    )

    assert list(stricter.run(iter([doc]))) == []
    assert doc["reason"] == "gopher_top_2gram"


def _reference_top(tokens: list[str], n: int) -> int:
    grams = [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
    if not grams:
        return 0
    gram, count = Counter(grams).most_common(1)[0]
    return len(gram) * count


def _reference_duplicates(tokens: list[str], n: int) -> int:
    seen: set[tuple[str, ...]] = set()
    repeated = index = 0
    while index < len(tokens) - n + 1:
        gram = tuple(tokens[index : index + n])
        if gram in seen:
            repeated += sum(map(len, gram))
            index += n
        else:
            seen.add(gram)
            index += 1
    return repeated


def test_fast_ngram_repetition_equals_gophers_definition_on_random_texts() -> None:
    rng = random.Random(7)
    for _ in range(500):
        vocabulary = [f"w{i}" for i in range(rng.choice([2, 3, 6, 40]))]
        tokens = [rng.choice(vocabulary) for _ in range(rng.randrange(0, 60))]
        if rng.random() < 0.4:
            tokens = tokens[:8] * rng.randrange(1, 5) + tokens

        result = ngram_repetition(tokens, (2, 3, 4), range(5, 11))

        for n in (2, 3, 4):
            assert result[n].top_chars == _reference_top(tokens, n)
        for n in range(5, 11):
            assert result[n].duplicate_chars == _reference_duplicates(tokens, n)
