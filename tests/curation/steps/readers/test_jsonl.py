"""JSON Lines into documents (curation/steps/readers/jsonl.py): ids, fields, compression, bad lines, limits."""

from __future__ import annotations

import gzip
import random
import tracemalloc
from pathlib import Path

import pytest
import zstandard

from curation.steps.readers import (
    ReaderOptions,
    ReadErrors,
    plan_splits,
    read_split,
)
from tests.support.readers import (
    OPTIONS,
    jsonl,
    read_all,
)


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
