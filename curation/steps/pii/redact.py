"""Find personal data in one text and replace it: the library functions behind the `pii` step.

`find_pii(text)` returns non-overlapping spans with offsets into `text`; `redact(text, spans)` replaces them.
Annotation calls both on what people write; the `pii` step calls the same pieces on batches of documents.

Overlaps. Recognisers may claim overlapping text (an 18-digit resident ID that also passes Luhn, a number after
"QQ:" that is also a mobile number, a name inside an e-mail address). `resolve_overlaps` keeps, greedily: structured
hits before names (a statistical guess never cuts a validated number), then the longest span, then the more
specific type (`TYPE_RANK`), then the earliest.

Replacement modes.
- "placeholder": each span becomes `<TYPE>` (`<EMAIL>`, `<PHONE>`, `<PERSON>` ...), as BigScience ROOTS and
  StarCoder's PII pipeline did.
- "pseudonym": each distinct value becomes `<TYPE_n>`, numbered per type in order of first appearance, so the same
  value gets the same pseudonym throughout a document (`<PERSON_1>` wrote to `<PERSON_2>`; `<PERSON_1>` signed)
  and a model still sees who is who. Values are compared after normalisation per type (case for e-mail addresses
  and names, separators and the +86/0086 prefix for phone numbers, spaces for IBANs and card numbers). We chose
  numbered tags over realistic fake values: a fake phone number, card or name can be a real person's, fake values
  are re-detected when a document is processed again, and a reader (or an auditing annotator) cannot tell a fake
  from an original; a tag is never personal, never re-detected, and says its type. The numbering depends only on
  the document's own text, so re-running gives identical output. Pass one `Pseudonyms` to several `redact` calls
  to number the texts of one conversation together.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from curation.steps.document import PiiSpan
from curation.steps.pii import names as name_finders
from curation.steps.pii.recognizers import (
    ALL_TYPES,
    CARD,
    EMAIL,
    IBAN,
    ID_NUMBER,
    IP,
    PASSPORT,
    PERSON,
    PHONE,
    QQ,
    SECRET,
    SSN,
    STRUCTURED_TYPES,
    WECHAT,
    find_structured,
)

MODE_PLACEHOLDER = "placeholder"
MODE_PSEUDONYM = "pseudonym"
MODES = (MODE_PLACEHOLDER, MODE_PSEUDONYM)

# Higher wins between spans of equal length.
TYPE_RANK: dict[str, int] = {
    SECRET: 90,
    IBAN: 85,
    EMAIL: 80,
    ID_NUMBER: 75,
    CARD: 70,
    PASSPORT: 65,
    SSN: 60,
    QQ: 55,
    WECHAT: 55,
    IP: 50,
    PHONE: 40,
    PERSON: 10,
}


def check_types(types: Collection[str] | None) -> tuple[str, ...]:
    """Return `types` as a tuple in canonical order (all types for None); raise ValueError on an unknown type."""
    if types is None:
        return ALL_TYPES
    if isinstance(types, str):
        raise ValueError(f"types must be a list of type names, not the string {types!r}")
    unknown = sorted(set(types) - set(ALL_TYPES))
    if unknown:
        raise ValueError(f"unknown PII type(s) {', '.join(unknown)} (known: {', '.join(ALL_TYPES)})")
    return tuple(kind for kind in ALL_TYPES if kind in set(types))


def resolve_overlaps(spans: Iterable[PiiSpan]) -> list[PiiSpan]:
    """Return a non-overlapping subset of `spans` sorted by start: structured over names, longer, more specific."""
    ordered = sorted(
        (span for span in spans if span["end"] > span["start"]),
        key=lambda span: (
            span["type"] != PERSON,
            span["end"] - span["start"],
            TYPE_RANK.get(span["type"], 0),
            -span["start"],
        ),
        reverse=True,
    )
    taken: list[PiiSpan] = []
    occupied: list[tuple[int, int]] = []  # sorted, disjoint
    for span in ordered:
        start, end = span["start"], span["end"]
        position = _bisect(occupied, start)
        if position > 0 and occupied[position - 1][1] > start:
            continue
        if position < len(occupied) and occupied[position][0] < end:
            continue
        occupied.insert(position, (start, end))
        taken.append({"type": span["type"], "start": start, "end": end})
    taken.sort(key=lambda span: span["start"])
    return taken


def _bisect(occupied: list[tuple[int, int]], start: int) -> int:
    low, high = 0, len(occupied)
    while low < high:
        middle = (low + high) // 2
        if occupied[middle][0] < start:
            low = middle + 1
        else:
            high = middle
    return low


def structured_spans(text: str, types: Collection[str] = STRUCTURED_TYPES) -> list[PiiSpan]:
    """Return the structured hits in `text` (overlaps unresolved)."""
    wanted = [kind for kind in types if kind != PERSON]
    return [{"type": kind, "start": start, "end": end} for kind, start, end in find_structured(text, wanted)]


def name_spans(found: name_finders.NameResult) -> list[PiiSpan]:
    return [{"type": PERSON, "start": start, "end": end} for start, end in found.spans]


def find_pii(
    text: str,
    *,
    lang: str | None = None,
    names: bool = True,
    types: Collection[str] | None = None,
    name_model: str = name_finders.DEFAULT_EN_MODEL,
    zh_names: str = name_finders.DEFAULT_ZH_BACKEND,
    max_chars_for_ner: int = name_finders.DEFAULT_MAX_CHARS,
) -> list[PiiSpan]:
    """Return the personal data in `text` as non-overlapping spans sorted by start, offsets into `text`.

    `lang` is a language code ("en", "zh", "zh-Hans" ...); without one the script decides which name finder runs.
    `types` limits the search (default: every type); `names=False` skips the name finders, which cost far more
    than everything else. Names are searched in the first `max_chars_for_ner` characters only.
    """
    wanted = check_types(types)
    spans = structured_spans(text, wanted)
    if names and PERSON in wanted and text:
        language = name_finders.name_language(text, lang)
        if language is not None:
            (found,) = name_finders.find_names(
                [text], [language], en_model=name_model, zh_backend=zh_names, max_chars=max_chars_for_ner
            )
            spans.extend(name_spans(found))
    return resolve_overlaps(spans)


# ---------------------------------------------------------------------------------------------------------------
# Replacement.


def normalized_value(kind: str, value: str) -> str:
    """Return the form of `value` under which two mentions of one thing compare equal."""
    value = unicodedata.normalize("NFKC", value)
    if kind in (PHONE, QQ):
        digits = "".join(char for char in value if char.isdigit())
        for prefix in ("0086", "86"):
            if kind == PHONE and digits.startswith(prefix) and len(digits) == len(prefix) + 11:
                return digits[len(prefix) :]
        return digits
    if kind in (CARD, IBAN, ID_NUMBER, SSN, PASSPORT):
        return "".join(char for char in value if char.isalnum()).upper()
    if kind == PERSON:
        return " ".join(value.split()).casefold()
    if kind in (EMAIL, WECHAT, IP):
        return value.casefold()
    return value


@dataclass
class Pseudonyms:
    """Numbered pseudonyms per type, stable for one document (or one conversation, when shared across calls)."""

    _numbers: dict[tuple[str, str], int] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)

    def tag(self, kind: str, value: str) -> str:
        """Return `<KIND_n>` for `value`, the same n every time the same value comes back."""
        key = (kind, normalized_value(kind, value))
        number = self._numbers.get(key)
        if number is None:
            number = self._numbers[key] = self._counts.get(kind, 0) + 1
            self._counts[kind] = number
        return f"<{kind}_{number}>"


@functools.cache
def placeholder(kind: str) -> str:
    return f"<{kind}>"


def redact(
    text: str,
    spans: Sequence[PiiSpan],
    *,
    mode: str = MODE_PLACEHOLDER,
    pseudonyms: Pseudonyms | None = None,
) -> str:
    """Return `text` with each span replaced by `<TYPE>` ("placeholder") or a numbered `<TYPE_n>` ("pseudonym").

    Spans may overlap or come unsorted: they are resolved first (see `resolve_overlaps`). In pseudonym mode a
    fresh numbering starts unless `pseudonyms` carries one over from earlier calls.
    """
    if mode not in MODES:
        raise ValueError(f"unknown redaction mode {mode!r} (choose from {', '.join(MODES)})")
    if not spans:
        return text
    resolved = resolve_overlaps(spans)
    if mode == MODE_PSEUDONYM and pseudonyms is None:
        pseudonyms = Pseudonyms()
    pieces: list[str] = []
    position = 0
    for span in resolved:
        start, end = span["start"], span["end"]
        if start < 0 or end > len(text):
            raise ValueError(f"span {span} lies outside a text of {len(text)} characters")
        pieces.append(text[position:start])
        if pseudonyms is not None and mode == MODE_PSEUDONYM:
            pieces.append(pseudonyms.tag(span["type"], text[start:end]))
        else:
            pieces.append(placeholder(span["type"]))
        position = end
    pieces.append(text[position:])
    return "".join(pieces)
