"""Language-aware lines, paragraphs, words and stopwords of a text, computed once and shared by the filters.

Several filters read the same tokenisation of a document (Gopher quality and repetition, C4, FineWeb). `analyse`
returns a `TextStats` whose parts are computed on first use and remembered in a small process-level cache keyed
by the identity of the text string. Nothing is stored on the document, so nothing can leak into the output; a
step that rewrites the text (C4 drops lines) produces a new string, which misses the cache and is analysed anew.

Words. Datatrove, which the FineWeb and FineWeb-2 thresholds were tuned with, splits words with spaCy's
tokenizer: words and punctuation marks are separate tokens. spaCy is far too slow for our speed target, so:
- space-separated languages use one regular expression, `TOKEN_RE`: runs of word characters and combining marks
  (with inner `'`, `’` or `.`, so "don't", "U.S" and "3.5" stay whole) and runs of other non-space characters
  (punctuation, symbols);
- Chinese (`zh`, and lid.176's `yue` and `wuu`) is segmented the way jieba segments it, as spaCy's Chinese
  tokenizer does for FineWeb-2, whose Chinese thresholds we use. jieba returns punctuation as tokens of its own,
  like spaCy. HMM (new-word discovery) is on, as in spaCy's jieba segmenter that FineWeb-2's thresholds were
  measured with; without HMM unknown names fall apart into single characters, which shifts mean word length.
  On 300 zh-Wikipedia paragraphs jieba's tokens are exactly datatrove's (spaCy `zh` with the jieba segmenter).
  The segmenter is `rjieba`, a binding of jieba-rs (a Rust port of jieba with the same dictionary and HMM):
  pure-Python jieba segments ~120,000-480,000 characters per second per core here and bounded Chinese filtering;
  rjieba does ~3,000,000. jieba-rs differs from jieba in one systematic way: it keeps a run of Latin letters,
  digits and `-._%+#&` whole ("1958-1965", "2.4km", "text-align"), where jieba's HMM pass splits it into
  alphanumeric runs (with an optional decimal part and `%`) and the characters between ("1958", "-", "1965").
  `_jieba_tokens` re-splits such runs the jieba way unless the dictionary has them ("C++"). On 34,331 lines of
  real Chinese here (zh Wikipedia, CCF and CLUENER PII texts, hotel and delivery reviews, HPLT zh documents;
  2.8 M characters, 1.66 M tokens) the result equals jieba's on all but 2 lines (3 token differences: HMM
  choices on a run of one repeated character, and "常在" for "常", "在"); bench/quality.py re-checks this.
`tokens` are all of these; `words` are the tokens that start with a letter or digit (datatrove's "non-symbol
words" are those with any character outside its punctuation list; the two differ only on oddities like "#1").
Other languages without spaces (Japanese, Thai) get the regular expression: their word statistics are rough,
which is why the default recipe keeps English and Chinese only.

rjieba builds its dictionary into the extension module (no download, no cache file); it is imported when text is
first segmented, since the build costs ~0.16 s that every process importing the steps (the CLI, the web server,
each worker) would otherwise pay, Chinese or not.

Stopwords. English is Gopher's list (Rae et al. 2021, appendix A.1.1: "the, be, to, of, and, that, have, with").
Chinese is FineWeb-2's `cmn_Hani` list (huggingface/fineweb-2, configs/cmn_Hani.yml). The other lists are ours:
the most frequent function words of each language, written from common knowledge, untuned.
"""

from __future__ import annotations

import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from importlib.metadata import version
from itertools import chain, compress
from operator import itemgetter, not_
from typing import Any, Generic, TypeVar, overload

import regex

# Languages segmented with jieba. lid.176 labels Cantonese `yue` and Wu `wuu` apart from `zh`.
SEGMENTED_LANGUAGES = frozenset({"zh", "yue", "wuu"})

_TOKEN_PATTERN = r"\w+(?:['’.]\w+)*|[^\w\s]+"
# The `regex` module's \w includes combining marks (Devanagari vowel signs, Thai tone marks), which `re`'s does not,
# so `re` would cut "भारत" into "भ", "ा", "रत". `re` is 30 % faster, so it serves the languages whose words are
# whole in NFC text without marks: Latin, Cyrillic and Greek scripts.
TOKEN_RE = regex.compile(_TOKEN_PATTERN)
FAST_TOKEN_RE = re.compile(_TOKEN_PATTERN)
FAST_TOKEN_LANGUAGES = frozenset(
    "en de fr es it pt nl ru uk be pl cs sk sl hr sr bs bg mk sv da no nb nn is fi et lv lt hu ro tr az ca gl eu oc"
    " ast la ga gd cy br af id ms tl sw eo el sq mt lb fy vec lmo pms scn".split()
)
_LETTER = re.compile(r"[^\W\d_]")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")

