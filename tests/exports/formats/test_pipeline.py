"""The export pipeline end to end on plain records: files, split, PII, decontamination, hash, card, loading."""

from __future__ import annotations

import json
import os
import signal
import tempfile
from pathlib import Path
from typing import Any

import datasets
import pytest
import yaml

from exports.formats import (
    BuildError,
    BuildStats,
    ExportExistsError,
    ExportSpec,
    item_rows,
    run_export,
    run_export_parts,
)
from exports.formats.pipeline import _Spool, _spooled
from exports.formats.records import ItemRecord
from exports.formats.split import PromptGroups
from tests.support.export_records import ranking_item, response_item


def _export(items: list[ItemRecord], out: Path | str, **options: Any) -> dict[str, Any]:
    spec = ExportSpec(**{"format": "reward", "merge": "consensus", **options})
    stats = BuildStats()
    result = run_export(spec, item_rows(items, spec, stats), stats, str(out), name="test", command="test")
    return result.card


def _jsonl_rows(out: Path, split: str) -> list[dict[str, Any]]:
    rows = []
    for path in sorted((out / "data").glob(f"{split}-*.jsonl")):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return rows


def _ranked(n: int, prompt: str, project: int = 1) -> ItemRecord:
    return ranking_item(f"item{n}", prompt, [[["r1"], ["r2"], ["r3"], ["r4"]]], project=project)


PROMPTS = [f"Question number {n} about the history of {topic} and why it matters today"
           for n, topic in enumerate(["rivers", "bridges", "printing", "glass", "salt", "maps", "clocks", "paper",
                                      "silk", "tea", "rice", "iron", "ships", "roads", "bells", "ink", "wool",
                                      "sugar", "coins", "lamps"])]


def test_no_prompt_and_no_near_duplicate_of_it_lands_on_both_sides(tmp_path: Path) -> None:
    # given 20 prompts, each asked three times: once verbatim twice, once with a small edit (a near-duplicate)
    items = []
    for n, prompt in enumerate(PROMPTS):
        items += [_ranked(3 * n, prompt), _ranked(3 * n + 1, prompt), _ranked(3 * n + 2, prompt + ", please")]
    # when exported with half the rows to test
    card = _export(items, tmp_path / "out", test_fraction=0.5, seed=7)
    # then every prompt group is on one side only, and both sides hold rows
    train = {r["prompt"][-1]["content"].removesuffix(", please") for r in _jsonl_rows(tmp_path / "out", "train")}
    test = {r["prompt"][-1]["content"].removesuffix(", please") for r in _jsonl_rows(tmp_path / "out", "test")}
    assert train and test
    assert not train & test
    assert card["split"]["groups"] == 20
    assert card["splits"]["train"]["rows"] + card["splits"]["test"]["rows"] == 60 * 6


def test_near_duplicates_are_grouped_and_distinct_prompts_are_not() -> None:
    groups = PromptGroups(threshold=0.7)
    for prompt in PROMPTS:
        groups.add(prompt)
    groups.add(PROMPTS[3] + ", please")
    roots = groups.groups()
    assert roots[20] == roots[3]
    assert len(set(roots.tolist())) == 20


def test_the_split_does_not_depend_on_the_order_of_the_rows() -> None:
    def assign(prompts: list[str]) -> dict[str, bool]:
        groups = PromptGroups(threshold=0.7)
        indexes = [groups.add(p) for p in prompts]
        is_test, _ = groups.assign(0.3, seed=1)
        return {p: bool(is_test[i]) for p, i in zip(prompts, indexes, strict=True)}

    assert assign(PROMPTS) == assign(list(reversed(PROMPTS)))
    assert assign(PROMPTS) != {p: False for p in PROMPTS}


