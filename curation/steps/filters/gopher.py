"""Gopher's quality and repetition rules (Rae et al. 2021, "Scaling Language Models", appendix A.1.1, table A1).

English defaults are the paper's, as datatrove implements them (`GopherQualityFilter`, `GopherRepetitionFilter`,
which FineWeb used unchanged). Chinese thresholds are FineWeb-2's `cmn_Hani` configuration
(huggingface/fineweb-2, configs/cmn_Hani.yml at commit 05e6729, applied by fineweb-2-pipeline.py at 7ee60b3),
which were tuned per language on word statistics from spaCy's jieba segmentation; we segment with jieba too (see
text_stats).

Gopher quality                       English (Gopher)   Chinese             Chinese source
  words (letters or digits)          50 .. 100,000      50 .. 100,000       FineWeb-2 keeps the defaults
  mean word length (characters)      3 .. 10            1 .. 5              cmn_Hani.yml min/max_avg_word_length
  '#' or ellipsis per token          <= 0.1             <= 0.1              default
  lines starting with a bullet       <= 90 %            <= 90 %             default
  lines ending with an ellipsis      <= 30 %            <= 30 %             default
  tokens with a letter               >= 80 %            >= 73.5 %           cmn_Hani.yml max_non_alpha_words_ratio
  distinct stopwords present         >= 2               >= 2                FineWeb-2 pipeline (min_stop_words=2),
                                                                            list from cmn_Hani.yml stopwords

Gopher repetition                    English (Gopher)   Chinese             Chinese source
  duplicate lines / lines            <= 0.30            <= 0.287            cmn_Hani.yml dup_line_frac
  duplicate paragraphs / paragraphs  <= 0.30            off                 FineWeb-2 pipeline disables it
  chars in duplicate lines           <= 0.20            off                 FineWeb-2 pipeline disables it
  chars in duplicate paragraphs      <= 0.20            off                 FineWeb-2 pipeline disables it
  top 2-, 3-, 4-gram char share      .20 .18 .16        .256 .201 .171      cmn_Hani.yml top_n_grams
  duplicate 5..10-gram char share    .15 .14 .13        .198 .182 .167      cmn_Hani.yml dup_n_grams
                                     .12 .11 .10        .154 .140 .127

Nothing in the Chinese column is our estimate. Where we depart from datatrove: words come from our regular
expression instead of spaCy (see text_stats); lines are the non-blank lines, so blank lines dilute neither the
bullet nor the ellipsis share; bullets include the common bullet glyphs and `*`, not only `•` and `-`; English
stopwords also count when capitalised ("The"); n-grams are compared as token tuples, so "ab c" and "a bc" are no
longer the same n-gram. Other languages get the English thresholds and their stopword list if text_stats has one
(the check is skipped when it has none).

Every statistic is stored as a signal (`gopher_*`), rounded to 4 places; decisions read only signals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import accumulate, compress
from typing import Any

from curation.steps.base import register_step
from curation.steps.document import Document
from curation.steps.filters.common import (
    DEFAULT_MAX_CHARS,
    TextFilter,
    as_ngram_thresholds,
    merge_per_language,
    ratio,
)
from curation.steps.text_stats import TextStats

BULLETS = ("•", "-", "*", "·", "●", "○", "◦", "▪", "‣", "►", "➢", "✓")
ELLIPSES = ("...", "…")

REASON_WORD_COUNT = "gopher_word_count"
REASON_MEAN_WORD_LENGTH = "gopher_mean_word_length"
REASON_SYMBOL_RATIO = "gopher_symbol_ratio"
REASON_BULLET_LINES = "gopher_bullet_lines"
REASON_ELLIPSIS_LINES = "gopher_ellipsis_lines"
REASON_ALPHA_WORDS = "gopher_alpha_words"
REASON_STOPWORDS = "gopher_stopwords"
REASON_DUP_PARA_FRAC = "gopher_dup_para_frac"
REASON_DUP_PARA_CHAR_FRAC = "gopher_dup_para_char_frac"
REASON_DUP_LINE_FRAC = "gopher_dup_line_frac"
REASON_DUP_LINE_CHAR_FRAC = "gopher_dup_line_char_frac"

ZH_QUALITY = {"min_mean_word_length": 1.0, "max_mean_word_length": 5.0, "min_alpha_words_ratio": 0.735}
ZH_REPETITION = {
    "max_dup_line_frac": 0.287,
    "max_dup_para_frac": None,
    "max_dup_line_char_frac": None,
    "max_dup_para_char_frac": None,
    "max_top_ngram_char_frac": ((2, 0.256), (3, 0.201), (4, 0.171)),
    "max_dup_ngram_char_frac": ((5, 0.198), (6, 0.182), (7, 0.167), (8, 0.154), (9, 0.14), (10, 0.127)),
}


def _reason_top_ngram(n: int) -> str:
    return f"gopher_top_{n}gram"


def _reason_dup_ngram(n: int) -> str:
    return f"gopher_dup_{n}gram"


@dataclass(frozen=True)
class GopherQualityParams:
    """Thresholds for English and other languages; `None` disables a rule. See the module table."""

    min_words: int | None = 50
    max_words: int | None = 100_000
    min_mean_word_length: float | None = 3.0
    max_mean_word_length: float | None = 10.0
    max_symbol_ratio: float | None = 0.1
    max_bullet_lines_ratio: float | None = 0.9
    max_ellipsis_lines_ratio: float | None = 0.3
    min_alpha_words_ratio: float | None = 0.8
    min_stopwords: int | None = 2
    max_chars: int | None = DEFAULT_MAX_CHARS
    per_language: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        merge_per_language(self, {"zh": ZH_QUALITY})


Q_WORDS = "gopher_words"
Q_MEAN_WORD_LENGTH = "gopher_mean_word_length"
Q_HASH_RATIO = "gopher_hash_ratio"
Q_ELLIPSIS_RATIO = "gopher_ellipsis_ratio"
Q_BULLET_LINES = "gopher_bullet_lines_ratio"
Q_ELLIPSIS_LINES = "gopher_ellipsis_lines_ratio"
Q_ALPHA_WORDS = "gopher_alpha_words_ratio"
Q_STOPWORDS = "gopher_stopwords"
QUALITY_SIGNALS = (
    Q_WORDS, Q_MEAN_WORD_LENGTH, Q_HASH_RATIO, Q_ELLIPSIS_RATIO, Q_BULLET_LINES, Q_ELLIPSIS_LINES,
    Q_ALPHA_WORDS, Q_STOPWORDS,
)


@register_step
class GopherQualityFilter(TextFilter[GopherQualityParams]):
    """Remove documents that are too short or long, or read like lists, symbols or non-prose (Gopher).

    Adds the `gopher_*` quality signals; changes nothing else. A re-run reads the stored signals.
    """

    name = "gopher_quality"
    Params = GopherQualityParams
    signal_prefix = "gopher"

    def signal_keys(self, params: Any) -> tuple[str, ...]:
        return QUALITY_SIGNALS

    def compute(self, doc: Document, stats: TextStats, params: Any) -> dict[str, Any]:
        text = stats.text
        tokens = stats.tokens
        words = stats.words
        lines = stats.lines
        n_tokens = len(tokens)
        n_lines = len(lines)
        return {
            Q_WORDS: len(words),
            Q_MEAN_WORD_LENGTH: ratio(sum(map(len, words)), len(words)),
            Q_HASH_RATIO: ratio(text.count("#"), n_tokens),
            Q_ELLIPSIS_RATIO: ratio(text.count("...") + text.count("…"), n_tokens),
            Q_BULLET_LINES: ratio(sum(1 for line in lines if line.lstrip().startswith(BULLETS)), n_lines),
            Q_ELLIPSIS_LINES: ratio(sum(1 for line in lines if line.rstrip().endswith(ELLIPSES)), n_lines),
            Q_ALPHA_WORDS: ratio(stats.alpha_token_count, n_tokens),
            Q_STOPWORDS: stats.stopword_count(),
        }

    def check(self, signals: Mapping[str, Any], params: Any) -> str | None:
        p: GopherQualityParams = params
        words = signals[Q_WORDS]
        if p.min_words is not None and words < p.min_words:
            return REASON_WORD_COUNT
        if p.max_words is not None and words > p.max_words:
            return REASON_WORD_COUNT
        mean_length = signals[Q_MEAN_WORD_LENGTH]
        if p.min_mean_word_length is not None and mean_length < p.min_mean_word_length:
            return REASON_MEAN_WORD_LENGTH
        if p.max_mean_word_length is not None and mean_length > p.max_mean_word_length:
            return REASON_MEAN_WORD_LENGTH
        if p.max_symbol_ratio is not None and max(signals[Q_HASH_RATIO], signals[Q_ELLIPSIS_RATIO]) > (
            p.max_symbol_ratio
        ):
            return REASON_SYMBOL_RATIO
        if p.max_bullet_lines_ratio is not None and signals[Q_BULLET_LINES] > p.max_bullet_lines_ratio:
            return REASON_BULLET_LINES
        if p.max_ellipsis_lines_ratio is not None and signals[Q_ELLIPSIS_LINES] > p.max_ellipsis_lines_ratio:
            return REASON_ELLIPSIS_LINES
        if p.min_alpha_words_ratio is not None and signals[Q_ALPHA_WORDS] < p.min_alpha_words_ratio:
            return REASON_ALPHA_WORDS
        stopwords = signals[Q_STOPWORDS]
        if p.min_stopwords is not None and stopwords is not None and stopwords < p.min_stopwords:
            return REASON_STOPWORDS
        return None


@dataclass(frozen=True)
class GopherRepetitionParams:
    """Maximum repetition shares for English and other languages; `None` disables a rule. See the module table.

    `max_top_ngram_char_frac` and `max_dup_ngram_char_frac` are (n, maximum share) pairs.
    """

    max_dup_line_frac: float | None = 0.30
    max_dup_para_frac: float | None = 0.30
    max_dup_line_char_frac: float | None = 0.20
    max_dup_para_char_frac: float | None = 0.20
    max_top_ngram_char_frac: tuple[tuple[int, float], ...] = ((2, 0.20), (3, 0.18), (4, 0.16))
    max_dup_ngram_char_frac: tuple[tuple[int, float], ...] = (
        (5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10),
    )
    max_chars: int | None = DEFAULT_MAX_CHARS
    per_language: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("max_top_ngram_char_frac", "max_dup_ngram_char_frac"):
            object.__setattr__(self, name, as_ngram_thresholds(getattr(self, name), name))
        merge_per_language(self, {"zh": ZH_REPETITION})


R_DUP_PARA_FRAC = "gopher_dup_para_frac"
R_DUP_PARA_CHAR_FRAC = "gopher_dup_para_char_frac"
R_DUP_LINE_FRAC = "gopher_dup_line_frac"
R_DUP_LINE_CHAR_FRAC = "gopher_dup_line_char_frac"


def top_ngram_signal(n: int) -> str:
    return f"gopher_top_{n}gram_char_frac"


def dup_ngram_signal(n: int) -> str:
    return f"gopher_dup_{n}gram_char_frac"


def duplicates(items: list[str]) -> tuple[int, int]:
    """Return how many items repeat an earlier one, and their characters (datatrove's `find_duplicates`)."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


@dataclass(frozen=True)
class NgramRepetition:
    """For one n: characters of the most frequent n-gram times its count, and characters of repeated n-grams."""

    top_chars: int
    duplicate_chars: int


def ngram_repetition(
    tokens: list[str], top_sizes: Iterable[int], duplicate_sizes: Iterable[int]
) -> dict[int, NgramRepetition]:
    """Return Gopher's top n-gram characters for `top_sizes` and duplicate n-gram characters for `duplicate_sizes`.

    Same numbers as datatrove's `find_top_duplicate` and `find_all_duplicate`, computed faster: an (n+1)-gram
    can only repeat where its leading n-gram repeats, so after one full pass over the n-grams of the smallest n,
    each larger n only looks at the positions whose shorter n-gram occurs more than once (few, in most text).

    Top: the most frequent n-gram's characters (with the n-1 spaces between tokens) times its count; among equal
    counts the one that occurs first, as `Counter.most_common` picks. Duplicates: scanning left to right, an
    n-gram already seen adds its characters (without spaces) and the scan jumps past it; positions the scan
    jumps over are not remembered as seen. A size in neither list gets zeros.
    """
    tops = set(top_sizes)
    dups = set(duplicate_sizes)
    sizes = tops | dups
    results: dict[int, NgramRepetition] = {}
    if not sizes:
        return results
    smallest, largest = min(sizes), max(sizes)
    total = len(tokens)
    offsets = [0, *accumulate(map(len, tokens))]
    # Positions whose n-gram occurs more than once, in order, and those n-grams.
    positions: list[int] = []
    grams: list[tuple[str, ...]] = []
    counts: Counter[tuple[str, ...]] = Counter()
    for n in range(smallest, largest + 1):
        count = total - n + 1
        if count <= 0:
            results[n] = NgramRepetition(0, 0)
            continue
        if n == smallest:
            # The shifted copies are shorter and shorter: the shortest ends the n-grams.
            all_grams = list(zip(*(tokens[offset:] for offset in range(n)), strict=False))
            counts = Counter(all_grams)
            if len(counts) == count:
                positions, grams = [], []
            else:
                repeated = list(map((1).__lt__, map(counts.__getitem__, all_grams)))
                positions = list(compress(range(count), repeated))
                grams = list(compress(all_grams, repeated))
        elif positions:
            candidates = [position for position in positions if position < count]
            longer = [tuple(tokens[position : position + n]) for position in candidates]
            counts = Counter(longer)
            repeated = list(map((1).__lt__, map(counts.__getitem__, longer)))
            positions = list(compress(candidates, repeated))
            grams = list(compress(longer, repeated))
        if not positions:
            # Every n-gram is unique: Counter.most_common(1) would return the first one, once.
            results[n] = NgramRepetition(offsets[n] + n - 1, 0)
            continue
        top_chars = 0
        if n in tops:
            # `counts` holds every repeated n-gram, counted in full and in order of first occurrence.
            top_gram, top_count = counts.most_common(1)[0]
            top_chars = (sum(map(len, top_gram)) + n - 1) * top_count
        duplicate_chars = 0
        if n in dups:
            seen: set[tuple[str, ...]] = set()
            skip_until = 0
            for position, gram in zip(positions, grams, strict=True):
                if position < skip_until:
                    continue
                if gram in seen:
                    duplicate_chars += offsets[position + n] - offsets[position]
                    skip_until = position + n
                else:
                    seen.add(gram)
        results[n] = NgramRepetition(top_chars, duplicate_chars)
    return results


@register_step
class GopherRepetitionFilter(TextFilter[GopherRepetitionParams]):
    """Remove documents made of repeated lines, paragraphs or n-grams (Gopher).

    Adds the `gopher_dup_*` and `gopher_top_*` signals; changes nothing else. A re-run reads the stored signals.
    """

    name = "gopher_repetition"
    Params = GopherRepetitionParams
    signal_prefix = "gopher"

    def signal_keys(self, params: Any) -> tuple[str, ...]:
        p: GopherRepetitionParams = params
        return (
            R_DUP_PARA_FRAC, R_DUP_PARA_CHAR_FRAC, R_DUP_LINE_FRAC, R_DUP_LINE_CHAR_FRAC,
            *(top_ngram_signal(n) for n, _ in p.max_top_ngram_char_frac),
            *(dup_ngram_signal(n) for n, _ in p.max_dup_ngram_char_frac),
        )

    def compute(self, doc: Document, stats: TextStats, params: Any) -> dict[str, Any]:
        p: GopherRepetitionParams = params
        text = stats.text
        n_chars = len(text)
        paragraphs = stats.paragraphs
        para_dups, para_dup_chars = duplicates(paragraphs)
        lines = stats.lines
        line_dups, line_dup_chars = duplicates(lines)
        signals: dict[str, Any] = {
            R_DUP_PARA_FRAC: ratio(para_dups, len(paragraphs)),
            R_DUP_PARA_CHAR_FRAC: ratio(para_dup_chars, n_chars),
            R_DUP_LINE_FRAC: ratio(line_dups, len(lines)),
            R_DUP_LINE_CHAR_FRAC: ratio(line_dup_chars, n_chars),
        }
        tokens = stats.tokens
        repetition = ngram_repetition(
            tokens, [n for n, _ in p.max_top_ngram_char_frac], [n for n, _ in p.max_dup_ngram_char_frac]
        )
        for n, _ in p.max_top_ngram_char_frac:
            signals[top_ngram_signal(n)] = ratio(repetition[n].top_chars, n_chars)
        for n, _ in p.max_dup_ngram_char_frac:
            signals[dup_ngram_signal(n)] = ratio(repetition[n].duplicate_chars, n_chars)
        return signals

    def check(self, signals: Mapping[str, Any], params: Any) -> str | None:
        p: GopherRepetitionParams = params
        if p.max_dup_para_frac is not None and signals[R_DUP_PARA_FRAC] > p.max_dup_para_frac:
            return REASON_DUP_PARA_FRAC
        if p.max_dup_para_char_frac is not None and signals[R_DUP_PARA_CHAR_FRAC] > p.max_dup_para_char_frac:
            return REASON_DUP_PARA_CHAR_FRAC
        if p.max_dup_line_frac is not None and signals[R_DUP_LINE_FRAC] > p.max_dup_line_frac:
            return REASON_DUP_LINE_FRAC
        if p.max_dup_line_char_frac is not None and signals[R_DUP_LINE_CHAR_FRAC] > p.max_dup_line_char_frac:
            return REASON_DUP_LINE_CHAR_FRAC
        for n, limit in p.max_top_ngram_char_frac:
            if signals[top_ngram_signal(n)] > limit:
                return _reason_top_ngram(n)
        for n, limit in p.max_dup_ngram_char_frac:
            if signals[dup_ngram_signal(n)] > limit:
                return _reason_dup_ngram(n)
        return None
