"""Find personal data in one text and replace it: the library functions behind the `pii` step.

`find_pii(text)` returns non-overlapping spans with offsets into `text`; `redact(text, spans)` replaces them.
Annotation calls both on what people write; the `pii` step calls the same pieces on batches of documents.

Whose names. A person's name is personal data where it identifies someone private: next to their e-mail address,
phone number, ID number or account, and in what people type into annotation projects. A name in news or in an
encyclopaedia ("special advisor to chief executive Donald Tsang") is a public figure's, and knowledge a model
should learn; and NER also mislabels organisations as people ("<PERSON> said it was close to a deal with
Barclays", where the name was a bank). So names have a scope (`NAME_SCOPES`):
- "near_identifiers": names are searched only in windows of `name_window_chars` characters (default 200: a
  sentence or two either side, widened to the nearest space) around each identifying span (`IDENTIFYING_TYPES`:
  ways to reach a person and numbers that identify one; not IP addresses or secrets), and the name finder runs
  only on those windows: a text without identifiers costs no NER at all. The `pii` step's default.
- "everywhere": every name the finder sees. `find_pii`'s default, because annotation checks call it on text
  people type (a name typed into a task is about someone), and what a recipe asks for when every name must go.
bench/pii.py measures both on the labelled sets (names next to identifiers are still found) and on BBC news
(public figures' names are kept).

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

NAMES_NEAR_IDENTIFIERS = "near_identifiers"
NAMES_EVERYWHERE = "everywhere"
NAME_SCOPES = (NAMES_NEAR_IDENTIFIERS, NAMES_EVERYWHERE)
DEFAULT_NAME_WINDOW = 200
# A window edge moves out to the nearest space within this many characters, so a name is not cut in two.
_WINDOW_WIDEN = 40
# Ways to reach a person and numbers that identify one: a name next to these is someone's.
IDENTIFYING_TYPES = frozenset({EMAIL, PHONE, ID_NUMBER, PASSPORT, SSN, CARD, IBAN, QQ, WECHAT})

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


def name_spans(found: name_finders.NameResult, offset: int = 0) -> list[PiiSpan]:
    return [{"type": PERSON, "start": offset + start, "end": offset + end} for start, end in found.spans]


def check_name_scope(scope: str, window: int) -> None:
    """Raise ValueError for an unknown name scope or a negative window."""
    if scope not in NAME_SCOPES:
        raise ValueError(f"names_scope must be one of {', '.join(NAME_SCOPES)}, not {scope!r}")
    if window < 0:
        raise ValueError("name_window_chars must be >= 0")


def name_windows(text: str, spans: Iterable[PiiSpan], window: int = DEFAULT_NAME_WINDOW) -> list[tuple[int, int]]:
    """Return the sorted, merged ranges of `text` within `window` characters of an identifying span.

    Each edge moves out to the nearest whitespace within `_WINDOW_WIDEN` characters (so an English name at the
    edge stays whole; Chinese has no spaces and keeps the plain edge).
    """
    ranges: list[tuple[int, int]] = []
    for span in sorted((s for s in spans if s["type"] in IDENTIFYING_TYPES), key=lambda s: s["start"]):
        start, end = max(0, span["start"] - window), min(len(text), span["end"] + window)
        if start > 0:
            space = text.rfind(" ", max(0, start - _WINDOW_WIDEN), start)
            start = space + 1 if space != -1 else (0 if start <= _WINDOW_WIDEN else start)
        if end < len(text):
            space = text.find(" ", end, end + _WINDOW_WIDEN)
            end = space if space != -1 else (len(text) if len(text) - end <= _WINDOW_WIDEN else end)
        if ranges and start <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(ranges[-1][1], end))
        else:
            ranges.append((start, end))
    return ranges


def scoped_name_spans(
    texts: Sequence[str],
    languages: Sequence[str | None],
    structured: Sequence[Sequence[PiiSpan]],
    *,
    scope: str = NAMES_EVERYWHERE,
    window: int = DEFAULT_NAME_WINDOW,
    en_model: str = name_finders.DEFAULT_EN_MODEL,
    zh_backend: str = name_finders.DEFAULT_ZH_BACKEND,
    max_chars: int = name_finders.DEFAULT_MAX_CHARS,
) -> list[tuple[list[PiiSpan], bool]]:
    """Find the names in each text that `scope` covers, with one name-finder call for all texts.

    Return, per text, its PERSON spans (offsets into the text) and whether the search stopped at `max_chars`.
    With "near_identifiers" only the windows around each text's identifying spans in `structured` are searched.
    """
    if scope == NAMES_EVERYWHERE:
        found = name_finders.find_names(texts, languages, en_model=en_model, zh_backend=zh_backend, max_chars=max_chars)
        return [(name_spans(result), result.truncated) for result in found]
    pieces: list[str] = []
    piece_languages: list[str | None] = []
    owners: list[tuple[int, int]] = []  # (text index, offset of the piece in it)
    for index, (text, language) in enumerate(zip(texts, languages, strict=True)):
        if language is None:
            continue
        for start, end in name_windows(text[:max_chars], structured[index], window):
            pieces.append(text[start:end])
            piece_languages.append(language)
            owners.append((index, start))
    results: list[tuple[list[PiiSpan], bool]] = [([], False) for _ in texts]
    if not pieces:
        return results
    found = name_finders.find_names(
        pieces, piece_languages, en_model=en_model, zh_backend=zh_backend, max_chars=max_chars
    )
    for (index, offset), result in zip(owners, found, strict=True):
        results[index][0].extend(name_spans(result, offset))
    return [
        (sorted(spans, key=lambda span: span["start"]), len(texts[i]) > max_chars)
        for i, (spans, _) in enumerate(results)
    ]


def find_pii(
    text: str,
    *,
    lang: str | None = None,
    names: bool = True,
    types: Collection[str] | None = None,
    name_model: str = name_finders.DEFAULT_EN_MODEL,
    zh_names: str = name_finders.DEFAULT_ZH_BACKEND,
    max_chars_for_ner: int = name_finders.DEFAULT_MAX_CHARS,
    names_scope: str = NAMES_EVERYWHERE,
    name_window_chars: int = DEFAULT_NAME_WINDOW,
) -> list[PiiSpan]:
    """Return the personal data in `text` as non-overlapping spans sorted by start, offsets into `text`.

    `lang` is a language code ("en", "zh", "zh-Hans" ...); without one the script decides which name finder runs.
    `types` limits the search (default: every type); `names=False` skips the name finders, which cost far more
    than everything else. Names are searched in the first `max_chars_for_ner` characters only, and where
    `names_scope` says (module docstring): "everywhere" (the default, for text people type) or
    "near_identifiers" (within `name_window_chars` of an identifier, for published text).
    """
    wanted = check_types(types)
    check_name_scope(names_scope, name_window_chars)
    spans = structured_spans(text, wanted)
    if names and PERSON in wanted and text:
        language = name_finders.name_language(text, lang)
        if language is not None:
            ((found, _),) = scoped_name_spans(
                [text],
                [language],
                [spans],
                scope=names_scope,
                window=name_window_chars,
                en_model=name_model,
                zh_backend=zh_names,
                max_chars=max_chars_for_ner,
            )
            spans.extend(found)
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
