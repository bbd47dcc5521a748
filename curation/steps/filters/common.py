"""What the heuristic filters share: per-language thresholds, a length guard, and signals computed only once.

Each filter's parameters are a frozen dataclass whose fields are the thresholds for English and, unless a
language overrides them, every other language. `per_language` maps a language code (lid.176's) to the fields it
overrides; the filter's built-in overrides (Chinese, from FineWeb-2) are merged under whatever a recipe gives, so a
recipe can change one Chinese threshold without restating the others:

    - gopher_quality: {min_words: 80, per_language: {zh: {min_words: 100}}}

A document's language is its `lang` signal (the `language` step sets it; a filter identifies the language itself
when that step did not run). Cantonese and Wu (`yue`, `wuu`) use the Chinese thresholds.

`max_chars` guards against pathological inputs: a text longer than that is removed with reason
`<prefix>_too_long` and only its length is stored. The default, 1,000,000 characters, is several times the
longest text Gopher's 100,000-word limit lets through, so it changes no decision the reference rules would make;
it only stops a 10 MB text from costing seconds of tokenising and gigabytes of n-grams in every filter.
"""

from __future__ import annotations

import dataclasses
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar

from curation.steps.base import Filter, P
from curation.steps.document import Document, signals_of
from curation.steps.language import SIGNAL_LANG, ensure_language
from curation.steps.text_stats import TextStats, analyse

DEFAULT_MAX_CHARS = 1_000_000
THRESHOLD_ALIASES = {"yue": "zh", "wuu": "zh"}


def merge_per_language(
    params: Any, defaults: Mapping[str, Mapping[str, Any]]
) -> None:
    """In a Params' `__post_init__`: merge `defaults` under `params.per_language` and reject unknown fields."""
    names = {f.name for f in dataclasses.fields(params)} - {"per_language"}
    given = params.per_language or {}
    if not isinstance(given, Mapping):
        raise ValueError("per_language must map language codes to thresholds")
    merged: dict[str, dict[str, Any]] = {lang: dict(values) for lang, values in defaults.items()}
    for lang, overrides in given.items():
        if not isinstance(overrides, Mapping):
            raise ValueError(f"per_language.{lang} must be a mapping of thresholds")
        unknown = sorted(set(overrides) - names)
        if unknown:
            raise ValueError(f"per_language.{lang} sets unknown threshold(s) {', '.join(unknown)}")
        merged.setdefault(str(lang), {}).update(overrides)
    object.__setattr__(params, "per_language", merged)


def as_ngram_thresholds(value: Any, field_name: str) -> tuple[tuple[int, float], ...]:
    """Turn YAML's [[2, 0.2], [3, 0.18]] into ((2, 0.2), (3, 0.18)), checking each pair."""
    pairs = []
    for item in value:
        n, fraction = item
        if int(n) < 1 or not 0.0 <= float(fraction) <= 1.0:
            raise ValueError(f"{field_name}: bad (n, fraction) pair {item!r}")
        pairs.append((int(n), float(fraction)))
    return tuple(pairs)


def ratio(part: float, whole: float) -> float:
    """Return part / whole rounded to 4 places (0.0 for an empty whole), the precision signals are stored with."""
    return round(part / whole, 4) if whole else 0.0


class TextFilter(Filter[P]):
    """A filter with per-language thresholds whose signals are computed once and then only read.

    Subclasses set `signal_prefix`, implement `signal_keys` (every signal `compute` writes for given params),
    `compute` and `check`. Their Params must have `max_chars` and `per_language` fields.
    """

    signal_prefix: ClassVar[str]

    def __init__(self, params: P | None = None) -> None:
        super().__init__(params)
        # Built here so that bad per-language values fail when the recipe is parsed (build_step catches them).
        base: Any = self.params  # every TextFilter's Params is a dataclass with `per_language`
        self._by_lang = {
            lang: dataclasses.replace(base, **overrides) for lang, overrides in base.per_language.items()
        }

    @property
    def chars_signal(self) -> str:
        return f"{self.signal_prefix}_chars"

    @property
    def reason_too_long(self) -> str:
        return f"{self.signal_prefix}_too_long"

    def params_for(self, lang: str) -> Any:
        """Return the thresholds that apply to documents in `lang`."""
        found = self._by_lang.get(lang)
        if found is None:
            found = self._by_lang.get(THRESHOLD_ALIASES.get(lang, ""), self.params)
            self._by_lang[lang] = found
        return found

    @abstractmethod
    def signal_keys(self, params: Any) -> tuple[str, ...]:
        """Return the names of the signals `compute` stores under `params`."""

    @abstractmethod
    def compute(self, doc: Document, stats: TextStats, params: Any) -> dict[str, Any]:
        """Return this filter's signals for the document's text."""

    @abstractmethod
    def check(self, signals: Mapping[str, Any], params: Any) -> str | None:
        """Return the reason to remove a document with these signals, or None to keep it."""

    def score(self, doc: Document) -> None:
        signals = signals_of(doc)
        lang = ensure_language(doc)
        params = self.params_for(lang)
        text = doc.get("text") or ""
        if self.chars_signal not in signals:
            signals[self.chars_signal] = len(text)
        if params.max_chars is not None and signals[self.chars_signal] > params.max_chars:
            return
        if all(key in signals for key in self.signal_keys(params)):
            return
        signals.update(self.compute(doc, analyse(text, lang), params))

    def decide(self, doc: Document) -> str | None:
        signals = doc["signals"]
        params = self.params_for(signals[SIGNAL_LANG])
        if params.max_chars is not None and signals[self.chars_signal] > params.max_chars:
            return self.reason_too_long
        return self.check(signals, params)
