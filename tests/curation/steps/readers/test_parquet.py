"""Parquet into documents (curation/steps/readers/parquet.py): rows, row-group splits, a missing column."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curation.steps.readers import (
    InputError,
    ReadErrors,
    plan_splits,
    read_split,
)
from tests.support.readers import (
    OPTIONS,
    read_all,
    write_parquet,
)


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
