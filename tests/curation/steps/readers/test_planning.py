"""Planning splits (curation/steps/readers/planning.py): inputs checked before any work, directories, URLs."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from curation.steps.readers import (
    InputError,
    InputSplit,
    ReadErrors,
    plan_splits,
    read_split,
)
from tests.support.readers import (
    OPTIONS,
    jsonl,
    pages,
    read_all,
    urls,
    warc_record,
    write_warc_gz,
)


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
