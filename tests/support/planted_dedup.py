"""Planted duplicates for dedup tests and bench/dedup.py: distinct documents, copies that must be removed, hard
negatives that must be kept, and the score of a dedup run against them.

Distinct documents are made of real paragraphs (../shared/data/corpora: BBC news, Chinese Wikipedia, Chinese hotel
and food-delivery reviews) drawn at random and joined up to about 2 KB, or of generated text when the shared data is
absent. Must-remove copies of a document are what crawls produce: an identical copy; a change of case, spacing or
punctuation only (including full-width versus ASCII punctuation); a few small edits (about one word or character
in 150); truncation (the last 5-10% cut); boilerplate headers and footers added. Hard negatives are new pages made of
the first half of one distinct document and the second half of another (Jaccard ~1/3 with each): all three must
be kept.

Scoring is per group (a distinct document and its copies): exactly one member of a group should be kept.
Recall counts removed members up to |group| - 1; a distinct document is wrongly removed when every member of its
group is removed, or when it is a singleton or a hard negative and is removed.
"""

from __future__ import annotations

import csv
import gzip
import json
import random
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curation.steps.document import Document

MUST_REMOVE_KINDS = ("exact", "case", "spacing", "punctuation", "fullwidth", "edits", "truncation", "boilerplate")

EN_HEADERS = (
    "Skip to main content | Home | News | Sport | Business | Weather | Sign in",
    "BREAKING: Subscribe to our newsletter for the latest headlines delivered daily.",
    "Advertisement - Continue reading below",
)
EN_FOOTERS = (
    "Share this article: Facebook Twitter Email. Related stories. Copyright 2005 Example News Ltd. "
    "All rights reserved.",
    "Comments are closed. Read our privacy policy and terms of use. Follow us on social media.",
    "This story was first published on our website. Click here to read more stories like this one.",
)
ZH_HEADERS = (
    "首页 | 新闻 | 体育 | 财经 | 登录 | 注册",
    "【广告】点击这里下载我们的手机客户端，随时随地看新闻",
    "本文来源：网络 编辑：小王",
)
ZH_FOOTERS = (
    "版权所有 © 2024 示例网 保留所有权利。转载请注明出处。",
    "分享到：微博 微信 QQ空间。相关阅读：更多精彩内容请关注我们的公众号。",
    "免责声明：本文仅代表作者个人观点，与本站无关。",
)
_FULLWIDTH = {",": "，", ".": "。", "!": "！", "?": "？", ":": "：", ";": "；", "(": "（", ")": "）"}
_ASCII = {value: key for key, value in _FULLWIDTH.items()}


def is_cjk_text(text: str) -> bool:
    han = sum(1 for ch in text[:400] if "\u4e00" <= ch <= "\u9fff")
    return han > len(text[:400]) * 0.3


# --- distinct documents ---------------------------------------------------------------------------------------


