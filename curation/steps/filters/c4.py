"""C4's line and document rules (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", section 2.2).

Line rules drop lines from the text; document rules remove the document. Order and defaults follow the reference
implementation, TensorFlow Datasets' `c4_utils.clean_page`, as datatrove's `C4QualityFilter` reproduces it:

  for each line, stripped:
    a word longer than `max_word_length` (1,000) characters   -> line dropped
    Wikipedia citation markers ([1], [edit], [citation needed]) -> removed from the line
    no terminal punctuation, or ends with an ellipsis           -> line dropped (`remove_lines_without_terminal_punct`)
    fewer than `min_words_per_line` (3) words                   -> line dropped
    contains "lorem ipsum"                                      -> document removed (`c4_lorem_ipsum`)
    contains "javascript"                                       -> line dropped
    contains a curly bracket                                    -> document removed (`c4_curly_bracket`)
    contains a cookie or terms-of-use phrase                    -> line dropped
  fewer than `min_sentences` (5) sentences in the kept lines    -> document removed (`c4_too_few_sentences`)

Kept lines are stripped and joined by newlines, as in the reference, except that a paragraph break (blank line)
in the original stays a paragraph break: datatrove drops blank lines, which loses the paragraph structure that
training data should keep.

FineWeb (Penedo et al. 2024, datatrove examples/fineweb.py) runs these rules with the terminal-punctuation rule
off, because it removed too much; `web-default` does the same (see the recipe). The bad-words rule is left out,
as in datatrove.

Sentences are counted with a regular expression instead of spaCy's sentencizer: a run of `.`, `!` or `?` (with
closing quotes or brackets) followed by a space or the end of the line, or a run of terminators that need no space
(`。！？`, the Indic danda `।`, ...); a kept line counts at least one. "Dr. Smith" therefore counts two sentences
where spaCy counts one.

Terminal punctuation is C4's marks (`. ? ! " '`) plus every Unicode sentence terminator and the closing quotes
`”」』`, for every language; a line ending in `...` or `…` (Chinese `……` included) counts as unterminated.

Chinese. FineWeb-2 does not apply C4 at all, so these settings are ours. Words per line are jieba words (a
Chinese line has no spaces, so C4's whitespace split would see one word per line and drop every line); the long
word rule measures jieba words too. The policy phrases add 隐私政策 (privacy policy), 使用条款 and 服务条款 (terms
of use / service) and Cookie phrasing, for every language; `[编辑]` (Chinese Wikipedia's "[edit]") is a citation
marker. The thresholds (3 words, 5 sentences) are C4's; bench/RESULTS.md shows what they remove from clean
Chinese text.

Signals: `c4_lines` (lines looked at), `c4_lines_removed_<rule>` for each line rule, `c4_sentences`,
`c4_lorem_ipsum`, `c4_curly_bracket` and `c4_chars`. The line rules change the text, so their parameters can
only be re-tuned by re-running from the text before this step; the document rules (`min_sentences`,
`drop_lorem_ipsum`, `drop_curly_bracket`) re-decide from the signals. The text of a removed document is left as
it was, so the removed output shows what was judged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from itertools import compress
from operator import itemgetter
from typing import Any

from curation.steps.base import register_step
from curation.steps.document import Document
from curation.steps.filters.common import DEFAULT_MAX_CHARS, TextFilter, merge_per_language
from curation.steps.text_stats import TextStats, analyse, terminal_punctuation

END_PUNCTUATION = (".", "?", "!", '"', "'")
ELLIPSES = ("...", "…")
CITATION_RE = re.compile(r"\[\d*]|\[edit]|\[citation needed]|\[编辑]")
POLICY_PHRASES = (
    "terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies",
    "隐私政策", "使用条款", "服务条款", "cookie政策", "使用cookie",
)
POLICY_RE = re.compile("|".join(map(re.escape, POLICY_PHRASES)))
# A run of . ! ? (with closing quotes or brackets) before a space or the line's end, or a run of the terminators
# that need no space after them (CJK, Indic danda, Arabic question mark and Urdu full stop, Ethiopic, Armenian,
# Myanmar).
SENTENCE_END_RE = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s|$)|[。！？｡।॥؟۔።፧։။]+")

REASON_LOREM_IPSUM = "c4_lorem_ipsum"
REASON_CURLY_BRACKET = "c4_curly_bracket"
REASON_TOO_FEW_SENTENCES = "c4_too_few_sentences"

S_LINES = "c4_lines"
S_REMOVED_LONG_WORD = "c4_lines_removed_long_word"
S_REMOVED_NO_TERMINAL_PUNCT = "c4_lines_removed_no_terminal_punct"
S_REMOVED_TOO_FEW_WORDS = "c4_lines_removed_too_few_words"
S_REMOVED_JAVASCRIPT = "c4_lines_removed_javascript"
S_REMOVED_POLICY = "c4_lines_removed_policy"
S_SENTENCES = "c4_sentences"
S_LOREM_IPSUM = "c4_lorem_ipsum"
S_CURLY_BRACKET = "c4_curly_bracket"
SIGNALS = (
    S_LINES, S_REMOVED_LONG_WORD, S_REMOVED_NO_TERMINAL_PUNCT, S_REMOVED_TOO_FEW_WORDS, S_REMOVED_JAVASCRIPT,
    S_REMOVED_POLICY, S_SENTENCES, S_LOREM_IPSUM, S_CURLY_BRACKET,
)
# Set once this step has rewritten the text of a kept document, so that a re-run never cleans twice.
S_CLEANED = "c4_cleaned"

@dataclass(frozen=True)
class C4Params:
    """C4's rules; `None` or `false` disables one. Line rules rewrite the text; see the module docstring."""

    remove_citations: bool = True
    remove_lines_without_terminal_punct: bool = True
    min_words_per_line: int | None = 3
    max_word_length: int | None = 1000
    remove_javascript_lines: bool = True
    remove_policy_lines: bool = True
    drop_lorem_ipsum: bool = True
    drop_curly_bracket: bool = True
    min_sentences: int | None = 5
    max_chars: int | None = DEFAULT_MAX_CHARS
    per_language: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        merge_per_language(self, {})