STOPWORDS: dict[str, frozenset[str]] = {
    # Gopher, Rae et al. 2021, appendix A.1.1.
    "en": frozenset({"the", "be", "to", "of", "and", "that", "have", "with"}),
    # FineWeb-2, configs/cmn_Hani.yml (Penedo et al. 2025): simplified and traditional forms as listed there.
    "zh": frozenset(
        {"的", "年", "在", "月", "是", "和", "日", "了", "於", "·", "為", "有", "被", "人", "中", "为", "他",
         "與", "後", "也", "而", "由"}
    ),
    # Ours, from common knowledge (untuned).
    "de": frozenset({"der", "die", "und", "in", "den", "von", "zu", "das", "mit", "ist"}),
    "es": frozenset({"el", "la", "de", "que", "y", "en", "los", "se", "del", "las"}),
    "fr": frozenset({"le", "la", "de", "et", "les", "des", "en", "un", "est", "que"}),
    "it": frozenset({"il", "di", "che", "e", "la", "per", "un", "in", "del", "non"}),
    "nl": frozenset({"de", "het", "een", "en", "van", "in", "is", "dat", "op", "te"}),
    "pt": frozenset({"o", "a", "de", "que", "e", "do", "da", "em", "um", "para"}),
    "ru": frozenset({"и", "в", "не", "на", "что", "с", "он", "как", "по", "это"}),
}
STOPWORDS["yue"] = STOPWORDS["wuu"] = STOPWORDS["zh"]


@cache
def terminal_punctuation() -> tuple[str, ...]:
    """Return every character with the Unicode Sentence_Terminal property (datatrove's TERMINAL_PUNCTUATION)."""
    # One search over a string of every code point runs in C: ~0.1 s, against ~0.35 s for a match per character,
    # paid by every process that filters.
    every_character = "".join(map(chr, range(sys.maxunicode + 1)))
    return tuple(regex.findall(r"\p{Sentence_Terminal}", every_character))


# jieba's HMM pass (jieba/finalseg) splits a non-Han run into these pieces and what lies between them.
_JIEBA_SKIP = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_JIEBA_HAN = re.compile("[\u4e00-\u9fd5]")
_ALNUM_ASCII = re.compile(r"[a-zA-Z0-9]+")
# Text without whitespace or these joiners gives the same tokens from jieba-rs as from jieba.
_NEEDS_RESPLIT = re.compile(r"[\s\-._%+#&]")
_RESPLIT_TOKEN = re.compile(r"[^\x00]*[\s\-._%+#&][^\x00]*")


@cache
def _rjieba() -> Any:
    """The rjieba module, imported on first use (see the module docstring)."""
    import rjieba

    return rjieba


def _jieba_pieces(token: str) -> tuple[str, ...]:
    """Return what jieba makes of one jieba-rs token: itself, nothing (whitespace), or its jieba pieces."""
    if token.isspace():
        return ()
    if len(token) == 1 or _JIEBA_HAN.search(token) or _ALNUM_ASCII.fullmatch(token) or _rjieba().has_word(token):
        return (token,)
    return tuple(piece for piece in _JIEBA_SKIP.split(token) if piece and not piece.isspace())


def _jieba_tokens(tokens: list[str]) -> list[str]:
    """Re-split jieba-rs's whole Latin/digit runs ("2.4km") as jieba does ("2.4", "km"); drop whitespace."""
    # Only distinct tokens with whitespace or a joiner can differ; they are found in C, over one joined string.
    unique = set(tokens)
    candidates = _RESPLIT_TOKEN.findall("\x00".join(unique))
    changed = {token: pieces for token in candidates if (pieces := _jieba_pieces(token)) != (token,)}
    if not changed:
        return tokens
    replacement: dict[str, tuple[str, ...]] = dict(zip(unique, zip(unique, strict=True), strict=True))
    replacement.update(changed)
    return list(chain.from_iterable(map(replacement.__getitem__, tokens)))


def segment_chinese(text: str) -> list[str]:
    """Return jieba's tokens of `text` (HMM on), whitespace dropped, segmented by rjieba (see the module doc)."""
    tokens: list[str] = _rjieba().cut(text, True)
    if _NEEDS_RESPLIT.search(text) is None:
        return tokens
    return _jieba_tokens(tokens)


def tokenize(text: str, lang: str) -> list[str]:
    """Return the word and punctuation tokens of `text` as described in the module docstring."""
    if lang in SEGMENTED_LANGUAGES:
        return segment_chinese(text)
    if lang in FAST_TOKEN_LANGUAGES:
        return FAST_TOKEN_RE.findall(text)
    tokens: list[str] = TOKEN_RE.findall(text)
    return tokens