def test_a_pii_string_typed_into_an_annotation_never_reaches_the_export(tmp_path: Path) -> None:
    # given a written response holding an e-mail address and a Chinese mobile number
    secret_mail, secret_phone = "jane.roe@company.org", "13812345678"  # example.com is reserved: not PII
    items = [response_item("a", "How do I reach support?", [f"Write to {secret_mail} or call {secret_phone}."]),
             response_item("b", "Say hello", ["Hello!"])]
    # when exported for sft, redacting
    card = _export(items, tmp_path / "redacted", format="sft", test_fraction=0.0)
    # then no file of the export holds the values; the row is there with placeholders; the card counts it
    everything = b"".join(p.read_bytes() for p in (tmp_path / "redacted").rglob("*") if p.is_file())
    assert secret_mail.encode() not in everything and secret_phone.encode() not in everything
    answers = [r["messages"][-1]["content"] for r in _jsonl_rows(tmp_path / "redacted", "train")]
    assert "Write to <EMAIL> or call <PHONE>." in answers
    parquet = datasets.load_dataset("parquet", data_files=str(tmp_path / "redacted" / "data" / "*.parquet"),
                                    cache_dir=str(tmp_path / "cache"))["train"]
    assert secret_mail not in str(parquet["messages"]) and "<EMAIL>" in str(parquet["messages"])
    assert card["pii"]["rows_redacted"] == 1 and card["pii"]["spans_by_type"] == {"EMAIL": 1, "PHONE": 1}
    # and when dropping instead, the row is gone and counted
    card = _export(items, tmp_path / "dropped", format="sft", test_fraction=0.0, pii_action="drop")
    assert [r["messages"][-1]["content"] for r in _jsonl_rows(tmp_path / "dropped", "train")] == ["Hello!"]
    assert card["removed"]["pii_rows_dropped"] == 1


def test_the_same_inputs_give_the_same_content_hash_and_other_inputs_another(tmp_path: Path) -> None:
    items = [_ranked(n, p) for n, p in enumerate(PROMPTS)]
    first = _export(items, tmp_path / "one", test_fraction=0.2, shard_rows=7)
    second = _export(items, tmp_path / "two", test_fraction=0.2, shard_rows=50, files=["jsonl"])
    third = _export(items[:-1], tmp_path / "three", test_fraction=0.2)
    assert first["content_hash"] == second["content_hash"]
    assert third["content_hash"] != first["content_hash"]
    assert len(first["splits"]["train"]["files"]["jsonl"]) > 1  # sharded


def test_a_13_gram_contaminated_item_is_removed_and_listed(tmp_path: Path) -> None:
    # given an evaluation file whose question an item copies (changed case and punctuation), inside a longer prompt
    question = "A farmer has seventeen sheep and all but nine run away how many sheep does the farmer have left now"
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text(json.dumps({"id": "gsm-42", "question": question, "answer": "nine"}) + "\n"
                         + json.dumps({"id": "short", "question": "too short"}) + "\n")
    copied = "Please solve: " + question.upper().replace(" away", ", away") + "?"
    items = [_ranked(0, copied), _ranked(1, "Describe the smell of rain on a summer afternoon in a city")]
    # when exported against it
    card = _export(items, tmp_path / "out", test_fraction=0.0, eval_paths=[str(eval_file)])
    # then the copied item's rows are gone and listed with the evaluation record and the shared 13-gram
    rows = _jsonl_rows(tmp_path / "out", "train")
    assert rows and all("sheep" not in r["prompt"][-1]["content"].lower() for r in rows)
    listed = [json.loads(line) for line in (tmp_path / "out" / "removed" / "decontamination.jsonl").read_text()
              .splitlines()]
    assert len(listed) == 6  # the item's six pairs
    assert {entry["eval_record"] for entry in listed} == {"gsm-42"}
    assert listed[0]["source"] == "project 1 item item0" and len(listed[0]["ngram"].split()) == 13
    assert card["decontamination"]["rows_removed"] == 6 and card["decontamination"]["too_short"] == 1


def test_a_12_gram_overlap_is_not_contamination(tmp_path: Path) -> None:
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text(json.dumps({"q": "one two three four five six seven eight nine ten eleven twelve "
                                          "thirteen fourteen"}) + "\n")
    items = [_ranked(0, "one two three four five six seven eight nine ten eleven twelve and more")]
    card = _export(items, tmp_path / "out", test_fraction=0.0, eval_paths=[str(eval_file)])
    assert card["decontamination"]["rows_removed"] == 0 and card["splits"]["train"]["rows"] == 6


