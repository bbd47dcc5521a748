"""Turn one input record (a JSON Lines object or a Parquet row) into a document, and give documents stable ids.

Document ids are stable across re-runs: the input's own id, else the WARC-Record-ID, else a hash of the path and
the record's position (byte offset for WARC and JSON Lines, which every split knows; row for Parquet).
"""

from __future__ import annotations

from typing import Any

import xxhash

from curation.steps.document import Document, Source
from curation.steps.readers.errors import ERROR_BAD_ENCODING, ERROR_MISSING_TEXT, ERROR_TOO_LARGE, ReadErrors
from curation.steps.readers.formats import ReaderOptions


def document_id(path: str, position: int) -> str:
    return xxhash.xxh3_128_hexdigest(f"{path}:{position}".encode())


# Fields of our own document records: reading a previous job's output keeps them where they were, so that
# signals computed then are not computed again.
_DOCUMENT_FIELDS: dict[str, type] = {"url": str, "lang": str, "signals": dict, "pii": list}


def record_document(
    record: dict[str, Any],
    source: Source,
    fallback_id: str,
    where: str,
    path: str,
    options: ReaderOptions,
    errors: ReadErrors,
) -> Document | None:
    """Turn one input record (a JSON object or a Parquet row) into a document, or count why not."""
    text = record.pop(options.text_field, None)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            errors.add(path, ERROR_BAD_ENCODING, f"{where}: field {options.text_field!r} is not UTF-8 ({error})")
            return None
    if not isinstance(text, str):
        found = "missing" if text is None else f"a {type(text).__name__}, not a string"
        errors.add(path, ERROR_MISSING_TEXT, f"{where}: text field {options.text_field!r} is {found}")
        return None
    if len(text) > options.max_record_bytes // 4 and len(text.encode("utf-8")) > options.max_record_bytes:
        errors.add(path, ERROR_TOO_LARGE, f"{where}: text is over max_record_bytes={options.max_record_bytes}")
        return None
    own_id = record.pop(options.id_field, None)
    document: Document = {"id": str(own_id) if own_id is not None else fallback_id, "text": text}
    for name, kind in _DOCUMENT_FIELDS.items():
        if isinstance(record.get(name), kind):
            document[name] = record.pop(name)  # type: ignore[literal-required]
    document["source"] = source
    if record:
        document["meta"] = record
    return document
