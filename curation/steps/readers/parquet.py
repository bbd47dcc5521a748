"""Read Parquet files into documents, split by row groups; a row's position is its row number."""

from __future__ import annotations

import datetime
import decimal
import math
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq  # type: ignore[import-untyped]

from curation.steps.document import Document, Source
from curation.steps.readers.errors import ERROR_CORRUPT, InputError, ReadErrors
from curation.steps.readers.files import one_line, open_binary
from curation.steps.readers.formats import InputSplit, ReaderOptions
from curation.steps.readers.records import document_id, record_document

_PARQUET_BATCH_ROWS = 1024


def plan_parquet(path: str, options: ReaderOptions, target_bytes: int) -> list[InputSplit]:
    try:
        with open_binary(path) as stream:
            parquet = pq.ParquetFile(stream)
            metadata = parquet.metadata
            columns = parquet.schema_arrow.names
    except Exception as error:  # pyarrow raises several unrelated types for a damaged footer
        raise InputError(f"input not readable as Parquet: {path} ({one_line(error)})") from error
    if options.text_field not in columns:
        raise InputError(
            f"Parquet input {path} has no column {options.text_field!r} (columns: {', '.join(columns)}); "
            f"set the reader's text_field"
        )
    splits: list[InputSplit] = []
    first_row = row = size = 0
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        row += group.num_rows
        size += group.total_byte_size
        if size >= target_bytes:
            splits.append(InputSplit(path, first_row, row))
            first_row, size = row, 0
    if row > first_row or not splits:
        splits.append(InputSplit(path, first_row, None))
    else:
        last = splits[-1]
        splits[-1] = InputSplit(path, last.start, None)
    return splits


def read_parquet(split: InputSplit, options: ReaderOptions, errors: ReadErrors) -> Iterator[Document]:
    path = split.path
    with open_binary(path) as raw:
        try:
            parquet = pq.ParquetFile(raw)
            metadata = parquet.metadata
        except Exception as error:  # a damaged footer: nothing in the file can be located
            errors.add(path, ERROR_CORRUPT, f"{path}: not readable as Parquet ({one_line(error)})")
            return
        first_row = 0
        for group_index in range(metadata.num_row_groups):
            group_rows = metadata.row_group(group_index).num_rows
            group_start, first_row = first_row, first_row + group_rows
            if first_row <= split.start or (split.end is not None and group_start >= split.end):
                continue
            row = group_start
            try:
                for batch in parquet.iter_batches(batch_size=_PARQUET_BATCH_ROWS, row_groups=[group_index]):
                    for record in batch.to_pylist():
                        if row >= split.start and (split.end is None or row < split.end):
                            document = _parquet_document(record, path, row, options, errors)
                            if document is not None:
                                yield document
                        row += 1
            except Exception as error:  # one damaged row group must not cost the others
                errors.add(
                    path,
                    ERROR_CORRUPT,
                    f"{path}: row group {group_index} is damaged at row {row} ({one_line(error)}); "
                    f"skipped to the next row group",
                )


def _parquet_document(
    record: dict[str, Any], path: str, row: int, options: ReaderOptions, errors: ReadErrors
) -> Document | None:
    text = record.get(options.text_field)
    record = {key: (value if key == options.text_field else _jsonable(value)) for key, value in record.items()}
    record[options.text_field] = text
    source: Source = {"file": path, "row": row}
    return record_document(record, source, document_id(path, row), f"{path}: row {row}", path, options, errors)


def _jsonable(value: Any) -> Any:
    """Convert what pyarrow returns into values that JSON can hold."""
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    return str(value)
