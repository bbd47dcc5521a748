"""Bad input through language identification and every heuristic filter: no crash, and a reason on record."""

from __future__ import annotations

import random

import pytest

from curation.steps.base import REASON_ERROR, Step, build_step
from curation.steps.document import Document
from tests.support import planted_filters as planted

FILTER_STEPS = ("language", "gopher_repetition", "gopher_quality", "c4", "fineweb")


def chain(names: tuple[str, ...] = FILTER_STEPS) -> list[Step]:
    return [build_step(name) for name in names]


def run_chain(docs: list[Document], steps: list[Step]) -> tuple[list[Document], list[Document]]:
    removed: list[Document] = []
    stream = iter(docs)
    for step in steps:
        step.bind_removed_sink(removed.append)
        stream = step.run(stream)
    return list(stream), removed


def binary_garbage(size: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(size)


BAD_TEXTS = {
    "empty": "",
    "whitespace": " \n\t\n  ",
    "latin1_garbage": binary_garbage(5000, 1).decode("latin-1"),
    "utf8_replace_garbage": binary_garbage(5000, 2).decode("utf-8", errors="replace"),
    "surrogate_garbage": binary_garbage(5000, 3).decode("utf-8", errors="surrogateescape"),
    "nul_and_controls": "\x00\x01\x02 text \x7f\x1b[31m" * 200,
    "mixed_scripts": (
        planted.GOOD_EN.split("\n\n")[0] + "\n" + planted.GOOD_ZH.splitlines()[0] + "\n"
        "مرحبا بكم في المدينة القديمة التي تقع بين واديين.\n"
        "Добро пожаловать в старый город на реке.\n🙂🚀🎉 ☃ ✓ ∑∫√ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢\nこんにちは、川沿いの古い町へようこそ。"
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_TEXTS))
def test_bad_text_through_the_whole_chain_never_crashes_and_records_a_reason(name: str) -> None:
    doc: Document = {"id": name, "text": BAD_TEXTS[name]}

    kept, removed = run_chain([doc], chain())

    assert len(kept) + len(removed) == 1
    if removed:
        assert removed[0]["reason"] and removed[0]["reason"] != REASON_ERROR
        assert removed[0]["removed_by"] in FILTER_STEPS


@pytest.mark.parametrize("name", sorted(BAD_TEXTS))
@pytest.mark.parametrize("step_name", FILTER_STEPS[1:])
def test_bad_text_through_each_filter_alone_never_errors(name: str, step_name: str) -> None:
    doc: Document = {"id": name, "text": BAD_TEXTS[name]}
    step = build_step(step_name)

    kept, removed = run_chain([doc], [step])

    assert step.stats.errors == {}
    assert len(kept) + len(removed) == 1


@pytest.mark.parametrize(
    ("step_name", "reason"),
    [
        ("language", "language_undetermined"),
        ("gopher_quality", "gopher_word_count"),
        ("gopher_repetition", None),
        ("c4", "c4_too_few_sentences"),
        ("fineweb", "fineweb_no_lines"),
    ],
)
def test_an_empty_text_is_removed_with_a_clear_reason(step_name: str, reason: str | None) -> None:
    kept, removed = run_chain([{"id": "e", "text": ""}], [build_step(step_name)])

    if reason is None:
        assert kept  # nothing repeats in nothing; the quality filters remove it
    else:
        assert removed[0]["reason"] == reason


def test_a_document_without_text_is_treated_as_empty() -> None:
    kept, removed = run_chain([{"id": "no-text"}], chain())

    assert kept == []
    assert removed[0]["reason"] == "language_undetermined"


@pytest.mark.parametrize("step_name", ["gopher_repetition", "gopher_quality", "c4", "fineweb"])
def test_a_ten_megabyte_text_is_removed_as_too_long_without_analysis(step_name: str) -> None:
    text = (planted.GOOD_EN + "\n\n") * (10_000_000 // len(planted.GOOD_EN))
    doc: Document = {"id": "huge", "text": text}

    kept, removed = run_chain([doc], [build_step(step_name)])

    assert kept == []
    prefix = step_name.split("_", maxsplit=1)[0]
    assert removed[0]["reason"] == f"{prefix}_too_long"
    assert removed[0]["signals"][f"{prefix}_chars"] == len(text)
    assert removed[0]["text"] is text


def test_a_ten_megabyte_chinese_text_goes_through_the_whole_chain() -> None:
    text = (planted.GOOD_ZH + "\n") * (10_000_000 // len(planted.GOOD_ZH))

    kept, removed = run_chain([{"id": "huge-zh", "text": text}], chain())

    assert kept == []
    assert removed[0]["signals"]["lang"] == "zh"
    assert removed[0]["reason"] == "gopher_too_long"


def test_raising_max_chars_later_computes_the_missing_signals() -> None:
    text = planted.GOOD_EN
    _, removed = run_chain([{"id": "d", "text": text}], [build_step("gopher_quality", {"max_chars": 100})])
    doc = removed[0]
    assert "gopher_words" not in doc["signals"]

    kept, _ = run_chain([doc], [build_step("gopher_quality")])

    assert kept == [doc]
    assert doc["signals"]["gopher_words"] > 50
