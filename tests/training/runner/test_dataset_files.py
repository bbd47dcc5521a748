"""Export folders are found in both layouts: flat (train.jsonl) and the exports app's data/ shards."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from training.runner.dataset_files import export_check, export_open, export_split
from training.runner.spec import SpecError

ROW = {"prompt": [{"role": "user", "content": "你好"}], "chosen": [{"role": "assistant", "content": "你好！"}],
       "rejected": [{"role": "assistant", "content": "不知道。"}]}


def test_the_exports_apps_layout_reads_data_shards_in_parquet_and_never_the_removed_rows(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    for shard in ("00000", "00001"):
        pq.write_table(pa.Table.from_pylist([ROW, ROW]), data / f"train-{shard}-of-00002.parquet")
        (data / f"train-{shard}-of-00002.jsonl").write_text(json.dumps(ROW, ensure_ascii=False) + "\n")
    pq.write_table(pa.Table.from_pylist([ROW]), data / "test-00000-of-00001.parquet")
    (tmp_path / "removed").mkdir()
    (tmp_path / "removed" / "decontamination.jsonl").write_text('{"text": "removed"}\n')
    (tmp_path / "card.json").write_text(json.dumps({"content_hash": "abc123"}))

    export = export_open(tmp_path)
    assert export.loader == "parquet" and export.content_hash == "abc123"
    assert [p.name for p in export.files["train"]] == ["train-00000-of-00002.parquet", "train-00001-of-00002.parquet"]
    train = export_split(export, "train", "dpo")
    assert train is not None and len(train) == 4 and train[0]["prompt"][0]["content"] == "你好"
    assert export_check(export, "test", "reward")


def test_a_flat_folder_without_split_names_is_all_train_and_bad_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "rows.jsonl").write_text("{not json\n")
    export = export_open(tmp_path)
    assert export.files["train"] == [tmp_path / "rows.jsonl"] and export.content_hash is None
    with pytest.raises(SpecError, match=r"rows\.jsonl: not JSON Lines"):
        export_check(export, "train", "sft")


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no train rows"):
        export_open(tmp_path)