def corpus_paragraphs(shared_data: Path) -> dict[str, list[str]]:
    """Return real sentences by language from ../shared/data/corpora (BBC news; Chinese Wikipedia and reviews).

    Documents are composed of sentences, not whole paragraphs, so that two composed documents never share a long
    passage by chance: a Wikipedia paragraph is often most of a 2 KB document.
    """
    corpora = shared_data / "corpora"
    english: list[str] = []
    with gzip.open(corpora / "bbc-news-2004-05" / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            body = json.loads(line)["text"].split("\n", 1)[-1]
            english.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", body) if len(s.strip()) >= 30)
    chinese_paragraphs: list[str] = []
    with open(corpora / "cmrc2018-zh-wikipedia" / "paragraphs.jsonl", encoding="utf-8") as handle:
        chinese_paragraphs.extend(json.loads(line)["text"].strip() for line in handle)
    for name in ("ChnSentiCorp_htl_all.csv", "waimai_10k.csv"):
        with open(corpora / "chinese-reviews" / name, encoding="utf-8") as handle:
            chinese_paragraphs.extend((row.get("review") or "").strip() for row in csv.DictReader(handle))
    chinese = [s.strip() for p in chinese_paragraphs for s in re.split(r"(?<=[。！？!?])", p) if len(s.strip()) >= 10]
    # Natural duplicates in the corpora (the BBC set repeats some articles) must not make "distinct" documents alike.
    return {"en": sorted(set(english)), "zh": sorted(set(chinese))}


_EN_WORDS = (
    "time year people way day man thing woman life child world school state family student group country problem "
    "hand part place case week company system program question work government number night point home water "
    "room mother area money story fact month lot right study book eye job word business issue side kind head "
    "house service friend father power hour game line end member law car city community name president team "
    "minute idea kid body information back parent face others level office door health person art war history "
    "party result change morning reason research girl guy moment air teacher force education foot boy age policy "
    "process music market sense nation plan college interest death experience effect use class control care field "
    "development role effort rate heart drug show leader light voice wife police mind price report decision son"
).split()
_EN_GLUE = "the a of and to in is was for on that with as by at from it be are this which have has had not".split()


def synthetic_paragraphs(rng: random.Random, count: int = 4000) -> dict[str, list[str]]:
    """Return generated English-like and Chinese-like paragraphs (for tests without the shared data)."""
    english = []
    for _ in range(count):
        words = []
        for _ in range(rng.randint(35, 70)):
            words.append(rng.choice(_EN_GLUE) if rng.random() < 0.4 else rng.choice(_EN_WORDS))
        sentence_ends = sorted(rng.sample(range(5, len(words)), 3))
        for end in sentence_ends:
            words[end] += "."
        words[0] = words[0].capitalize()
        english.append(" ".join(words) + ".")
    common_han = [chr(c) for c in range(0x4E00, 0x4E00 + 2500)]
    chinese = []
    for _ in range(count):
        chars = [rng.choice(common_han) for _ in range(rng.randint(60, 160))]
        for position in sorted(rng.sample(range(5, len(chars)), 4), reverse=True):
            chars.insert(position, rng.choice("，。；"))
        chinese.append("".join(chars) + "。")
    return {"en": english, "zh": chinese}


def compose_documents(
    paragraphs: dict[str, list[str]], count: int, rng: random.Random, target_bytes: int = 2000, en_share: float = 0.6
) -> list[str]:
    """Return `count` distinct documents of about `target_bytes` UTF-8 bytes, each of random sentences."""
    documents: list[str] = []
    seen: set[str] = set()
    while len(documents) < count:
        language = "en" if rng.random() < en_share else "zh"
        pool = paragraphs[language]
        parts: list[str] = []
        size = 0
        while size < target_bytes:
            part = pool[rng.randrange(len(pool))]
            if len(parts) % 4 == 3:
                part = ("\n\n" if language == "en" else "\n") + part
            parts.append(part)
            size += len(part.encode("utf-8"))
        text = (" " if language == "en" else "").join(parts).strip()
        if text not in seen:
            seen.add(text)
            documents.append(text)
    return documents


# --- mutations ------------------------------------------------------------------------------------------------


def mutate(text: str, kind: str, rng: random.Random) -> str:
    """Return a copy of `text` that a reader would call the same page (see the module docstring)."""
    cjk = is_cjk_text(text)
    if kind == "exact":
        return text
    if kind == "case":
        choice = rng.choice(("upper", "lower", "title", "words"))
        if choice == "upper":
            return text.upper()
        if choice == "lower":
            return text.lower()
        if choice == "title":
            return text.title()
        return " ".join(word.upper() if rng.random() < 0.2 else word for word in text.split(" "))
    if kind == "spacing":
        if cjk:
            if rng.random() < 0.5:
                return re.sub(r"\s+", "", text)
            # Spaces between Chinese characters (never inside a Latin word).
            return re.sub(r"(?<=[\u4e00-\u9fff])(?=[\u4e00-\u9fff])", lambda _: " " if rng.random() < 0.3 else "", text)
        return re.sub(r" ", lambda _: rng.choice((" ", "  ", "\n", " \t ")), text)
    if kind == "punctuation":
        if rng.random() < 0.5:
            return "".join(ch for ch in text if not unicodedata.category(ch).startswith("P"))
        return re.sub(r"([,.])", lambda m: rng.choice((m.group(1), m.group(1) * 2, "", ";", " -")), text)
    if kind == "fullwidth":
        table = _ASCII if cjk else _FULLWIDTH
        if cjk and rng.random() < 0.5:
            # Full-width Latin letters and digits as well as punctuation (NFKC folds them).
            return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else table.get(ch, ch) for ch in text)
        return "".join(table.get(ch, ch) for ch in text)
    if kind == "edits":
        return _small_edits(text, rng, cjk)
    if kind == "truncation":
        keep = 1.0 - rng.uniform(0.05, 0.10)
        return text[: int(len(text) * keep)]
    if kind == "boilerplate":
        headers, footers = (ZH_HEADERS, ZH_FOOTERS) if cjk else (EN_HEADERS, EN_FOOTERS)
        where = rng.choice(("header", "footer", "both"))
        header = rng.choice(headers) + "\n" if where in ("header", "both") else ""
        footer = "\n" + rng.choice(footers) if where in ("footer", "both") else ""
        return header + text + footer
    raise ValueError(f"unknown mutation {kind!r}")