def test_chinese_is_written_as_utf8_text_never_as_escapes(tmp_path: Path) -> None:
    items = [response_item("zh", "请解释潮汐是怎么形成的。", ["潮汐主要由月球的引力引起。"],
                           system_prompt="你是一个乐于助人的助手。")]
    _export(items, tmp_path / "out", format="sft", test_fraction=0.0)
    text = next((tmp_path / "out" / "data").glob("train-*.jsonl")).read_text(encoding="utf-8")
    assert "潮汐主要由月球的引力引起。" in text and "\\u" not in text
    assert json.loads(text)["messages"][0] == {"role": "system", "content": "你是一个乐于助人的助手。"}


def test_a_finished_export_is_never_overwritten(tmp_path: Path) -> None:
    items = [_ranked(0, PROMPTS[0])]
    _export(items, tmp_path / "out", test_fraction=0.0)
    with pytest.raises(ExportExistsError):
        _export(items, tmp_path / "out", test_fraction=0.0)


def test_a_crashed_export_is_redone_in_place_with_the_same_bytes(tmp_path: Path) -> None:
    items = [_ranked(n, p) for n, p in enumerate(PROMPTS[:5])]
    reference = _export(items, tmp_path / "ref", test_fraction=0.0)
    # given a folder a crashed run left: a temporary shard, no card
    data = tmp_path / "out" / "data"
    data.mkdir(parents=True)
    (data / "train-00000.jsonl.tmp-dead").write_text("half a line")
    # when exported again, then the result is the same export
    again = _export(items, tmp_path / "out", test_fraction=0.0)
    assert again["content_hash"] == reference["content_hash"]
    assert sorted(p.name for p in data.iterdir()) == ["train-00000-of-00001.jsonl", "train-00000-of-00001.parquet"]


@pytest.mark.parametrize("loader,extension", [("json", "jsonl"), ("parquet", "parquet")])
def test_each_file_format_loads_with_datasets_and_matches_the_card(tmp_path: Path, loader: str,
                                                                   extension: str) -> None:
    items = [_ranked(n, p) for n, p in enumerate(PROMPTS)]
    card = _export(items, tmp_path / "out", test_fraction=0.25, shard_rows=30)
    data_files = {split: str(tmp_path / "out" / "data" / f"{split}-*.{extension}") for split in ("train", "test")}
    loaded = datasets.load_dataset(loader, data_files=data_files, cache_dir=str(tmp_path / "cache"))
    assert loaded["train"].num_rows == card["splits"]["train"]["rows"]
    assert loaded["test"].num_rows == card["splits"]["test"]["rows"]
    assert set(loaded["train"].column_names) == {"prompt", "chosen", "rejected", "margin"}
    assert loaded["train"][0]["chosen"][0]["role"] == "assistant"


