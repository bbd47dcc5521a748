"""The document record that flows through every curation step.

A document is a plain dict (fast to build, trivially JSON-serialisable) typed as a TypedDict so that steps are
checked by mypy. One JSON object per line in the job's output files; see docs/architecture.md.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Source(TypedDict, total=False):
    """Where a document came from: enough to find the original bytes again."""

    file: str
    offset: int  # byte offset of the record in the (uncompressed) file, for WARC/WET
    line: int  # 1-based line number, for JSON Lines
    row: int  # 0-based row index, for Parquet
    warc_record_id: str
    fetched_at: str  # ISO 8601, from WARC-Date
    content_type: str
    charset: str  # the encoding the payload was decoded from


class PiiSpan(TypedDict):
    """One personal-data hit, with offsets into the text as it was before redaction."""

    type: str
    start: int
    end: int


class Document(TypedDict, total=False):
    id: str
    text: str
    url: str
    lang: str
    source: Source
    signals: dict[str, Any]
    pii: list[PiiSpan]
    removed_by: str
    reason: str
    meta: dict[str, Any]  # the input record's other fields (JSON Lines, Parquet), kept as they were
    # Transient: raw HTML payload from a crawl, consumed (and deleted) by the `extract` step. Never written out.
    html: bytes


TRANSIENT_FIELDS = ("html",)


def signals_of(doc: Document) -> dict[str, Any]:
    """Return the document's signal dict, creating it on first use."""
    signals = doc.get("signals")
    if signals is None:
        signals = doc["signals"] = {}
    return signals
