"""Structured recognisers: validators on known examples, planted values removed, look-alikes left alone."""

from __future__ import annotations

import re
import sys

import pytest

from curation.steps.pii import find_pii, recognizers
from curation.steps.pii.recognizers import (
    STRUCTURED_TYPES,
    card_valid,
    cn_id_check_char,
    cn_resident_id15_valid,
    cn_resident_id_valid,
    fold_text,
    iban_valid,
    ip_is_personal,
    luhn_valid,
    ssn_valid,
)
from tests.support import planted_pii as planted

PLANTED_PER_LANGUAGE = 1_000
SEED = 20261126


# ---------------------------------------------------------------------------------------------------------------
# Validators.


@pytest.mark.parametrize(
    "number", ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117", "3530111333300000"]
)
def test_luhn_accepts_published_test_card_numbers(number: str) -> None:
    assert luhn_valid(number)
    assert card_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234567812345678", "79927398710", "", "4111a11111111111"])
def test_luhn_rejects_wrong_check_digits_and_non_digits(number: str) -> None:
    assert not luhn_valid(number)


def test_card_needs_a_brand_prefix_even_when_luhn_passes() -> None:
    # 79927398713 is the textbook Luhn example; 1000000000000008 passes Luhn but no issuer uses prefix 10.
    assert luhn_valid("79927398713") and not card_valid("79927398713")
    assert luhn_valid("1000000000000008") and not card_valid("1000000000000008")


@pytest.mark.parametrize(
    "iban",
    ["GB82WEST12345698765432", "DE89370400440532013000", "FR1420041010050500013M02606", "NL91ABNA0417164300",
     "CH9300762011623852957", "BE68539007547034", "gb82west12345698765432"],
)  # fmt: skip
def test_iban_accepts_registry_examples(iban: str) -> None:
    assert iban_valid(iban)


@pytest.mark.parametrize(
    "iban", ["GB82WEST12345698765431", "DE89370400440532013", "XX89370400440532013000", "GB00WEST12345698765432"]
)
def test_iban_rejects_wrong_remainder_length_country_or_check_digits(iban: str) -> None:
    assert not iban_valid(iban)


def test_resident_id_check_character_matches_the_standard_examples() -> None:
    # GB 11643-1999 and the Ministry of Public Security's published examples.
    assert cn_id_check_char("11010519491231002") == "X"
    assert cn_id_check_char("44052418800101001") == "4"
    assert cn_resident_id_valid("11010519491231002X")
    assert cn_resident_id_valid("11010519491231002x")
    assert cn_resident_id_valid("440524188001010014")


@pytest.mark.parametrize(
    "value",
    ["110105194912310021", "990105194912310021", "110105194913310028", "110105209912310023", "11010519491231002"],
)
def test_resident_id_rejects_wrong_check_province_date_or_length(value: str) -> None:
    assert not cn_resident_id_valid(value)


def test_legacy_resident_id_needs_province_and_birth_date() -> None:
    assert cn_resident_id15_valid("110105491231002")
    assert not cn_resident_id15_valid("990105491231002")
    assert not cn_resident_id15_valid("110105491331002")


@pytest.mark.parametrize("value", ["123-45-6789"[:0] + "123456789", "078051120", "524710034"])
def test_ssn_accepts_assignable_numbers(value: str) -> None:
    assert ssn_valid(value)


@pytest.mark.parametrize("value", ["000123456", "666123456", "912345678", "123004567", "123450000"])
def test_ssn_rejects_unassignable_area_group_or_serial(value: str) -> None:
    assert not ssn_valid(value)


@pytest.mark.parametrize("address", ["41.173.96.26", "8.8.4.4", "2001:4860:4860::8888", "::ffff:41.173.96.26"])
def test_public_addresses_are_personal(address: str) -> None:
    assert ip_is_personal(address)


@pytest.mark.parametrize(
    "address",
    ["10.1.2.3", "192.168.0.1", "172.16.5.4", "127.0.0.1", "169.254.1.1", "100.64.0.1", "192.0.2.10",
     "198.51.100.7", "203.0.113.9", "224.0.0.1", "0.0.0.0", "fe80::1", "fd00::1", "::1", "2001:db8::1",
     "6e40:4041:c617:e898:c11:40d2:c669:2eb4", "01.2.3.4"],
)  # fmt: skip
def test_private_reserved_and_documentation_addresses_are_not_personal(address: str) -> None:
    assert not ip_is_personal(address)


def test_folding_keeps_length_and_maps_fullwidth_digits() -> None:
    text = "电话：１３８１２３４５６７８　（手机）－＠"
    folded = fold_text(text)
    assert len(folded) == len(text)
    assert "13812345678" in folded and "(手机)-@" in folded


def test_fullwidth_numbers_are_found_with_offsets_into_the_original() -> None:
    text = "电话：１３８１２３４５６７８，谢谢"
    (span,) = find_pii(text, names=False)
    assert span["type"] == "PHONE"
    assert text[span["start"] : span["end"]] == "１３８１２３４５６７８"


# ---------------------------------------------------------------------------------------------------------------
# Planted values: at least 99% removed, spans exact.


def _covering(item: planted.Planted, spans: list) -> list:
    return [span for span in spans if span["start"] <= item.start and span["end"] >= item.end]