def test_the_readme_is_a_dataset_card_whose_configs_load(tmp_path: Path) -> None:
    items = [_ranked(n, p) for n, p in enumerate(PROMPTS)]
    card = _export(items, tmp_path / "out", test_fraction=0.25)
    readme = (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    _, front, body = readme.split("---\n", 2)
    meta = yaml.safe_load(front)
    assert meta["task_categories"] == ["text-classification"]
    assert {f["split"] for f in meta["configs"][0]["data_files"]} == {"train", "test"}
    assert card["content_hash"] in body and "## Reproducing" in body
    # the folder itself loads through the card's configs
    loaded = datasets.load_dataset(str(tmp_path / "out"), cache_dir=str(tmp_path / "cache"))
    assert loaded["test"].num_rows == card["splits"]["test"]["rows"]


def test_an_export_to_an_object_store_url_holds_the_same_rows_and_hash(tmp_path: Path) -> None:
    import fsspec

    items = [_ranked(n, p) for n, p in enumerate(PROMPTS[:6])]
    local = _export(items, tmp_path / "local", test_fraction=0.3)
    remote = _export(items, "memory://bucket/exports/reward/v1", test_fraction=0.3)
    assert remote["content_hash"] == local["content_hash"]
    fs = fsspec.filesystem("memory")
    names = sorted(path.rsplit("/", 1)[-1] for path in fs.ls("/bucket/exports/reward/v1/data", detail=False))
    assert names == sorted(p.name for p in (tmp_path / "local" / "data").iterdir())
    with fs.open("/bucket/exports/reward/v1/card.json", "rb") as handle:
        assert json.load(handle)["splits"] == local["splits"]
    assert not [p for p in fs.find("/bucket") if ".tmp-" in p]


def _mixed_items() -> list[ItemRecord]:
    items = []
    for n, prompt in enumerate(PROMPTS * 3):  # each prompt in three items, which land in different parts
        rankings = [[["r1"], ["r2", "r3"], ["r4"]], [["r2"], ["r1"], ["r4"], ["r3"]]][: 1 + n % 2]
        items.append(ranking_item(f"m{n}", prompt + ("" if n % 4 else " 请"), rankings, project=1 + n % 2))
    return items


def test_an_export_built_in_several_processes_writes_the_bytes_and_card_of_one(tmp_path: Path) -> None:
    # given 60 ranking items, cut into three runs in order
    items = _mixed_items()
    spec = ExportSpec(format="reward", test_fraction=0.3, seed=5, shard_rows=7)
    stats = BuildStats()
    one = run_export(spec, item_rows(items, spec, stats), stats, str(tmp_path / "one"), name="t", command="t")
    runs = [items[:17], items[17:18], items[18:]]
    # when each run is built in a child process of its own
    parts = [lambda part_stats, run=run: item_rows(run, spec, part_stats) for run in runs]
    seen: list[int] = []  # items read
    three = run_export_parts(spec, parts, str(tmp_path / "three"), name="t", command="t",
                             progress=lambda stage, done, total: seen.append(done) if stage == "rows" else None)
    # then the files, the hash and every count of the card are those of one process
    assert three.content_hash == one.content_hash
    for split in ("train", "test"):
        assert _jsonl_rows(tmp_path / "three", split) == _jsonl_rows(tmp_path / "one", split)
    for key in ("splits", "sources", "agreement", "margin", "removed", "pii", "split"):
        assert three.card[key] == one.card[key], key
    assert three.stats.items == 60 and seen and seen[-1] == 60


def test_a_part_that_fails_fails_the_export_with_its_own_error_and_leaves_no_card(tmp_path: Path) -> None:
    # given three parts, the second of which holds an item of a kind reward exports cannot read
    spec = ExportSpec(format="reward", test_fraction=0.0)

    def broken(part_stats: BuildStats) -> Any:
        raise BuildError("part two cannot be read")

    parts = [lambda s: item_rows(_mixed_items()[:5], spec, s), broken, lambda s: item_rows(_mixed_items(), spec, s)]
    # when the export runs, then the part's own error is raised here, and nothing says the export is complete
    with pytest.raises(BuildError, match="part two cannot be read"):
        run_export_parts(spec, parts, str(tmp_path / "out"), name="t", command="t")
    assert not (tmp_path / "out" / "card.json").exists()


def test_a_part_killed_by_a_signal_fails_the_export(tmp_path: Path) -> None:
    # given a part whose process dies without a word (as the kernel's OOM killer would end it)
    spec = ExportSpec(format="reward", test_fraction=0.0)

    def killed(part_stats: BuildStats) -> Any:
        os.kill(os.getpid(), signal.SIGKILL)
        return []

    spool = tmp_path / "spool"
    spool.mkdir()
    # when the export runs, then it fails, saying which part died and how, and leaves no spool file behind
    with pytest.raises(RuntimeError, match="part 2 of the export was killed by signal 9"):
        run_export_parts(spec, [lambda s: item_rows(_mixed_items(), spec, s), killed], str(tmp_path / "out"),
                         name="t", command="t", spool_dir=str(spool))
    assert not (tmp_path / "out" / "card.json").exists()
    assert list(spool.iterdir()) == []


def test_prompt_groups_merged_from_parts_split_as_one_collector_would() -> None:
    # given prompts with a crowded bucket (40 variants of one template), repeats, and distinct prompts
    template = ("Write a short story for young readers about a family that moves to a small town by the sea, where "
                "the eldest daughter finds an old map in the attic, follows it along the cliffs with her brother, "
                "meets a fisherman who knew her grandmother, and learns why the lighthouse was closed: variant {}")
    texts = [template.format(n) for n in range(40)] + PROMPTS + PROMPTS[:5]
    texts = [texts[(7 * n) % len(texts)] for n in range(len(texts))] + texts[:9]  # shuffled, with repeats
    whole = PromptGroups(threshold=0.7)
    indices = [whole.add(text) for text in texts]
    one_is_test, one_summary = whole.assign(0.3, seed=4)
    # when three collectors each count a run of them and are merged
    runs = [texts[:20], texts[20:21], texts[21:]]
    parts = [PromptGroups(threshold=0.7) for _ in runs]
    part_indices = [[part.add(text) for text in run] for part, run in zip(parts, runs, strict=True)]
    merged, mappings = PromptGroups.merged(parts)
    is_test, summary = merged.assign(0.3, seed=4)
    # then every prompt lands on the side it lands on from one collector, with the same summary
    merged_indices = [int(mappings[p][i]) for p, run in enumerate(part_indices) for i in run]
    assert [bool(is_test[i]) for i in merged_indices] == [bool(one_is_test[i]) for i in indices]
    assert merged_indices == indices
    assert summary == one_summary and summary.near_duplicate_links > 0


def _line(n: int) -> bytes:
    return json.dumps({"n": n, "text": "字" * (n % 2000)}, ensure_ascii=False).encode() + b"\n"


@pytest.mark.parametrize("chunk", [(1 << 20) + 7, 8 << 20])
def test_the_spool_gives_back_every_run_of_rows_in_order_and_frees_what_pass_2_has_read(
        tmp_path: Path, chunk: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # given 3,000 rows of 1,000 prompts (runs of three), from a few bytes to 6 KB each: several writes of records,
    # read back in chunks whose ends fall inside records, or in one chunk
    monkeypatch.setattr("exports.formats.pipeline._SPOOL_CHUNK", chunk)
    lines = [_line(n) for n in range(3000)]
    with tempfile.TemporaryFile(dir=tmp_path) as handle:
        spool = _Spool(handle)
        for n, line in enumerate(lines):
            spool.add(n // 3, line)
        spool.flush()
        handle.flush()
        written = os.fstat(handle.fileno()).st_blocks
        # when pass 2 reads it
        handle.seek(0)
        records = list(_spooled(handle))
        # then every run comes back whole and in order, and the file no longer holds the blocks it read
        left = os.fstat(handle.fileno()).st_blocks
    assert records == [(index, 3, b"".join(lines[3 * index:3 * index + 3])) for index in range(1000)]
    total = sum(len(line) for line in lines)
    assert total > 4 * (1 << 20)
    if written * 512 < total:
        pytest.skip("this file system stores the spool in fewer blocks than bytes (compression): nothing to measure")
    assert left <= written // 100


def test_the_writing_pass_reports_how_many_rows_it_will_write(tmp_path: Path) -> None:
    # given 60 ranking items built in three parts, and a progress callback
    spec = ExportSpec(format="reward", test_fraction=0.3, seed=5)
    runs = [_mixed_items()[:20], _mixed_items()[20:40], _mixed_items()[40:]]
    reports: list[tuple[str, int, int | None]] = []
    result = run_export_parts(spec, [lambda part_stats, run=run: item_rows(run, spec, part_stats) for run in runs],
                              str(tmp_path / "out"), name="t", command="t",
                              progress=lambda stage, done, total: reports.append((stage, done, total)))
    # then, after reading, the writing pass counts rows against the rows it has to write
    rows = sum(split.rows for split in result.splits.values())
    assert rows > 60
    assert ("write", 0, rows) in reports
    assert [stage for stage, _, _ in reports].index("write") > [stage for stage, _, _ in reports].index("rows")
