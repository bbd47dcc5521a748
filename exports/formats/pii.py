"""The last PII scan before rows are written: `curation.steps.pii.find_pii` on every text of every row.

People's texts were checked as they were written (the annotation app's writing checks), but a project may only
warn, items come from imports, and the recognisers improve: so an export scans again. A row holding personal data is
redacted (each span becomes `<TYPE>`, curation's placeholder mode) or dropped whole, as the export asks; the card
counts rows and spans by type, never the values.

Cost: `find_pii` runs its recognisers over the whole text (~1 ms per 400 characters here without the name finders),
so each distinct text is scanned once: the rows of one item repeat its prompt and responses in many pairs, and a
small cache of the texts seen last serves them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from curation.steps.pii import find_pii, redact
from exports.formats.spec import PII_DROP, PII_OFF

Row = dict[str, Any]
Finder = Callable[[str], list[Any]]

# Rows of one item come one after the other; a few thousand texts cover the largest ranking's pairs.
_CACHE_TEXTS = 4096
# Fields of pretrain rows that hold no free text (ids, URLs as crawled, language codes) are left as they are.
_TEXT_FIELDS = ("text",)


@dataclass
class PiiStats:
    rows_scanned: int = 0
    rows_with_pii: int = 0
    rows_redacted: int = 0
    rows_dropped: int = 0
    spans_by_type: dict[str, int] = field(default_factory=dict)

    def merge(self, other: PiiStats) -> None:
        """Add another part's counts."""
        self.rows_scanned += other.rows_scanned
        self.rows_with_pii += other.rows_with_pii
        self.rows_redacted += other.rows_redacted
        self.rows_dropped += other.rows_dropped
        for kind, count in other.spans_by_type.items():
            self.spans_by_type[kind] = self.spans_by_type.get(kind, 0) + count

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows_scanned": self.rows_scanned,
            "rows_with_pii": self.rows_with_pii,
            "rows_redacted": self.rows_redacted,
            "rows_dropped": self.rows_dropped,
            "spans_by_type": dict(sorted(self.spans_by_type.items())),
        }


class PiiScanner:
    """Scan rows' texts and redact or drop the rows that hold personal data."""

    def __init__(self, action: str, *, names: bool = False, finder: Finder | None = None) -> None:
        self.action = action
        self.stats = PiiStats()
        self._finder: Finder = finder or (lambda text: find_pii(text, names=names))
        self._cache: dict[str, tuple[str, tuple[str, ...]]] = {}

    def _scan(self, text: str) -> tuple[str, tuple[str, ...]]:
        """Return the text redacted and the types found in it (cached)."""
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        spans = self._finder(text) if text else []
        result = (redact(text, spans) if spans else text, tuple(span["type"] for span in spans))
        if len(self._cache) >= _CACHE_TEXTS:
            self._cache.clear()
        self._cache[text] = result
        return result

    def clean(self, row: Row) -> Row | None:
        """Return the row with its texts redacted, the row itself when it holds nothing, or None to drop it."""
        if self.action == PII_OFF:
            return row
        self.stats.rows_scanned += 1
        found: list[str] = []
        cleaned: Row = {}
        for key, value in row.items():
            if isinstance(value, list):
                messages = []
                for message in value:
                    redacted, types = self._scan(message["content"])
                    found.extend(types)
                    messages.append({"role": message["role"], "content": redacted} if types else message)
                cleaned[key] = messages
            elif key in _TEXT_FIELDS and isinstance(value, str):
                redacted, types = self._scan(value)
                found.extend(types)
                cleaned[key] = redacted
            else:
                cleaned[key] = value
        if not found:
            return row
        self.stats.rows_with_pii += 1
        for kind in found:
            self.stats.spans_by_type[kind] = self.stats.spans_by_type.get(kind, 0) + 1
        if self.action == PII_DROP:
            self.stats.rows_dropped += 1
            return None
        self.stats.rows_redacted += 1
        return cleaned
