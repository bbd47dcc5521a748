"""The canonical form: NFKC, case folding, punctuation, digits, CJK characters; the table path against a plain one."""

from __future__ import annotations

import random
import unicodedata

import numpy as np

from curation.steps.dedup.normalize import (
    exact_hash,
    exact_hashes,
    has_tokens,
    normalize_text,
    tokenize,
    tokenize_batch,
)

# --- a plain, per-character reference written from the module docstring's rules -------------------------------

_CJK_LETTER_RANGES = (
    (0x3005, 0x3007), (0x3021, 0x3029), (0x3031, 0x3035), (0x3038, 0x303C), (0x3040, 0x30FF), (0x3100, 0x312F),
    (0x31A0, 0x31BF), (0x31F0, 0x31FF), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x1AFF0, 0x1B16F),
    (0x20000, 0x3FFFF),
)  # fmt: skip


def _reference_class(ch: str) -> str:
    code = ord(ch)
    category = unicodedata.category(ch)
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF or 0x180B <= code <= 0x180F or category == "Cf":
        return "delete"
    in_cjk = any(first <= code <= last for first, last in _CJK_LETTER_RANGES)
    if category == "Cn" and (0x3400 <= code <= 0x4DBF or 0x4E00 <= code <= 0x9FFF or 0x20000 <= code <= 0x3FFFF):
        return "cjk"
    if category[0] == "L" or category == "Nl":
        return "cjk" if in_cjk else "word"
    if category in ("Mn", "Mc", "No", "Nd"):
        return "word"
    if ch in "'’‘`-‐‑.·_":
        return "join"
    if ch == ",":
        return "number_join"
    return "sep"


def reference_tokens(text: str) -> list[tuple[str, bool]]:
    """Tokens (and whether each is a CJK character) by the documented rules, one character at a time."""
    text = text.replace("\x00", " ")
    folded = unicodedata.normalize("NFKC", text).casefold()
    chars = [(ch, _reference_class(ch)) for ch in folded]
    chars = [(ch, cls) for ch, cls in chars if cls != "delete"]
    # Joiners between two word characters (commas: two digits) are deleted; any other is a separator.
    kept: list[tuple[str, str]] = []
    for index, (ch, char_class) in enumerate(chars):
        cls = char_class
        if cls in ("join", "number_join"):
            before = chars[index - 1] if index > 0 else (" ", "sep")
            after = chars[index + 1] if index + 1 < len(chars) else (" ", "sep")
            if before[1] == "word" and after[1] == "word":
                digits = unicodedata.category(before[0]) == "Nd" and unicodedata.category(after[0]) == "Nd"
                if cls == "join" or digits:
                    continue
            cls = "sep"
        kept.append(("0" if unicodedata.category(ch) == "Nd" else ch, cls))
    tokens: list[tuple[str, bool]] = []
    word = ""
    for ch, cls in kept:
        if cls == "word":
            word += ch
            continue
        if word:
            tokens.append((word, False))
            word = ""
        if cls == "cjk":
            tokens.append((ch, True))
    if word:
        tokens.append((word, False))
    return tokens


def reference_canonical(text: str) -> str:
    out = ""
    previous_cjk = False
    for index, (token, cjk) in enumerate(reference_tokens(text)):
        if index and not (cjk and previous_cjk):
            out += " "
        out += token
        previous_cjk = cjk
    return out


# --- behaviour ----------------------------------------------------------------------------------------------


def test_nfkc_full_width_case_and_digits_fold_away() -> None:
    assert normalize_text("Ｈｅｌｌｏ，ＷＯＲＬＤ！ ２０２４年") == "hello world 0000 年"
    assert normalize_text("Hello, World! 1999") == normalize_text("hello world 2024")
    assert normalize_text("ﬁne Straße") == "fine strasse"
    assert normalize_text("١٢٣ digits") == "000 digits"


def test_full_width_and_ascii_punctuation_are_the_same() -> None:
    assert normalize_text("你好，世界！（测试）") == normalize_text("你好,世界!(测试)") == "你好世界测试"


def test_whitespace_and_punctuation_separate_tokens() -> None:
    assert normalize_text("  Hello...   world\n\n-- again  ") == "hello world again"
    assert normalize_text("Hello, world.") == normalize_text("hello world")


def test_punctuation_inside_a_word_joins_it() -> None:
    assert normalize_text("it's e-mail U.S. 1,000 don’t") == normalize_text("its email US 1000 dont")
    assert normalize_text("red,green and/or blue") == "red green and or blue"


def test_invisible_characters_are_deleted() -> None:
    assert normalize_text("soft\u00adhyphen zero\u200bwidth bom\ufeff") == "softhyphen zerowidth bom"
    assert normalize_text("heart\u2764\ufe0f") == "heart"


def test_chinese_and_japanese_are_one_token_per_character_other_text_per_word() -> None:
    assert tokenize("我爱北京 hello world") == ["我", "爱", "北", "京", "hello", "world"]
    assert tokenize("ひらがなカタカナ") == list("ひらがなカタカナ")
    assert tokenize("한국어 텍스트") == ["한국어", "텍스트"]  # Korean separates words with spaces
    assert normalize_text("我 爱 北 京") == normalize_text("我爱北京") == "我爱北京"


