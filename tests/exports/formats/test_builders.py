"""Rows of the writing kinds: sft from responses and chain-of-thought instructions, ppo prompts, conversations."""

from __future__ import annotations

from exports.formats.builders import BuildStats, ppo_rows, preference_rows, sft_rows
from exports.formats.records import AnnotationRecord, ItemRecord
from exports.formats.spec import ExportSpec
from exports.formats.writers import json_line


def _instruction(item: str, payload: dict[str, object], system_prompt: str = "") -> ItemRecord:
    return ItemRecord(project=5, item=item, kind="instruction", prompt="Category: open QA",
                      system_prompt=system_prompt, annotations=[AnnotationRecord("w", payload)])


def test_a_multi_turn_chain_of_thought_instruction_becomes_a_full_conversation() -> None:
    # given an instruction written with earlier turns, few-shot examples and a worked chain of thought
    payload = {"instruction": "And how far is the Moon?", "category": "open QA",
               "examples": [{"input": "How far is Mars?", "output": "About 225 million km on average."}],
               "reasoning": "The Moon's mean distance is about 384,400 km.",
               "turns": [{"role": "user", "content": "What makes tides?"},
                         {"role": "assistant", "content": "Mostly the Moon's gravity."}]}
    rows = list(sft_rows([_instruction("i", payload, system_prompt="Be exact.")], ExportSpec(format="sft"),
                         BuildStats()))
    # then the row holds system, earlier turns, the instruction with its example, and the reasoning as the answer
    (row,) = rows
    messages = row.row["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user", "assistant"]
    assert messages[3]["content"].startswith("And how far is the Moon?\n\nExample 1:\ninput: How far is Mars?")
    assert messages[4]["content"] == "The Moon's mean distance is about 384,400 km."


def test_an_instruction_without_an_answer_is_a_prompt_not_a_demonstration() -> None:
    item = _instruction("p", {"instruction": "Name a river.", "category": "open QA"})
    stats = BuildStats()
    assert list(sft_rows([item], ExportSpec(format="sft"), stats)) == []
    assert stats.removed == {"instructions_without_answer": 1}
    # and it is a ppo prompt, once however often it was written
    again = _instruction("q", {"instruction": "Name a river.", "category": "open QA"})
    stats = BuildStats()
    rows = list(ppo_rows([item, again], ExportSpec(format="ppo"), stats))
    assert [r.row["prompt"] for r in rows] == [[{"role": "user", "content": "Name a river."}]]
    assert stats.removed == {"duplicate_prompts": 1}


def test_prompt_completion_layout_splits_the_answer_off() -> None:
    item = ItemRecord(project=2, item="r", kind="response", prompt="Say hi",
                      messages=[{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi!"}],
                      annotations=[AnnotationRecord("w", {"response": "Hi again."})])
    (row,) = list(sft_rows([item], ExportSpec(format="sft", style="prompt_completion"), BuildStats()))
    assert row.row == {"prompt": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi!"},
                                  {"role": "user", "content": "Say hi"}],
                       "completion": [{"role": "assistant", "content": "Hi again."}]}


def _ranked_texts(texts: dict[str, str], system_prompt: str = "") -> ItemRecord:
    return ItemRecord(project=1, item="t", kind="ranking", prompt='Say "hi"\n\tto 世界 🌍', system_prompt=system_prompt,
                      responses=[{"id": rid, "text": text} for rid, text in texts.items()],
                      annotations=[AnnotationRecord("a", {"ranking": [["r1"], ["r2"], ["r3"]]})])


def test_the_lines_built_from_shared_pieces_are_the_bytes_json_line_writes() -> None:
    # given a ranking whose texts hold quotes, control characters, Chinese and an emoji, with and without a system
    texts = {"r1": 'a "quoted" answer\n', "r2": "中文回答，带标点。", "r3": "emoji 🎉 and \\ backslash\x01"}
    for style in ("explicit", "implicit"):
        for system_prompt in ("", "Be brief."):
            spec = ExportSpec(format="reward", style=style)
            # when its rows are built
            rows = list(preference_rows([_ranked_texts(texts, system_prompt)], spec, BuildStats()))
            # then each row's line is exactly what json_line makes of its dict
            assert len(rows) == 3
            for built in rows:
                assert built.line == json_line(built.row)


def test_a_text_with_a_lone_surrogate_leaves_its_rows_to_json_lines_repair() -> None:
    # given a response holding half of a UTF-16 surrogate pair (text pasted from a broken source)
    item = _ranked_texts({"r1": "fine", "r2": "broken \ud800 text", "r3": "also fine"})
    # when its rows are built, then none carries a line, and json_line repairs the dict
    rows = list(preference_rows([item], ExportSpec(format="reward"), BuildStats()))
    assert rows and all(built.line is None for built in rows)
    assert b"broken \xef\xbf\xbd text" in b"".join(json_line(built.row) for built in rows)
