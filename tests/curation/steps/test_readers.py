"""Readers: WARC/WET, JSON Lines and Parquet into documents, split planning, and every kind of bad input."""

from __future__ import annotations

import datetime
import gzip
import json
import os
import random
import tracemalloc
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from curation.steps.readers import (
    InputError,
    InputSplit,
    ReaderOptions,
    ReadErrors,
    plan_splits,
    read_split,
)

OPTIONS = ReaderOptions()


# --- builders ------------------------------------------------------------------------------------------------------


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


def read_all(path: Path | str, options: ReaderOptions = OPTIONS, target_bytes: int = 64 * 1024 * 1024):
    errors = ReadErrors()
    splits = plan_splits([str(path)], options, target_bytes)
    docs = [doc for split in splits for doc in read_split(split, options, errors)]
    return docs, errors


def urls(docs) -> list[str]:
    return [doc["url"] for doc in docs]


def pages(numbers) -> list[str]:
    return [f"https://example.com/page/{number}" for number in numbers]


# --- WARC ----------------------------------------------------------------------------------------------------------


def test_warc_gz_response_records_become_html_documents_with_their_source(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    write_warc_gz(path, [warcinfo(), warc_record(0), warc_record(1)])

    docs, errors = read_all(path)

    assert not errors
    assert [doc["id"] for doc in docs] == [record_id(0), record_id(1)]
    first = docs[0]
    assert first["url"] == "https://example.com/page/0"
    assert first["html"].startswith(b"<html><body><article><p>Page number 0")
    assert "text" not in first
    assert first["source"]["file"] == str(path)
    assert first["source"]["warc_record_id"] == record_id(0)
    assert first["source"]["fetched_at"] == "2024-05-01T10:00:00Z"
    assert first["source"]["content_type"] == "text/html; charset=utf-8"


def test_warc_offsets_point_at_the_record_in_the_uncompressed_file(tmp_path: Path) -> None:
    records = [warcinfo(), warc_record(0), warc_record(1), warc_record(2)]
    plain = tmp_path / "crawl.warc"
    plain.write_bytes(b"".join(records))
    compressed = tmp_path / "crawl.warc.gz"
    write_warc_gz(compressed, records)
    data = plain.read_bytes()

    plain_docs, _ = read_all(plain)
    compressed_docs, _ = read_all(compressed)

    assert len(plain_docs) == 3
    for doc in plain_docs:
        record = data[doc["source"]["offset"] :]
        assert record.startswith(b"WARC/1.1\r\nWARC-Type: response")
        assert f"<urn:uuid:{doc['id']}>".encode() in record[:200]
    assert [doc["source"]["offset"] for doc in compressed_docs] == [doc["source"]["offset"] for doc in plain_docs]


def test_non_html_payloads_are_skipped_and_counted_as_not_html(tmp_path: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
    path = tmp_path / "crawl.warc.gz"
    write_warc_gz(path, [
        warc_record(0),
        warc_record(1, png, "image/png"),
        warc_record(2, b"%PDF-1.4 binary", "application/pdf"),
        warc_record(3, png, "text/html"),  # the header says HTML, the bytes say PNG
        warc_record(4, b"User-agent: *\nDisallow:\n", "text/plain"),
        warc_record(5),
    ])

    docs, errors = read_all(path)

    assert urls(docs) == pages([0, 5])
    assert errors.count("not_html") == 4
    assert any("https://example.com/page/1" in message and "image/png" in message for message in errors.messages())


def test_responses_outside_2xx_are_counted_as_http_status(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    write_warc_gz(path, [warc_record(0, b"", status="301 Moved Permanently"), warc_record(1, status="404 Not Found"),
                         warc_record(2)])

    docs, errors = read_all(path)

    assert urls(docs) == pages([2])
    assert errors.count("http_status") == 2


def test_html_without_content_type_is_recognised_by_its_first_bytes(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    write_warc_gz(path, [warc_record(0, b"  <!DOCTYPE html><html><body>hi</body></html>", "application/octet-stream")])

    docs, errors = read_all(path)

    assert urls(docs) == pages([0]) and not errors


def test_wet_conversion_records_become_text_documents(tmp_path: Path) -> None:
    text = "Escopete ye un municipio.\nLínea dos."
    path = tmp_path / "crawl.warc.wet.gz"
    write_warc_gz(path, [warcinfo(), warc_record(0, text.encode(), "text/plain", record_type="conversion")])

    docs, errors = read_all(path)

    assert not errors
    assert docs[0]["text"] == text
    assert "html" not in docs[0]
    assert docs[0]["source"]["charset"] == "utf-8"


def test_chunked_and_gzip_encoded_payloads_are_decoded(tmp_path: Path) -> None:
    html = b"<html><body><p>Chunked and compressed.</p></body></html>"
    rest = format(len(html) - 16, "x").encode()
    chunked = b"10\r\n" + html[:16] + b"\r\n" + rest + b"\r\n" + html[16:] + b"\r\n0\r\n\r\n"
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked
    compressed = gzip.compress(html)
    gz_block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n\r\n" + compressed
    records = []
    for number, http in enumerate((block, gz_block)):
        records.append(
            f"WARC/1.1\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{record_id(number)}>\r\n"
            f"WARC-Target-URI: https://example.com/page/{number}\r\nContent-Length: {len(http)}\r\n\r\n".encode()
            + http + b"\r\n\r\n"
        )
    path = tmp_path / "crawl.warc"
    path.write_bytes(b"".join(records))

    docs, errors = read_all(path)

    assert not errors
    assert [doc["html"] for doc in docs] == [html, html]


def test_truncated_warc_gz_keeps_every_record_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    members = write_warc_gz(path, [warc_record(number) for number in range(6)])
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - len(members[-1]) // 2])

    docs, errors = read_all(path)

    assert urls(docs)[:5] == pages(range(5))
    assert errors.count("truncated") == 1
    assert errors.count() == 1
    assert str(path) in errors.messages("truncated")[0]


def test_a_record_cut_by_the_end_of_a_plain_warc_is_kept_partially_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc"
    data = b"".join(warc_record(number) for number in range(3))
    path.write_bytes(data[:-40])

    docs, errors = read_all(path)

    assert urls(docs) == pages(range(3))
    assert docs[-1]["html"].startswith(b"<html><body><article><p>Page number 2")
    assert errors.count("truncated") == 1


def test_a_damaged_gzip_member_in_the_middle_loses_only_its_record(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    members = [gzip.compress(warc_record(number, b"<html><body>" + os.urandom(3000).hex().encode() + b"</body></html>"),
                             mtime=0) for number in range(8)]
    damaged = bytearray(members[4])
    for index in range(40, 80):
        damaged[index] ^= 0x5A
    path.write_bytes(b"".join(members[:4]) + bytes(damaged) + b"".join(members[5:]))

    docs, errors = read_all(path)

    assert urls(docs) == pages([0, 1, 2, 3, 5, 6, 7])
    assert errors.count("corrupt") == 1
    assert "compressed byte" in errors.messages("corrupt")[0]


def test_a_gzip_member_with_a_bad_checksum_loses_only_its_record(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    members = [gzip.compress(warc_record(number), mtime=0) for number in range(5)]
    bad_crc = bytearray(members[2])
    bad_crc[-6] ^= 0xFF  # the CRC32 in the member's trailer: the data decodes, the check fails
    path.write_bytes(b"".join(members[:2]) + bytes(bad_crc) + b"".join(members[3:]))

    docs, errors = read_all(path)

    assert urls(docs) == pages([0, 1, 3, 4])
    assert errors.count("corrupt") == 1


def test_garbage_between_gzip_members_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    members = [gzip.compress(warc_record(number), mtime=0) for number in range(4)]
    path.write_bytes(b"".join(members[:2]) + b"\x00junk\xff" * 30 + b"".join(members[2:]))

    docs, errors = read_all(path)

    assert urls(docs) == pages(range(4))
    assert errors.count("corrupt") == 1


@pytest.mark.parametrize(
    ("damage", "lost"),
    [
        ("garbled header line", [4]),
        ("block shortened", [4]),
        ("garbage between records", []),
        ("content length not a number", [4]),
    ],
)
def test_a_damaged_plain_warc_record_in_the_middle_keeps_the_records_after_it(
    tmp_path: Path, damage: str, lost: list[int]
) -> None:
    records = [warc_record(number) for number in range(8)]
    if damage == "garbled header line":
        records[4] = records[4].replace(b"WARC/1.1", b"XARC/9.9", 1)
    elif damage == "block shortened":
        records[4] = records[4][:-60]  # its Content-Length now runs into record 5
    elif damage == "garbage between records":
        records[4] = b"\xff\x00 not a record \x00" * 20 + records[4]
    else:
        records[4] = records[4].replace(b"Content-Length: ", b"Content-Length: x", 1)
    path = tmp_path / "crawl.warc"
    path.write_bytes(b"".join(records))

    docs, errors = read_all(path)

    assert urls(docs) == pages(number for number in range(8) if number not in lost)
    assert errors.count("corrupt") >= 1
    assert all(str(path) in message and "byte" in message for message in errors.messages("corrupt"))


def test_plain_warc_cut_into_byte_ranges_yields_every_record_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(7)
    records = [warcinfo()] + [
        warc_record(number, b"<html><body><p>" + b"x" * rng.randint(10, 3000) + b"</p></body></html>")
        for number in range(60)
    ]
    records[30] = records[30][:-50]  # one damaged record, whose damage a split boundary may fall into
    path = tmp_path / "crawl.warc"
    path.write_bytes(b"".join(records))
    whole, _ = read_all(path)

    for target in (500, 1_000, 4_096, 25_000):
        splits = plan_splits([str(path)], OPTIONS, target_bytes=target)
        errors = ReadErrors()
        pieces = [doc["id"] for split in splits for doc in read_split(split, OPTIONS, errors)]

        assert len(splits) > 1
        assert pieces == [doc["id"] for doc in whole]


def test_record_over_max_record_bytes_is_skipped_as_too_large(tmp_path: Path) -> None:
    path = tmp_path / "crawl.warc.gz"
    write_warc_gz(path, [warc_record(0), warc_record(1, b"<html>" + b"x" * 5000 + b"</html>"), warc_record(2)])

    docs, errors = read_all(path, ReaderOptions(max_record_bytes=2000))

    assert urls(docs) == pages([0, 2])
    assert errors.count("too_large") == 1


# --- JSON Lines ----------------------------------------------------------------------------------------------------


def jsonl(records) -> bytes:
    return b"".join(json.dumps(record, ensure_ascii=False).encode() + b"\n" for record in records)


def test_jsonl_documents_use_the_input_id_and_keep_other_fields_in_meta(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(jsonl([
        {"id": 17, "text": "first", "url": "https://a.example/1", "lang_hint": "en", "tags": ["x"]},
        {"text": "second", "score": 0.5},
    ]))

    docs, errors = read_all(path)

    assert not errors
    assert docs[0]["id"] == "17"
    assert docs[0]["text"] == "first"
    assert docs[0]["url"] == "https://a.example/1"
    assert docs[0]["meta"] == {"lang_hint": "en", "tags": ["x"]}
    assert docs[0]["source"] == {"file": str(path), "offset": 0, "line": 1}
    assert docs[1]["source"]["line"] == 2
    assert docs[1]["meta"] == {"score": 0.5}
    assert len(docs[1]["id"]) == 32 and int(docs[1]["id"], 16) >= 0


def test_jsonl_ids_without_an_input_id_are_stable_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(jsonl([{"text": "same"}, {"text": "same"}]))

    first, _ = read_all(path)
    second, _ = read_all(path)

    assert [doc["id"] for doc in first] == [doc["id"] for doc in second]
    assert first[0]["id"] != first[1]["id"]


def test_custom_text_and_id_fields_are_honoured(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(jsonl([{"doc_id": "a-1", "content": "hello", "text": "not this"}]))

    docs, _ = read_all(path, ReaderOptions(text_field="content", id_field="doc_id"))

    assert docs[0]["id"] == "a-1" and docs[0]["text"] == "hello" and docs[0]["meta"] == {"text": "not this"}


def test_a_previous_jobs_output_keeps_its_signals_where_they_were(tmp_path: Path) -> None:
    path = tmp_path / "kept.jsonl"
    path.write_bytes(jsonl([{"id": "d1", "text": "t", "lang": "en", "signals": {"gopher_words": 3},
                             "source": {"file": "old.warc.gz", "offset": 9}}]))

    docs, _ = read_all(path)

    assert docs[0]["signals"] == {"gopher_words": 3}
    assert docs[0]["lang"] == "en"
    assert docs[0]["meta"] == {"source": {"file": "old.warc.gz", "offset": 9}}


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst", ".json.gz"])
def test_compressed_jsonl_reads_like_plain(tmp_path: Path, suffix: str) -> None:
    data = jsonl([{"id": number, "text": f"line {number}"} for number in range(500)])
    path = tmp_path / f"docs{suffix}"
    path.write_bytes(zstandard.ZstdCompressor().compress(data) if suffix.endswith("zst") else gzip.compress(data))

    docs, errors = read_all(path)

    assert not errors
    assert [doc["text"] for doc in docs] == [f"line {number}" for number in range(500)]
    assert docs[499]["source"]["line"] == 500


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_truncated_compressed_jsonl_keeps_the_lines_before_the_cut(tmp_path: Path, suffix: str) -> None:
    rng = random.Random(3)
    data = jsonl([{"id": number, "text": "".join(rng.choice("abcdefgh ") for _ in range(200))}
                  for number in range(3000)])
    compressed = zstandard.ZstdCompressor().compress(data) if suffix.endswith("zst") else gzip.compress(data)
    path = tmp_path / f"docs{suffix}"
    path.write_bytes(compressed[: len(compressed) // 2])

    docs, errors = read_all(path)

    assert 0 < len(docs) < 3000
    assert [doc["id"] for doc in docs] == [str(number) for number in range(len(docs))]
    assert errors.count("truncated") == 1
    assert str(path) in errors.messages("truncated")[0]


def test_bad_jsonl_lines_are_counted_by_kind_and_the_good_lines_around_them_kept(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(
        b'{"text": "one"}\n'
        b'{"text": "caf\xe9 in latin-1"}\n'  # not UTF-8
        b'{"text": "two"}\n'
        b'{"text": "unterminated\n'
        b'["a", "list"]\n'
        b'{"title": "no text field"}\n'
        b'{"text": null}\n'
        b"\n"
        b'{"text": "three"}'  # no newline at the end of the file
    )

    docs, errors = read_all(path)

    assert [doc["text"] for doc in docs] == ["one", "two", "three"]
    assert errors.count("bad_encoding") == 1
    assert errors.count("bad_json") == 2
    assert errors.count("missing_text") == 2
    assert errors.messages("bad_encoding") == [f"{path}: line 2 (byte 16) is not UTF-8 (invalid continuation byte "
                                               f"at byte 13)"]
    assert "line 4" in errors.messages("bad_json")[0]
    assert "line 6" in errors.messages("missing_text")[0]


def test_lone_surrogate_escapes_are_replaced_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(b'{"text": "ok \\ud83d\\ude00 broken \\ud800 end"}\n')

    docs, errors = read_all(path)

    assert docs[0]["text"] == "ok \U0001f600 broken \ufffd end"
    assert errors.count("lone_surrogate") == 1
    docs[0]["text"].encode("utf-8")  # writable as UTF-8


def test_a_50_mb_line_over_the_limit_is_skipped_with_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as out:
        out.write(b'{"text": "before"}\n{"text": "')
        chunk = b"y" * (1 << 20)
        for _ in range(50):
            out.write(chunk)
        out.write(b'"}\n{"text": "after"}\n')
    options = ReaderOptions(max_record_bytes=4 * 1024 * 1024)

    tracemalloc.start()
    try:
        docs, errors = read_all(path, options)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [doc["text"] for doc in docs] == ["before", "after"]
    assert errors.count("too_large") == 1
    assert "line 2" in errors.messages("too_large")[0]
    assert peak < 16 * 1024 * 1024  # the 50 MB line was never held whole


def test_a_line_within_the_limit_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    text = "z" * (3 * 1024 * 1024)
    path.write_bytes(jsonl([{"text": text}]))

    docs, errors = read_all(path)

    assert docs[0]["text"] == text and not errors


def test_a_binary_file_given_as_jsonl_is_counted_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "random.jsonl"
    path.write_bytes(random.Random(1).randbytes(300_000))

    docs, errors = read_all(path)

    assert docs == []
    assert errors.count() > 0
    assert set(errors.to_dict()["by_kind"]) <= {"bad_encoding", "bad_json", "too_large"}


def test_jsonl_cut_into_byte_ranges_yields_every_line_exactly_once(tmp_path: Path) -> None:
    rng = random.Random(11)
    records = [{"id": number, "text": "w" * rng.randint(0, 400) + "\u4e2d" * rng.randint(0, 30)}
               for number in range(5000)]
    path = tmp_path / "docs.jsonl"
    path.write_bytes(jsonl(records))

    for target in (1_000, 65_536, 333_333):
        splits = plan_splits([str(path)], OPTIONS, target_bytes=target)
        errors = ReadErrors()
        docs = [doc for split in splits for doc in read_split(split, OPTIONS, errors)]

        assert len(splits) > 1
        assert [doc["id"] for doc in docs] == [str(number) for number in range(5000)]
        assert not errors
        data = path.read_bytes()
        assert all(data[doc["source"]["offset"] :].startswith(b'{"id": ' + doc["id"].encode()) for doc in docs)


# --- Parquet -------------------------------------------------------------------------------------------------------


def write_parquet(path: Path, rows: int, row_group_size: int) -> None:
    table = pa.table({
        "id": [f"p{number}" for number in range(rows)],
        "text": [f"row {number}" if number % 97 else None for number in range(rows)],
        "fetched": [datetime.datetime(2024, 1, 1) + datetime.timedelta(minutes=number) for number in range(rows)],
        "score": [number / 10 for number in range(rows)],
    })
    pq.write_table(table, path, row_group_size=row_group_size)


def test_parquet_rows_become_documents_with_json_able_meta(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    write_parquet(path, 300, 100)

    docs, errors = read_all(path)

    assert len(docs) == 300 - 4  # rows 0, 97, 194, 291 have no text
    assert errors.count("missing_text") == 4
    assert docs[0]["id"] == "p1" and docs[0]["text"] == "row 1"
    assert docs[0]["source"] == {"file": str(path), "row": 1}
    assert docs[0]["meta"] == {"fetched": "2024-01-01T00:01:00", "score": 0.1}
    json.dumps(docs[0])


def test_parquet_splits_follow_row_groups_and_cover_every_row_once(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    write_parquet(path, 1000, 100)

    splits = plan_splits([str(path)], OPTIONS, target_bytes=1)
    errors = ReadErrors()
    rows = [doc["source"]["row"] for split in splits for doc in read_split(split, OPTIONS, errors)]

    assert [(split.start, split.end) for split in splits][:2] == [(0, 100), (100, 200)]
    assert splits[-1].end is None
    assert rows == [row for row in range(1000) if row % 97]


def test_parquet_without_the_text_column_is_refused_before_work(tmp_path: Path) -> None:
    path = tmp_path / "docs.parquet"
    pq.write_table(pa.table({"body": ["a"]}), path)

    with pytest.raises(InputError, match="has no column 'text'"):
        plan_splits([str(path)], OPTIONS)


# --- planning and edge cases ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.warc.gz", "empty.warc", "empty.parquet", "empty.jsonl.zst"])
def test_an_empty_file_gives_one_split_that_yields_nothing(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes(b"")

    splits = plan_splits([str(path)], OPTIONS)
    errors = ReadErrors()
    docs = [doc for split in splits for doc in read_split(split, OPTIONS, errors)]

    assert splits == [InputSplit(str(path))]
    assert docs == [] and not errors


def test_a_missing_path_raises_input_error_before_any_work(tmp_path: Path) -> None:
    good = tmp_path / "docs.jsonl"
    good.write_bytes(jsonl([{"text": "x"}]))
    missing = tmp_path / "nope" / "crawl.warc.gz"

    with pytest.raises(InputError) as raised:
        plan_splits([str(good), str(missing)], OPTIONS)

    assert str(raised.value) == f"input not found: {missing}"


def test_an_unknown_format_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("just some notes\n")

    with pytest.raises(InputError, match="unknown input format"):
        plan_splits([str(path)], OPTIONS)


def test_an_unreadable_file_raises_input_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.jsonl"
    path.write_bytes(b'{"text": "x"}\n')
    path.chmod(0)
    if os.access(path, os.R_OK):  # root reads anything
        pytest.skip("this user can read files without read permission")

    with pytest.raises(InputError, match="input not readable"):
        plan_splits([str(path)], OPTIONS)


def test_files_without_a_known_name_are_recognised_by_their_first_bytes(tmp_path: Path) -> None:
    warc = tmp_path / "capture.bin"
    write_warc_gz(warc, [warc_record(0)])
    lines = tmp_path / "export.txt"
    lines.write_bytes(jsonl([{"text": "sniffed"}]))

    warc_docs, _ = read_all(warc)
    line_docs, _ = read_all(lines)

    assert urls(warc_docs) == pages([0])
    assert line_docs[0]["text"] == "sniffed"


def test_a_directory_expands_to_its_supported_files_sorted_and_recursive(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for name in ("b/2.jsonl", "a.jsonl", "b/1.warc.gz", ".hidden/x.jsonl", "_SUCCESS", "readme.md", "c.parquet.crc"):
        (tmp_path / name).write_bytes(b"")

    splits = plan_splits([str(tmp_path)], OPTIONS)

    assert [split.path for split in splits] == [str(tmp_path / "a.jsonl"), str(tmp_path / "b" / "1.warc.gz"),
                                                 str(tmp_path / "b" / "2.jsonl")]


def test_a_directory_without_supported_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "readme.md").write_text("hi")

    with pytest.raises(InputError, match="no supported input files"):
        plan_splits([str(tmp_path)], OPTIONS)


def test_an_fsspec_url_reads_like_a_local_path(tmp_path: Path) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(jsonl([{"id": number, "text": str(number)} for number in range(100)]))

    docs, errors = read_all(f"file://{path}", target_bytes=300)

    assert [doc["text"] for doc in docs] == [str(number) for number in range(100)]
    assert not errors


def test_compressed_files_are_one_split_and_big_plain_files_are_cut(tmp_path: Path) -> None:
    data = jsonl([{"text": "x" * 100} for _ in range(100)])
    (tmp_path / "plain.jsonl").write_bytes(data)
    (tmp_path / "packed.jsonl.gz").write_bytes(gzip.compress(data))

    splits = plan_splits([str(tmp_path)], OPTIONS, target_bytes=1000)

    packed = [split for split in splits if split.path.endswith(".gz")]
    plain = [split for split in splits if split.path.endswith("plain.jsonl")]
    assert packed == [InputSplit(str(tmp_path / "packed.jsonl.gz"))]
    assert len(plain) == -(-len(data) // 1000)
    assert plain[0] == InputSplit(str(tmp_path / "plain.jsonl"), 0, 1000) and plain[-1].end is None


def test_reader_options_refuse_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="unknown input format 'csv'"):
        ReaderOptions(format="csv")


def test_read_errors_merge_and_survive_a_round_trip_through_a_dict() -> None:
    first, second = ReadErrors(), ReadErrors()
    for number in range(7):
        first.add("a.jsonl", "bad_json", f"a.jsonl: line {number} is not valid JSON")
    second.add("a.jsonl", "bad_json", "a.jsonl: line 99 is not valid JSON")
    second.add("b.warc.gz", "truncated", "b.warc.gz: truncated")

    first.merge(ReadErrors.from_dict(json.loads(json.dumps(second.to_dict()))))
    summary = first.to_dict()

    assert summary["total"] == 9
    assert summary["by_kind"] == {"bad_json": 8, "truncated": 1}
    assert summary["files"]["a.jsonl"]["bad_json"]["count"] == 8
    assert len(summary["files"]["a.jsonl"]["bad_json"]["messages"]) == 5


# --- real crawl files ----------------------------------------------------------------------------------------------


def test_every_real_sample_warc_reads_without_raising(shared_data: Path) -> None:
    folder = shared_data / "warc-samples"
    files = sorted(str(path) for path in folder.rglob("*") if path.is_file() and "warc" in path.name
                   and not path.name.endswith(".md"))

    totals = {}
    for file in files:
        options = ReaderOptions(format="warc")
        errors = ReadErrors()
        docs = [doc for split in plan_splits([file], options) for doc in read_split(split, options, errors)]
        totals[Path(file).name] = (len(docs), errors.to_dict()["by_kind"])

    assert totals["warcfile.warc.gz"] == (16, {})
    assert totals["clipped.warc.gz"] == (1, {"truncated": 1})
    assert totals["whirlwind.warc.wet.gz"][0] == 1
    assert totals["clueweb-quirk.warc.gz"][0] == 29