def _small_edits(text: str, rng: random.Random, cjk: bool) -> str:
    """Substitute, insert or delete about one word (or CJK character) in 150, at least one."""
    if cjk:
        units = list(text)
        edits = max(1, len(units) // 150)
        for _ in range(edits):
            position = rng.randrange(len(units))
            operation = rng.choice(("sub", "ins", "del"))
            if operation == "sub":
                units[position] = chr(rng.randrange(0x4E00, 0x9FA5))
            elif operation == "ins":
                units.insert(position, chr(rng.randrange(0x4E00, 0x9FA5)))
            elif len(units) > 1:
                del units[position]
        return "".join(units)
    words = text.split(" ")
    edits = max(1, len(words) // 150)
    for _ in range(edits):
        position = rng.randrange(len(words))
        operation = rng.choice(("sub", "ins", "del"))
        if operation == "sub":
            words[position] = rng.choice(_EN_WORDS)
        elif operation == "ins":
            words.insert(position, rng.choice(_EN_WORDS))
        elif len(words) > 1:
            del words[position]
    return " ".join(words)


# --- planted sets and scoring ---------------------------------------------------------------------------------


@dataclass
class PlantedSet:
    docs: list[Document]
    groups: list[list[str]] = field(default_factory=list)  # [original id, copy ids...]
    copy_kind: dict[str, str] = field(default_factory=dict)  # copy id -> mutation kind
    singles: list[str] = field(default_factory=list)  # distinct documents without copies
    hard_negatives: list[tuple[str, str, str]] = field(default_factory=list)  # (a, b, half of a + half of b)

    def texts(self) -> dict[str, str]:
        return {doc["id"]: doc["text"] for doc in self.docs}


def plant(
    originals: list[str],
    rng: random.Random,
    copied_share: float = 0.3,
    hard_negative_share: float = 0.05,
    max_copies: int = 3,
    prefix: str = "d",
) -> PlantedSet:
    """Return originals, copies of some of them (every must-remove kind) and hard negatives, shuffled."""
    planted = PlantedSet(docs=[])
    ids = [f"{prefix}{index:06d}" for index in range(len(originals))]
    texts = dict(zip(ids, originals, strict=True))
    order = list(ids)
    rng.shuffle(order)
    copied = order[: int(len(order) * copied_share)]
    hard = order[len(copied) : len(copied) + 2 * int(len(order) * hard_negative_share)]
    kind_cycle = 0
    for original in copied:
        group = [original]
        for copy_number in range(rng.randint(1, max_copies)):
            kind = MUST_REMOVE_KINDS[kind_cycle % len(MUST_REMOVE_KINDS)]
            kind_cycle += 1
            copy_id = f"{original}-c{copy_number}-{kind}"
            texts[copy_id] = mutate(texts[original], kind, rng)
            planted.copy_kind[copy_id] = kind
            group.append(copy_id)
        planted.groups.append(group)
    grouped = {member for group in planted.groups for member in group}
    for a, b in zip(hard[0::2], hard[1::2], strict=True):
        first, second = texts[a], texts[b]
        mixed_id = f"{a}-half-{b}"
        texts[mixed_id] = first[: len(first) // 2] + "\n" + second[len(second) // 2 :]
        planted.hard_negatives.append((a, b, mixed_id))
    planted.singles = [doc_id for doc_id in ids if doc_id not in grouped] + [h[2] for h in planted.hard_negatives]
    all_ids = list(texts)
    rng.shuffle(all_ids)
    planted.docs = [{"id": doc_id, "text": texts[doc_id]} for doc_id in all_ids]
    return planted


def score(planted: PlantedSet, kept_ids: Iterable[str]) -> dict[str, Any]:
    """Score a dedup run: recall of must-remove copies, wrongly removed distinct documents, exact copies kept."""
    kept = set(kept_ids)
    must_remove = removed_ok = 0
    wrongly_removed = 0
    by_kind_total: dict[str, int] = {}
    by_kind_missed: dict[str, int] = {}
    for group in planted.groups:
        kept_in_group = [member for member in group if member in kept]
        must_remove += len(group) - 1
        removed_ok += len(group) - max(len(kept_in_group), 1)
        if not kept_in_group:
            wrongly_removed += 1
        # A kept copy is "missed" unless it is the group's one representative: the original when it is kept,
        # else the copy of the first kind in MUST_REMOVE_KINDS order (the kinds closest to the original first).
        kept_copies = sorted(
            (member for member in group[1:] if member in kept),
            key=lambda member: MUST_REMOVE_KINDS.index(planted.copy_kind[member]),
        )
        representative = group[0] if group[0] in kept else (kept_copies[0] if kept_copies else None)
        for member in group[1:]:
            kind = planted.copy_kind[member]
            by_kind_total[kind] = by_kind_total.get(kind, 0) + 1
            if member in kept and member != representative:
                by_kind_missed[kind] = by_kind_missed.get(kind, 0) + 1
    for single in planted.singles:
        if single not in kept:
            wrongly_removed += 1
    distinct = len(planted.groups) + len(planted.singles)
    texts = planted.texts()
    kept_texts = [texts[doc_id] for doc_id in kept if doc_id in texts]
    exact_kept_twice = len(kept_texts) - len(set(kept_texts))
    hard_negative_lost = sum(
        1 for triple in planted.hard_negatives for member in triple if member not in kept
    )
    return {
        "must_remove": must_remove,
        "removed": removed_ok,
        "recall": removed_ok / must_remove if must_remove else 1.0,
        "distinct": distinct,
        "distinct_removed": wrongly_removed,
        "distinct_removed_rate": wrongly_removed / distinct if distinct else 0.0,
        "exact_copies_kept": exact_kept_twice,
        "hard_negative_members_removed": hard_negative_lost,
        "missed_by_kind": {
            kind: f"{by_kind_missed.get(kind, 0)}/{total}" for kind, total in sorted(by_kind_total.items())
        },
    }