@pytest.mark.parametrize("kind", STRUCTURED_TYPES)
def test_planted_values_are_removed_with_exact_offsets(kind: str) -> None:
    items = planted.planted_values(kind, PLANTED_PER_LANGUAGE, SEED)
    assert len(items) >= 2 * PLANTED_PER_LANGUAGE

    removed = typed_exactly = 0
    for item in items:
        spans = find_pii(item.text, names=False)
        for span in spans:
            assert 0 <= span["start"] < span["end"] <= len(item.text)
        if _covering(item, spans):
            removed += 1
        exact = [s for s in spans if s["type"] == kind and (s["start"], s["end"]) == (item.start, item.end)]
        typed_exactly += bool(exact)

    assert removed / len(items) >= 0.99, f"{kind}: {removed}/{len(items)} removed"
    assert typed_exactly / len(items) >= 0.99, f"{kind}: {typed_exactly}/{len(items)} exact spans of the type"


def test_planted_legacy_15_digit_ids_near_an_id_word_are_removed() -> None:
    items = planted.planted_id15(PLANTED_PER_LANGUAGE, SEED)
    removed = sum(bool(_covering(item, find_pii(item.text, names=False))) for item in items)
    assert removed / len(items) >= 0.99


def test_planted_values_are_removed_by_redaction_in_the_text() -> None:
    from curation.steps.pii import redact

    for kind in STRUCTURED_TYPES:
        for item in planted.planted_values(kind, 50, SEED + 1):
            redacted = redact(item.text, find_pii(item.text, names=False))
            assert item.value not in redacted, (kind, item.text)
            assert f"<{kind}>" in redacted or "<" in redacted


# ---------------------------------------------------------------------------------------------------------------
# Look-alikes: at most 1% redacted.


@pytest.mark.parametrize("kind", sorted(planted.LOOKALIKES))
def test_lookalikes_are_rarely_redacted(kind: str) -> None:
    items = planted.lookalikes(kind, 2_000, SEED)
    touched = 0
    for item in items:
        spans = find_pii(item.text, names=False)
        touched += any(span["start"] < item.end and item.start < span["end"] for span in spans)
    assert touched / len(items) <= 0.01, f"{kind}: {touched}/{len(items)} redacted"


def test_wrong_check_digit_ids_are_not_taken_for_cards() -> None:
    # Province 62 is also UnionPay's prefix: a mistyped Gansu ID passing Luhn must still not become a CARD.
    first17 = "62010219900307123"
    right = cn_id_check_char(first17)
    for char in "0123456789X":
        if char != right:
            assert find_pii(f"编号{first17}{char}无效", names=False) == []


@pytest.mark.parametrize(
    "text",
    [
        "Call 1.2.3.4 support", "ratio 3:2:1", "at 12:30:45 today", "std::vector<int>", "MAC 00:1A:2B:3C:4D:5E",
        "ISBN 978-7-111-54742-6", "population 13,812,345,678", "pi is 3.14159265358979", "编号：E12345678",
        "WeChat Pay is popular", "微信公众号：学习强国", "logo@2x.png", "mail me at user@example.com",
        "token=<YOUR_TOKEN_HERE>", "password: ********", "G12345678 次列车", "line calls, 6-7 (3-7) 6-3 6-3.",
    ],
)
def test_common_non_personal_strings_are_left_alone(text: str) -> None:
    assert find_pii(text, names=False) == [], text


# ---------------------------------------------------------------------------------------------------------------
# Gates: a pattern runs only where something every match contains is present; the hits must not change.


def test_the_ignorecase_oddities_are_every_non_ascii_character_re_matches_to_an_ascii_letter() -> None:
    # Given every non-ASCII character, when re.IGNORECASE matches each against the ASCII letters,
    every_non_ascii = "".join(map(chr, range(0x80, sys.maxunicode + 1)))
    found = set(re.findall("[A-Za-z]", every_non_ascii, flags=re.IGNORECASE))
    # then the gates' list of characters that lower() does not turn into those letters is exactly that set.
    assert found == set(recognizers._IGNORECASE_ODDITIES)


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("pa\u017f\u017fword = hunter2secret", "SECRET", "hunter2secret"),  # long s: re.I reads it as "s"
        ("api\u212aey: abcdefgh1234", "SECRET", "abcdefgh1234"),  # Kelvin sign: re.I reads it as "k"
        ("PASSWORD=abcdefgh12", "SECRET", "abcdefgh12"),
        ("BEARER abcdefghijklmnopqrstuvwxyz", "SECRET", "abcdefghijklmnopqrstuvwxyz"),
        ("加我Q\u0051：12345678", "QQ", "12345678"),
        ("加V信 abc_12345", "WECHAT", "abc_12345"),
        ("WeChat: wx_abc123", "WECHAT", "wx_abc123"),
        ("电话0755 2345 6789", "PHONE", "0755 2345 6789"),
        ("手机 138 1234 5678", "PHONE", "138 1234 5678"),
        ("ip 2400:cb00:2048:1::c629:d7a2 seen", "IP", "2400:cb00:2048:1::c629:d7a2"),
    ],
)
def test_gated_patterns_still_find_their_values_in_any_case(text: str, kind: str, value: str) -> None:
    # Given a value written in a case or with a character the lower-cased gates must not miss,
    # when the structured recognisers run,
    spans = find_pii(text, names=False)
    # then the value is found as before the gates.
    assert [(span["type"], text[span["start"] : span["end"]]) for span in spans] == [(kind, value)]
