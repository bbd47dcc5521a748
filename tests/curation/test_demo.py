"""The demo crawl: deterministic WARC files with the page kinds that the curation steps are meant to tell apart."""

from __future__ import annotations

import gzip
import re
import subprocess
import sys
import zlib
from collections import Counter
from pathlib import Path

import pytest

from curation.demo import build_pages, luhn_number, resident_id, write_demo_crawl
from curation.steps.base import build_step
from curation.steps.document import Document
from curation.steps.readers import ReaderOptions, ReadErrors, plan_splits, read_split

REPO = Path(__file__).resolve().parents[2]
OPTIONS = ReaderOptions()


@pytest.fixture(scope="module")
def crawl(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_demo_crawl(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def documents(crawl: list[Path]) -> tuple[list[Document], ReadErrors]:
    errors = ReadErrors()
    splits = plan_splits([str(path) for path in crawl], OPTIONS)
    return [doc for split in splits for doc in read_split(split, OPTIONS, errors)], errors


@pytest.fixture(scope="module")
def extracted(documents: tuple[list[Document], ReadErrors]) -> dict[str, Document]:
    step = build_step("extract")
    copies = [dict(doc) for doc in documents[0]]
    return {doc["url"]: doc for doc in step.run(iter(copies))}  # type: ignore[arg-type]


def kinds() -> dict[str, str]:
    return {page.url: page.kind for page in build_pages(3)}


def members(path: Path) -> list[bytes]:
    """Split a gzip file into its members' decompressed contents."""
    data, contents = path.read_bytes(), []
    while data:
        inflater = zlib.decompressobj(31)
        contents.append(inflater.decompress(data))
        assert inflater.eof
        data = inflater.unused_data
    return contents


def test_the_crawl_is_byte_identical_on_every_run(crawl: list[Path], tmp_path: Path) -> None:
    again = write_demo_crawl(tmp_path)

    assert [path.name for path in again] == [path.name for path in crawl]
    assert [path.read_bytes() for path in again] == [path.read_bytes() for path in crawl]


def test_each_file_has_a_warcinfo_record_first_and_one_gzip_member_per_record(crawl: list[Path]) -> None:
    assert len(crawl) == 3
    for path in crawl:
        records = members(path)
        assert records[0].startswith(b"WARC/1.1\r\nWARC-Type: warcinfo\r\n")
        assert len(records) > 60
        for record in records:
            header, _, rest = record.partition(b"\r\n\r\n")
            length = int(re.search(rb"Content-Length: (\d+)", header).group(1))  # type: ignore[union-attr]
            assert record.startswith(b"WARC/1.1\r\n")
            assert len(rest) == length + 4 and rest.endswith(b"\r\n\r\n")


def test_the_reader_gets_at_least_150_documents_and_skips_what_is_not_a_page(
    documents: tuple[list[Document], ReadErrors],
) -> None:
    docs, errors = documents

    assert len(docs) >= 150
    assert all("html" in doc for doc in docs)
    assert errors.to_dict()["by_kind"] == {"not_html": 6, "http_status": 3}  # PNGs and robots.txt; redirects


def test_every_page_kind_is_present() -> None:
    counts = Counter(kinds().values())

    assert counts["article"] >= 100
    for kind in ("exact_duplicate", "near_duplicate", "pii", "junk_salad", "junk_spam", "junk_short", "junk_menu",
                 "gbk_header_lies", "gbk_undeclared", "binary", "not_html", "redirect"):
        assert counts[kind] >= 1, kind


def test_chinese_pages_decode_in_every_encoding_they_were_written_in(
    documents: tuple[list[Document], ReadErrors], extracted: dict[str, Document]
) -> None:
    docs, _ = documents
    content_types = Counter(doc["source"]["content_type"] for doc in docs)
    assert content_types["text/html; charset=gbk"] >= 3
    assert content_types["text/html; charset=gb2312"] >= 3
    zh = [doc for doc in extracted.values() if re.search("[\u4e00-\u9fff]", doc["text"])]
    assert len(zh) >= 50
    for doc in zh:
        assert "\ufffd" not in doc["text"]
        assert not re.search("[\u00c0-\u00ff]{2}", doc["text"])
    page_kinds = kinds()
    lying = next(doc for doc in extracted.values() if page_kinds[doc["url"]] == "gbk_header_lies")
    assert lying["source"]["content_type"] == "text/html; charset=iso-8859-1"
    assert lying["source"]["charset"] == "gbk"


def test_exact_duplicates_are_the_same_bytes_at_another_address(documents: tuple[list[Document], ReadErrors]) -> None:
    docs, _ = documents
    by_payload: dict[bytes, list[str]] = {}
    for doc in docs:
        by_payload.setdefault(doc["html"], []).append(doc["url"])

    duplicated = [addresses for addresses in by_payload.values() if len(addresses) > 1]

    assert len(duplicated) >= 6
    assert all(len(set(addresses)) == len(addresses) for addresses in duplicated)


def test_personal_data_is_there_in_both_languages(extracted: dict[str, Document]) -> None:
    text = "\n".join(doc["text"] for doc in extracted.values())

    assert "138-1234-5678" in text
    assert "+86 139 8765 4321" in text
    assert "zhang.lei@example.cn" in text and "margaret.hollis@example.org" in text
    assert resident_id("110105", "19880614", "123") in text
    assert luhn_number("453201511283036") in text


def test_the_resident_id_and_card_number_pass_their_checksums() -> None:
    number = resident_id("110105", "19880614", "123")
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    card = luhn_number("453201511283036")
    digits = [int(digit) for digit in reversed(card)]
    luhn = sum(digits[0::2]) + sum(sum(divmod(2 * digit, 10)) for digit in digits[1::2])

    assert "10X98765432"[sum(int(d) * w for d, w in zip(number[:17], weights, strict=True)) % 11] == number[17]
    assert luhn % 10 == 0
    assert number == "110105198806141232"  # by hand: weighted sum 230, 230 mod 11 = 10, "10X98765432"[10] = "2"


def test_quality_filters_keep_the_articles_and_remove_the_junk(documents: tuple[list[Document], ReadErrors]) -> None:
    docs, _ = documents
    removed: dict[str, str] = {}
    stream = iter([dict(doc) for doc in docs])
    for name in ("extract", "language", "gopher_repetition", "gopher_quality", "c4", "fineweb"):
        step = build_step(name)
        step.bind_removed_sink(lambda doc: removed.__setitem__(doc["url"], f"{doc['removed_by']}:{doc['reason']}"))
        stream = step.run(stream)  # type: ignore[arg-type]
    kept = {doc["url"] for doc in stream}
    page_kinds = kinds()

    junk = [url for url, kind in page_kinds.items() if kind.startswith("junk_")]
    articles = [url for url, kind in page_kinds.items() if kind in ("article", "pii", "gbk_header_lies",
                                                                     "gbk_undeclared")]
    assert not set(junk) & kept, {url: removed.get(url) for url in junk}
    assert len(set(articles) & kept) >= 0.95 * len(articles), {url: removed[url] for url in articles if url in removed}


def test_the_command_line_writes_the_files(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "curation.demo", str(tmp_path / "out"), "--files", "2"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=120,
    )

    written = sorted((tmp_path / "out").glob("*.warc.gz"))
    assert [Path(line).name for line in result.stdout.split()] == [path.name for path in written]
    assert len(written) == 2
    assert gzip.decompress(written[0].read_bytes()).startswith(b"WARC/1.1\r\nWARC-Type: warcinfo")