@cache
def end_punctuation() -> tuple[str, ...]:
    """Return C4's terminal marks, plus every Unicode sentence terminator (。！？ ।...) and the CJK closing quotes."""
    return tuple(dict.fromkeys(END_PUNCTUATION + terminal_punctuation() + ("”", "」", "』")))


def count_sentences(line: str) -> int:
    """Return the sentences in one kept line (at least one)."""
    return max(1, len(SENTENCE_END_RE.findall(line)))


@dataclass
class _Cleaning:
    text: str
    signals: dict[str, Any]


def clean_lines(stats: TextStats, params: C4Params) -> _Cleaning:
    """Apply C4's line rules to every line; return the cleaned text and the signals (nothing stops early)."""
    end_marks = end_punctuation()
    removed = dict.fromkeys(
        (S_REMOVED_LONG_WORD, S_REMOVED_NO_TERMINAL_PUNCT, S_REMOVED_TOO_FEW_WORDS, S_REMOVED_JAVASCRIPT,
         S_REMOVED_POLICY),
        0,
    )
    pieces: list[str] = []
    paragraph_break = False
    sentences = 0
    lorem_ipsum = curly_bracket = False
    lines = stats.stripped_lines
    line_words: list[list[str]] | None = None
    if stats.segmented:
        # is_word on every token, in C: tokens are never empty, and a word starts with a letter or digit.
        line_words = [
            list(compress(tokens, map(str.isalnum, map(itemgetter(0), tokens)))) for tokens in stats.line_tokens
        ]
    blank_before = stats.blank_before
    for position, stripped in enumerate(lines):
        line = stripped
        # A removed line does not remove the paragraph break before it.
        paragraph_break = paragraph_break or blank_before[position]
        words = line_words[position] if line_words is not None else line.split()
        # A word longer than the limit needs a line longer than it: most lines skip the word-by-word test.
        if (
            params.max_word_length is not None
            and len(line) > params.max_word_length
            and max(map(len, words), default=0) > params.max_word_length
        ):
            removed[S_REMOVED_LONG_WORD] += 1
            continue
        if params.remove_citations:
            line = CITATION_RE.sub("", line)
        if params.remove_lines_without_terminal_punct and (
            not line.endswith(end_marks) or line.endswith(ELLIPSES)
        ):
            removed[S_REMOVED_NO_TERMINAL_PUNCT] += 1
            continue
        if params.min_words_per_line is not None and len(words) < params.min_words_per_line:
            removed[S_REMOVED_TOO_FEW_WORDS] += 1
            continue
        lowered = line.lower()
        if "lorem ipsum" in lowered:
            lorem_ipsum = True
        if params.remove_javascript_lines and "javascript" in lowered:
            removed[S_REMOVED_JAVASCRIPT] += 1
            continue
        if "{" in line:
            curly_bracket = True
        if params.remove_policy_lines and POLICY_RE.search(lowered):
            removed[S_REMOVED_POLICY] += 1
            continue
        sentences += count_sentences(line)
        if pieces:
            pieces.append("\n\n" if paragraph_break else "\n")
        pieces.append(line)
        paragraph_break = False
    signals: dict[str, Any] = {
        S_LINES: len(lines),
        **removed,
        S_SENTENCES: sentences,
        S_LOREM_IPSUM: lorem_ipsum,
        S_CURLY_BRACKET: curly_bracket,
    }
    cleaned = "".join(pieces)
    # Unchanged text stays the same object, so later steps find its analysis in text_stats' cache.
    return _Cleaning(stats.text if cleaned == stats.text else cleaned, signals)