def is_word(token: str) -> bool:
    """Return whether a token is a word: starts with a letter or digit (not punctuation or a symbol)."""
    return token[:1].isalnum()


T = TypeVar("T")


class lazy(Generic[T]):
    """A read-once attribute: computed on first access and stored on the instance.

    functools.cached_property does the same but takes a lock on every first access in Python 3.11, which costs
    more than several of these computations.
    """

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type) -> lazy[T]: ...

    @overload
    def __get__(self, instance: object, owner: type) -> T: ...

    def __get__(self, instance: object | None, owner: type) -> lazy[T] | T:
        if instance is None:
            return self
        value = self.compute(instance)
        instance.__dict__[self.name] = value
        return value


class TextStats:
    """Lazily computed views of one text in one language. Treat every attribute as read-only."""

    def __init__(self, text: str, lang: str) -> None:
        self.text = text
        self.lang = lang

    @property
    def segmented(self) -> bool:
        return self.lang in SEGMENTED_LANGUAGES

    @lazy
    def lines(self) -> list[str]:
        """Lines with any non-space character, as they are (`str.splitlines`, so \\r\\n counts as one break)."""
        return [line for line in self.text.splitlines() if line and not line.isspace()]

    @lazy
    def blank_before(self) -> list[bool]:
        """For each of `lines`: whether a blank line separates it from the previous one (a paragraph break)."""
        flags: list[bool] = []
        blank = False
        for line in self.text.splitlines():
            if line and not line.isspace():
                flags.append(blank and bool(flags))
                blank = False
            else:
                blank = True
        return flags

    @lazy
    def stripped_lines(self) -> list[str]:
        return [line.strip() for line in self.lines]

    @lazy
    def paragraphs(self) -> list[str]:
        """Blocks separated by blank lines."""
        stripped = self.text.strip()
        return _PARAGRAPH_BREAK.split(stripped) if stripped else []

    @lazy
    def line_tokens(self) -> list[list[str]]:
        """Tokens of each of `stripped_lines` (segmented languages: jieba per line; others: the regex)."""
        return [tokenize(line, self.lang) for line in self.stripped_lines]

    @lazy
    def tokens(self) -> list[str]:
        """Word and punctuation tokens of the whole text."""
        if self.segmented:
            # jieba never joins across a newline, so the lines' tokens are the text's tokens.
            return [token for line in self.line_tokens for token in line]
        return tokenize(self.text, self.lang)

    @lazy
    def words(self) -> list[str]:
        """Tokens that start with a letter or digit (the others are punctuation and symbols)."""
        tokens = self.tokens
        return list(compress(tokens, map(str.isalnum, map(itemgetter(0), tokens))))

    @lazy
    def alpha_token_count(self) -> int:
        """Return how many tokens have at least one letter."""
        words = self.words
        alpha = list(map(str.isalpha, words))
        # Only words with digits, apostrophes or marks ("3.5", "don't", "है") need the slower test.
        rest = sum(1 for word in compress(words, map(not_, alpha)) if _LETTER.search(word))
        return sum(alpha) + rest

    def stopword_count(self) -> int | None:
        """Return how many distinct stopwords of the language occur, or None when we have no list for it."""
        stopwords = STOPWORDS.get(self.lang)
        if stopwords is None:
            return None
        present = set(self.tokens)
        if self.segmented:
            return len(stopwords & present)
        # Sentence-initial "The" and shouted "THE" count too.
        return sum(
            1 for word in stopwords if word in present or word.capitalize() in present or word.upper() in present
        )


_CACHE_SIZE = 8
_cache: OrderedDict[tuple[int, str], TextStats] = OrderedDict()
_cache_lock = threading.Lock()


def analyse(text: str, lang: str) -> TextStats:
    """Return the `TextStats` of `text` in `lang`, shared with every other caller that passes the same string."""
    key = (id(text), lang)
    with _cache_lock:
        stats = _cache.get(key)
        # The cached TextStats holds the string, so its id cannot be reused while the entry lives.
        if stats is not None and stats.text is text:
            _cache.move_to_end(key)
            return stats
        stats = TextStats(text, lang)
        _cache[key] = stats
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return stats


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()


def describe_tokenizer(lang: str) -> dict[str, Any]:
    """Say how `lang` is tokenised, for model cards and benchmark reports."""
    if lang in SEGMENTED_LANGUAGES:
        return {"tokenizer": "rjieba", "rjieba": version("rjieba"), "hmm": True, "compatible_with": "jieba 0.42.1"}
    return {"tokenizer": "regex", "pattern": _TOKEN_PATTERN}
