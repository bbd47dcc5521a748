"""Build input files for the reader tests (WARC records, JSON Lines, Parquet) and read them back like a job does."""

from __future__ import annotations

import datetime
import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.steps.document import Document
from curation.steps.readers import ReaderOptions, ReadErrors, plan_splits, read_split

OPTIONS = ReaderOptions()


def record_id(number: int) -> str:
    return str(uuid.UUID(int=number + 1))


def warc_record(
    number: int,
    body: bytes | None = None,
    content_type: str = "text/html; charset=utf-8",
    status: str = "200 OK",
    record_type: str = "response",
) -> bytes:
    if body is None:
        body = f"<html><body><article><p>Page number {number} says hello.</p></article></body></html>".encode()
    if record_type == "response":
        block = (
            f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        warc_content_type = "application/http; msgtype=response"
    else:
        block = body
        warc_content_type = content_type
    header = (
        f"WARC/1.1\r\nWARC-Type: {record_type}\r\nWARC-Record-ID: <urn:uuid:{record_id(number)}>\r\n"
        f"WARC-Date: 2024-05-0{number % 9 + 1}T10:00:00Z\r\nWARC-Target-URI: https://example.com/page/{number}\r\n"
        f"Content-Type: {warc_content_type}\r\nContent-Length: {len(block)}\r\n\r\n"
    ).encode()
    return header + block + b"\r\n\r\n"


def warcinfo() -> bytes:
    block = b"software: test\r\n"
    return (
        b"WARC/1.1\r\nWARC-Type: warcinfo\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-00000000ffff>\r\n"
        b"Content-Type: application/warc-fields\r\nContent-Length: " + str(len(block)).encode() + b"\r\n\r\n"
        + block + b"\r\n\r\n"
    )


def write_warc_gz(path: Path, records: list[bytes]) -> list[bytes]:
    """Write one gzip member per record, as crawlers do; return the members."""
    members = [gzip.compress(record, mtime=0) for record in records]
    path.write_bytes(b"".join(members))
    return members


def read_all(
    path: Path | str, options: ReaderOptions = OPTIONS, target_bytes: int = 64 * 1024 * 1024
) -> tuple[list[Document], ReadErrors]:
    """Plan and read every split of `path`; return the documents and the errors counted."""
    errors = ReadErrors()
    splits = plan_splits([str(path)], options, target_bytes)
    docs = [doc for split in splits for doc in read_split(split, options, errors)]
    return docs, errors


def urls(docs: list[Document]) -> list[str]:
    return [doc["url"] for doc in docs]


def pages(numbers: Any) -> list[str]:
    return [f"https://example.com/page/{number}" for number in numbers]



def jsonl(records: list[Any]) -> bytes:
    """JSON Lines of `records`, UTF-8, one per line."""
    return b"".join(json.dumps(record, ensure_ascii=False).encode() + b"\n" for record in records)


def write_parquet(path: Path, rows: int, row_group_size: int) -> None:
    table = pa.table({
        "id": [f"p{number}" for number in range(rows)],
        "text": [f"row {number}" if number % 97 else None for number in range(rows)],
        "fetched": [datetime.datetime(2024, 1, 1) + datetime.timedelta(minutes=number) for number in range(rows)],
        "score": [number / 10 for number in range(rows)],
    })
    pq.write_table(table, path, row_group_size=row_group_size)
