"""What can go wrong reading input: `InputError` (an input cannot be read at all; raised before any work starts)
and `ReadErrors` (problems inside readable files, counted per file and kind with the first few messages, never
raised). The `ERROR_*` constants are the kinds counted."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Error kinds counted in ReadErrors.
ERROR_TRUNCATED = "truncated"
ERROR_CORRUPT = "corrupt"
ERROR_TOO_LARGE = "too_large"
ERROR_NOT_HTML = "not_html"
ERROR_HTTP_STATUS = "http_status"
ERROR_CONTENT_ENCODING = "content_encoding"
ERROR_BAD_ENCODING = "bad_encoding"
ERROR_BAD_JSON = "bad_json"
ERROR_MISSING_TEXT = "missing_text"
ERROR_LONE_SURROGATE = "lone_surrogate"  # the document is kept, with U+FFFD in place of each lone surrogate
_MAX_MESSAGES = 5  # first messages kept per (file, kind)


class InputError(ValueError):
    """An input cannot be read at all: missing, unreadable, or of unknown format. The message is one line."""


@dataclass
class _ErrorEntry:
    count: int = 0
    messages: list[str] = field(default_factory=list)


class ReadErrors:
    """Count read problems per (file, kind), keeping the first few messages of each kind."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], _ErrorEntry] = {}

    def add(self, file: str, kind: str, message: str) -> None:
        entry = self._entries.get((file, kind))
        if entry is None:
            entry = self._entries[(file, kind)] = _ErrorEntry()
        entry.count += 1
        if len(entry.messages) < _MAX_MESSAGES:
            entry.messages.append(message)

    def count(self, kind: str | None = None, file: str | None = None) -> int:
        """Return how many problems were counted, optionally of one kind and/or in one file."""
        return sum(
            entry.count
            for (entry_file, entry_kind), entry in self._entries.items()
            if (kind is None or entry_kind == kind) and (file is None or entry_file == file)
        )

    def messages(self, kind: str | None = None) -> list[str]:
        """Return the kept messages, optionally of one kind."""
        return [
            message
            for (_, entry_kind), entry in sorted(self._entries.items())
            if kind is None or entry_kind == kind
            for message in entry.messages
        ]

    @property
    def total(self) -> int:
        return self.count()

    def __bool__(self) -> bool:
        return bool(self._entries)

    def merge(self, other: ReadErrors) -> None:
        """Add another shard's counts and messages to these."""
        for (file, kind), theirs in other._entries.items():
            entry = self._entries.get((file, kind))
            if entry is None:
                entry = self._entries[(file, kind)] = _ErrorEntry()
            entry.count += theirs.count
            room = _MAX_MESSAGES - len(entry.messages)
            if room > 0:
                entry.messages.extend(theirs.messages[:room])

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-able summary: totals per kind and, per file and kind, the count and first messages."""
        by_kind: dict[str, int] = {}
        files: dict[str, dict[str, dict[str, Any]]] = {}
        for (file, kind), entry in sorted(self._entries.items()):
            by_kind[kind] = by_kind.get(kind, 0) + entry.count
            files.setdefault(file, {})[kind] = {"count": entry.count, "messages": list(entry.messages)}
        return {"total": self.total, "by_kind": by_kind, "files": files}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReadErrors:
        """Rebuild errors saved with `to_dict`, so that shards' errors can be merged later."""
        errors = cls()
        for file, kinds in data.get("files", {}).items():
            for kind, entry in kinds.items():
                errors._entries[(file, kind)] = _ErrorEntry(int(entry["count"]), list(entry["messages"]))
        return errors

    def __repr__(self) -> str:
        return f"ReadErrors({self.to_dict()['by_kind']})"
