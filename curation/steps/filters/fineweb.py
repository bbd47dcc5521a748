"""FineWeb's own quality rules (Penedo et al. 2024, "The FineWeb Datasets", section 3.3; datatrove's
`FineWebQualityFilter`, whose defaults are FineWeb's).

                                         English (FineWeb)  Chinese    Chinese source (huggingface/fineweb-2)
  lines ending in terminal punctuation   >= 12 %            >= 10.6 %  configs/cmn_Hani.yml line_punct_thr
  lines of at most 30 characters         <= 67 %            off        fineweb-2-pipeline.py (short_line_thr=999)
  characters in duplicated lines         <= 1 %             <= 10 %    fineweb-2-pipeline.py (char_duplicates_ratio)
  newlines per token ("list ratio")      <= 0.3             <= 0.178   configs/cmn_Hani.yml new_line_ratio

Terminal punctuation is every character with the Unicode Sentence_Terminal property, as in datatrove. Lines are
the non-blank lines; unlike datatrove, trailing spaces do not hide a line's final punctuation. Tokens are those of
text_stats (words and punctuation marks, as datatrove's spaCy tokens are). The duplicated-line share divides the
characters of lines that repeat an earlier line by the characters of the text without its newlines. The list
ratio counts the line breaks between non-blank lines: datatrove counts every newline, but runs after C4, which
(in datatrove) drops blank lines; our C4 keeps paragraph breaks, and they should not make prose look like a list.

Signals: `fineweb_lines`, `fineweb_line_punct_ratio`, `fineweb_short_line_ratio` (lines of at most 30
characters), `fineweb_char_dup_ratio`,
`fineweb_list_ratio` and `fineweb_chars`; decisions read only these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from curation.steps.base import register_step
from curation.steps.document import Document
from curation.steps.filters.common import DEFAULT_MAX_CHARS, TextFilter, merge_per_language, ratio
from curation.steps.filters.gopher import duplicates
from curation.steps.text_stats import TextStats, terminal_punctuation

REASON_NO_LINES = "fineweb_no_lines"
REASON_LINE_PUNCT = "fineweb_line_punct"
REASON_SHORT_LINES = "fineweb_short_lines"
REASON_CHAR_DUP = "fineweb_char_dup"
REASON_LIST_RATIO = "fineweb_list_ratio"

S_LINES = "fineweb_lines"
S_LINE_PUNCT = "fineweb_line_punct_ratio"
S_SHORT_LINES = "fineweb_short_line_ratio"
S_CHAR_DUP = "fineweb_char_dup_ratio"
S_LIST_RATIO = "fineweb_list_ratio"
# The short-line share is named by short_line_signal(), since its name depends on `short_line_length`.
SIGNALS = (S_LINES, S_LINE_PUNCT, S_CHAR_DUP, S_LIST_RATIO)
DEFAULT_SHORT_LINE_LENGTH = 30


def short_line_signal(length: int) -> str:
    """Name the short-line share so that a different `short_line_length` is a different (recomputed) signal."""
    return S_SHORT_LINES if length == DEFAULT_SHORT_LINE_LENGTH else f"fineweb_short_line_{length}_ratio"

ZH_FINEWEB = {
    "min_line_punct_ratio": 0.106,
    "max_short_line_ratio": None,
    "max_char_dup_ratio": 0.1,
    "max_list_ratio": 0.178,
}


@dataclass(frozen=True)
class FineWebParams:
    """Thresholds for English and other languages; `None` disables a rule. See the module table.

    `line_punct_exclude_zero`: keep documents with no punctuated line at all (datatrove's option, off in FineWeb).
    Changing `short_line_length` computes a new signal (`fineweb_short_line_<length>_ratio`); every other field
    re-decides from the stored signals.
    """

    min_line_punct_ratio: float | None = 0.12
    line_punct_exclude_zero: bool = False
    max_short_line_ratio: float | None = 0.67
    short_line_length: int = DEFAULT_SHORT_LINE_LENGTH
    max_char_dup_ratio: float | None = 0.01
    max_list_ratio: float | None = 0.3
    max_chars: int | None = DEFAULT_MAX_CHARS
    per_language: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        merge_per_language(self, {"zh": ZH_FINEWEB})


@register_step
class FineWebQualityFilter(TextFilter[FineWebParams]):
    """Remove documents that are mostly unpunctuated, short, duplicated or list-like lines (FineWeb).

    Adds the `fineweb_*` signals; changes nothing else. A re-run reads the stored signals.
    """

    name = "fineweb"
    Params = FineWebParams
    signal_prefix = "fineweb"

    def signal_keys(self, params: Any) -> tuple[str, ...]:
        return (*SIGNALS, short_line_signal(params.short_line_length))

    def compute(self, doc: Document, stats: TextStats, params: Any) -> dict[str, Any]:
        p: FineWebParams = params
        text = stats.text
        lines = stats.lines
        n_lines = len(lines)
        stops = terminal_punctuation()
        short = p.short_line_length
        chars_without_newlines = len(text) - text.count("\n")
        return {
            S_LINES: n_lines,
            S_LINE_PUNCT: ratio(sum(1 for line in lines if line.rstrip().endswith(stops)), n_lines),
            short_line_signal(short): ratio(sum(1 for line in lines if len(line) <= short), n_lines),
            S_CHAR_DUP: ratio(duplicates(lines)[1], chars_without_newlines),
            S_LIST_RATIO: ratio(max(n_lines - 1, 0), max(len(stats.tokens), 1)),
        }

    def check(self, signals: Mapping[str, Any], params: Any) -> str | None:
        p: FineWebParams = params
        if signals[S_LINES] == 0:
            return REASON_NO_LINES
        punct = signals[S_LINE_PUNCT]
        if (
            p.min_line_punct_ratio is not None
            and punct < p.min_line_punct_ratio
            and not (punct == 0 and p.line_punct_exclude_zero)
        ):
            return REASON_LINE_PUNCT
        short_lines = signals[short_line_signal(p.short_line_length)]
        if p.max_short_line_ratio is not None and short_lines > p.max_short_line_ratio:
            return REASON_SHORT_LINES
        if p.max_char_dup_ratio is not None and signals[S_CHAR_DUP] > p.max_char_dup_ratio:
            return REASON_CHAR_DUP
        if p.max_list_ratio is not None and signals[S_LIST_RATIO] > p.max_list_ratio:
            return REASON_LIST_RATIO
        return None