def test_mixed_scripts_keep_every_script() -> None:
    text = "Москва 東京 café naïve 2024年 ελληνικά عربي"
    assert normalize_text(text) == "москва 東京 café naïve 0000 年 ελληνικα عربي".replace("ελληνικα", "ελληνικά")


def test_texts_of_only_punctuation_emoji_or_space_are_empty() -> None:
    for text in ["", "   \n\t", "!!! ??? ...", "😀👍🏽🎉", "——。，、", "\u200b\ufeff", "\x00"]:
        assert normalize_text(text) == ""
        assert tokenize(text) == []
    assert list(has_tokens(["", "!!!", "😀", "a", "你"])) == [False, False, False, True, True]


def test_composed_and_decomposed_accents_are_the_same() -> None:
    assert normalize_text("caf\u00e9") == normalize_text("cafe\u0301") == "café"
    assert normalize_text("\uff76\uff9e") == "ガ"  # half-width kana and voiced mark compose
    assert normalize_text("\u3131\u314f") == "가"  # compatibility jamo compose into a syllable


def test_nul_inside_a_text_does_not_split_the_batch() -> None:
    batch = tokenize_batch(["a\x00b", "c"])
    assert list(batch.token_counts()) == [2, 1]


def test_exact_hash_equal_for_variants_and_different_otherwise() -> None:
    assert exact_hash("Hello,  WORLD!") == exact_hash("hello world")
    assert exact_hash("hello world") != exact_hash("hello worlds")
    assert exact_hash("ab c") != exact_hash("a bc")  # token boundaries count
    assert len(exact_hash("x")) == 16


def test_batch_results_do_not_depend_on_the_batch() -> None:
    texts = ["Hello world, again.", "", "你好世界", "Ünïcödé ẞ straße", "e\u0301 x"]
    together = exact_hashes(tokenize_batch(texts))
    alone = np.concatenate([exact_hashes(tokenize_batch([text])) for text in texts])
    assert (together == alone).all()
    big = tokenize_batch(["filler " * 300_000, texts[0]])  # positions past the power table (1M code points)
    small = tokenize_batch([texts[0]])
    assert (big.token_hash[big.doc_offsets[1] :] == small.token_hash).all()


# --- the table path equals the plain per-character reference ------------------------------------------------------


def test_table_path_matches_reference_on_real_looking_text() -> None:
    samples = [
        "The U.K.'s GDP grew 2.5% in Q3 — “faster than expected”, analysts said…",
        "《战国无双3》（）是由光荣和ω-force开发的战国无双系列的正统第三续作。",
        "東京タワー（とうきょうタワー）は、東京都港区芝公園にある総合電波塔。",
        "Ｆｕｌｌ－ｗｉｄｔｈ　ＡＳＣＩＩ　１２３，４５６！",
        "Crème brûlée, jalapeño, naïve café — Ångström ℃ ㎡ ⑴ ½",
        "emoji 👩‍👩‍👧‍👦 flags 🇫🇷 keycap 1️⃣ skin 👍🏿",
        "Tiếng Việt có dấu: Nguyễn, Phở, Hà Nội; हिन्दी भाषा; ภาษาไทย",
        "𠀀𠀁 ext-B ideographs and 𝐛𝐨𝐥𝐝 math letters",
    ]
    for text in samples:
        assert normalize_text(text) == reference_canonical(text), text
        assert [t for t, _ in reference_tokens(text)] == tokenize(text)


def test_table_path_matches_reference_on_random_code_points() -> None:
    rng = random.Random(7)
    pools = [
        range(0x20, 0x250), range(0x300, 0x370), range(0x370, 0x530), range(0x900, 0xE00), range(0x1100, 0x1200),
        range(0x2000, 0x2BFF), range(0x3000, 0x3100), range(0x3130, 0x3190), range(0x3200, 0x3400),
        range(0x4E00, 0x4F00), range(0xAC00, 0xAD00), range(0xF900, 0xFB50), range(0xFE00, 0xFE70),
        range(0xFF00, 0xFFF0), range(0x1D400, 0x1D800), range(0x1F300, 0x1FA00), range(0x2F800, 0x2FA20),
        range(0xE0000, 0xE0080),
    ]  # fmt: skip
    texts = []
    for _ in range(400):
        parts = []
        for _ in range(rng.randint(1, 40)):
            pool = rng.choice(pools)
            parts.append(chr(rng.choice(pool)))
            if rng.random() < 0.3:
                parts.append(" ")
        texts.append("".join(parts))
    batch_forms = [normalize_text(text) for text in texts]
    assert batch_forms == [reference_canonical(text) for text in texts]


def test_a_letter_or_digit_always_survives_normalisation() -> None:
    # exact_dedup relies on this to skip normalising texts that hold a letter or digit.
    alnum = [chr(code) for code in range(1, 0x110000) if chr(code).isalnum()]
    assert has_tokens(alnum).all()
