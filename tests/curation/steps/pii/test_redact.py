"""find_pii and redact: overlap resolution, placeholders, pseudonyms, type selection."""

from __future__ import annotations

import pytest

from curation.steps.document import PiiSpan
from curation.steps.pii import Pseudonyms, find_pii, redact, resolve_overlaps
from curation.steps.pii.redact import normalized_value


def test_find_pii_returns_sorted_spans_whose_offsets_slice_the_original_text() -> None:
    text = "Mail zhang@163.com, call +86 138 1234 5678, card 4111 1111 1111 1111, from 41.173.96.26."
    spans = find_pii(text, names=False)
    assert [(s["type"], text[s["start"] : s["end"]]) for s in spans] == [
        ("EMAIL", "zhang@163.com"),
        ("PHONE", "+86 138 1234 5678"),
        ("CARD", "4111 1111 1111 1111"),
        ("IP", "41.173.96.26"),
    ]
    assert [s["start"] for s in spans] == sorted(s["start"] for s in spans)


def test_types_limit_the_search() -> None:
    text = "zhang@163.com 13812345678"
    assert [s["type"] for s in find_pii(text, types=["PHONE"], names=False)] == ["PHONE"]
    assert find_pii(text, types=[], names=False) == []


def test_unknown_types_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown PII type"):
        find_pii("x", types=["ADDRESS"])
    with pytest.raises(ValueError, match="list of type names"):
        find_pii("x", types="EMAIL")


def test_overlaps_keep_structured_then_longest_then_most_specific() -> None:
    spans: list[PiiSpan] = [
        {"type": "PERSON", "start": 0, "end": 30},
        {"type": "PHONE", "start": 5, "end": 16},
        {"type": "EMAIL", "start": 5, "end": 24},
        {"type": "CARD", "start": 40, "end": 58},
        {"type": "ID_NUMBER", "start": 40, "end": 58},
        {"type": "PHONE", "start": 60, "end": 60},
    ]
    assert resolve_overlaps(spans) == [
        {"type": "EMAIL", "start": 5, "end": 24},
        {"type": "ID_NUMBER", "start": 40, "end": 58},
    ]


def test_resident_id_wins_over_a_card_reading_of_the_same_digits() -> None:
    # 62 is both Gansu's province code and UnionPay's prefix; this ID also passes Luhn.
    text = "身份证号620102199003070069"
    spans = find_pii(text, names=False)
    assert [s["type"] for s in spans] == ["ID_NUMBER"]


def test_context_typed_numbers_win_over_plain_phone_numbers() -> None:
    text = "微信：13812345678，QQ：13912345678"
    assert [s["type"] for s in find_pii(text, names=False)] == ["WECHAT", "QQ"]


def test_placeholder_mode_writes_the_type() -> None:
    text = "Write to a@qq.com or b@qq.com, tel 13812345678."
    assert redact(text, find_pii(text, names=False)) == "Write to <EMAIL> or <EMAIL>, tel <PHONE>."


def test_pseudonym_mode_is_consistent_within_a_document() -> None:
    text = "A@QQ.com wrote to b@qq.com; a@qq.com again. Tel +86 138 1234 5678 = 13812345678, or 13912345678."
    redacted = redact(text, find_pii(text, names=False), mode="pseudonym")
    assert redacted == (
        "<EMAIL_1> wrote to <EMAIL_2>; <EMAIL_1> again. Tel <PHONE_1> = <PHONE_1>, or <PHONE_2>."
    )


def test_pseudonyms_are_deterministic_and_can_span_several_texts() -> None:
    first, second = "Ask 13812345678.", "Then 13912345678 or 13812345678."
    assert redact(first, find_pii(first), mode="pseudonym") == redact(first, find_pii(first), mode="pseudonym")
    shared = Pseudonyms()
    assert redact(first, find_pii(first, names=False), mode="pseudonym", pseudonyms=shared) == "Ask <PHONE_1>."
    assert (
        redact(second, find_pii(second, names=False), mode="pseudonym", pseudonyms=shared)
        == "Then <PHONE_2> or <PHONE_1>."
    )


def test_normalisation_makes_formatting_variants_one_value() -> None:
    assert normalized_value("PHONE", "+86 138-1234-5678") == normalized_value("PHONE", "13812345678")
    assert normalized_value("IBAN", "de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert normalized_value("PERSON", "John  Smith") == normalized_value("PERSON", "john smith")
    assert normalized_value("PHONE", "１３８１２３４５６７８") == "13812345678"


def test_redact_resolves_overlapping_input_and_rejects_bad_spans() -> None:
    text = "0123456789"
    spans: list[PiiSpan] = [{"type": "PHONE", "start": 0, "end": 5}, {"type": "CARD", "start": 2, "end": 9}]
    assert redact(text, spans) == "01<CARD>9"
    with pytest.raises(ValueError, match="outside"):
        redact(text, [{"type": "PHONE", "start": 5, "end": 20}])
    with pytest.raises(ValueError, match="mode"):
        redact(text, spans, mode="fake")


def test_redacted_text_is_not_detected_again() -> None:
    text = "张伟 13812345678 zhang@163.com 身份证11010519491231002X IBAN DE89370400440532013000"
    once = redact(text, find_pii(text, lang="zh"), mode="pseudonym")
    assert find_pii(once, lang="zh") == []