@register_step
class C4QualityFilter(TextFilter[C4Params]):
    """Drop boilerplate lines (C4's line rules) and remove documents C4's document rules reject.

    Rewrites the text of kept documents to their kept lines, stripped, one per line, with a blank line where the
    original had a paragraph break (the removed output keeps the original text); adds the `c4_*` signals. A re-run
    over this step's output reads the signals and does not clean again.
    """

    name = "c4"
    Params = C4Params
    signal_prefix = "c4"

    def __init__(self, params: Any = None) -> None:
        super().__init__(params)
        self._pending: tuple[Document, str] | None = None

    def signal_keys(self, params: Any) -> tuple[str, ...]:
        return SIGNALS

    def compute(self, doc: Document, stats: TextStats, params: Any) -> dict[str, Any]:
        cleaning = clean_lines(stats, params)
        self._pending = (doc, cleaning.text)
        return cleaning.signals

    def check(self, signals: Mapping[str, Any], params: Any) -> str | None:
        p: C4Params = params
        if p.drop_lorem_ipsum and signals[S_LOREM_IPSUM]:
            return REASON_LOREM_IPSUM
        if p.drop_curly_bracket and signals[S_CURLY_BRACKET]:
            return REASON_CURLY_BRACKET
        if p.min_sentences is not None and signals[S_SENTENCES] < p.min_sentences:
            return REASON_TOO_FEW_SENTENCES
        return None

    def run(self, docs: Iterator[Document]) -> Iterator[Document]:
        for doc in super().run(docs):
            signals = doc["signals"]
            if not signals.get(S_CLEANED):
                self._rewrite(doc)
                signals[S_CLEANED] = True
            self._pending = None
            yield doc

    def _rewrite(self, doc: Document) -> None:
        """Replace the text of a kept document with its kept lines."""
        pending = self._pending
        if pending is not None and pending[0] is doc:
            doc["text"] = pending[1]
            return
        # Signals came from an earlier run that removed this document, so its text was never cleaned.
        text = doc.get("text") or ""
        lang = doc["signals"]["lang"]
        params = self.params_for(lang)
        if params.max_chars is None or len(text) <= params.max_chars:
            doc["text"] = clean_lines(analyse(text, lang), params).text
