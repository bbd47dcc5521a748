"""WARC and WET files into documents (curation/steps/readers/warc.py): records, offsets, encodings, damage."""

from __future__ import annotations

import gzip
import os
import random
from pathlib import Path

import pytest

from curation.steps.readers import (
    ReaderOptions,
    ReadErrors,
    plan_splits,
    read_split,
)
from tests.support.readers import (
    OPTIONS,
    pages,
    read_all,
    record_id,
    urls,
    warc_record,
    warcinfo,
    write_warc_gz,
)


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
