"""A small bilingual demo corpus and demo exports, written by the project itself (no network, no copied text).

Questions and answers in English and Chinese about made-up facts of everyday things, from fixed word lists and a
seeded generator, so every call returns the same rows. They serve three purposes:
- the text the tiny model's tokenizer is trained on (`corpus_lines`);
- demo exports in the exports issue's formats (`write_demo_export`): `sft` as `messages`, `reward` and `dpo` in
  trl's explicit-prompt conversational form, `ppo` as `prompt` messages, each with a `card.json` carrying a
  `content_hash`, as the exports app writes them;
- a learnable preference signal: the chosen answer states the fact politely, the rejected one is a curt refusal,
  so a reward model can learn to tell them apart in a few dozen steps.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Message = dict[str, str]

EN_THINGS = [
    ("the kettle", "boils water in about three minutes"), ("the garden", "needs water every second evening"),
    ("the old bicycle", "has a blue frame and a squeaky bell"), ("the library", "opens at nine on Saturdays"),
    ("the river", "floods a little every spring"), ("the bakery", "sells rye bread before eight"),
    ("the night train", "leaves the station at half past ten"), ("the cat", "sleeps on the warm windowsill"),
    ("the tomato plants", "grow best against the south wall"), ("the lighthouse", "flashes twice every minute"),
    ("the market", "is busiest on Friday mornings"), ("the piano", "was tuned last October"),
    ("the mountain path", "takes two hours to climb"), ("the museum", "is free on the first Sunday"),
    ("the bread dough", "rises for an hour in a warm room"), ("the school bus", "stops at the corner at eight"),
]
ZH_THINGS = [
    ("水壶", "大约三分钟就能把水烧开"), ("花园", "每隔一个晚上需要浇一次水"), ("旧自行车", "是蓝色的车架，车铃有点响"),
    ("图书馆", "星期六早上九点开门"), ("小河", "每年春天会涨一点水"), ("面包店", "早上八点前卖黑麦面包"),
    ("夜班火车", "晚上十点半从车站出发"), ("小猫", "喜欢睡在温暖的窗台上"), ("番茄", "靠着南墙长得最好"),
    ("灯塔", "每分钟闪两次光"), ("菜市场", "星期五早上人最多"), ("钢琴", "去年十月调过音"),
    ("山路", "要走两个小时才能爬到顶"), ("博物馆", "每个月第一个星期天免费"), ("面团", "在温暖的房间里发酵一个小时"),
    ("校车", "早上八点停在街角"),
]
EN_QUESTIONS = ["Tell me about {thing}.", "What do you know about {thing}?", "Say something about {thing}.",
                "Describe {thing} in one sentence."]
ZH_QUESTIONS = ["请介绍一下{thing}。", "关于{thing}你知道什么？", "说说{thing}吧。", "用一句话描述{thing}。"]
EN_REFUSALS = ["I don't know.", "No idea.", "Ask someone else.", "I can't say."]
ZH_REFUSALS = ["我不知道。", "不清楚。", "去问别人吧。", "没法说。"]


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def qa_pairs(seed: int = 0) -> list[tuple[str, str, str]]:
    """Every (language, question, answer) pair of the demo, in a fixed order shuffled by `seed`."""
    pairs: list[tuple[str, str, str]] = []
    for thing, fact in EN_THINGS:
        for question in EN_QUESTIONS:
            pairs.append(("en", question.format(thing=thing), f"{_capital(thing)} {fact}."))
    for thing, fact in ZH_THINGS:
        for question in ZH_QUESTIONS:
            pairs.append(("zh", question.format(thing=thing), f"{thing}{fact}。"))
    random.Random(seed).shuffle(pairs)
    return pairs


def corpus_lines() -> Iterator[str]:
    """Text to train a tokenizer on: the questions, answers and refusals of both languages."""
    for _, question, answer in qa_pairs():
        yield question
        yield answer
    yield from EN_REFUSALS
    yield from ZH_REFUSALS


def _user(text: str) -> list[Message]:
    return [{"role": "user", "content": text}]


def _assistant(text: str) -> list[Message]:
    return [{"role": "assistant", "content": text}]


def demo_rows(dataset_format: str, *, seed: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
    """The demo rows of one export format (sft, reward, dpo, ppo)."""
    rng = random.Random(seed)
    rows: list[dict[str, Any]] = []
    for lang, question, answer in qa_pairs(seed):
        refusal = rng.choice(EN_REFUSALS if lang == "en" else ZH_REFUSALS)
        if dataset_format == "sft":
            rows.append({"messages": _user(question) + _assistant(answer)})
        elif dataset_format in ("reward", "dpo"):
            rows.append({"prompt": _user(question), "chosen": _assistant(answer), "rejected": _assistant(refusal)})
        elif dataset_format == "ppo":
            rows.append({"prompt": _user(question)})
        else:
            raise ValueError(f"unknown export format: {dataset_format}")
    return rows[:limit] if limit is not None else rows


def write_export(directory: Path, dataset_format: str, train: list[dict[str, Any]],
                 test: list[dict[str, Any]] | None = None) -> Path:
    """Write rows as an export folder: `train.jsonl` (and `test.jsonl`) plus `card.json` with the content hash."""
    directory.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    for split, rows in (("train", train), ("test", test or [])):
        if not rows:
            continue
        text = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
        (directory / f"{split}.jsonl").write_text(text, encoding="utf-8")
        digest.update(split.encode())
        digest.update(text.encode("utf-8"))
    card = {"format": dataset_format, "content_hash": digest.hexdigest(),
            "counts": {"train": len(train), "test": len(test or [])}, "source": "training.runner.demo"}
    (directory / "card.json").write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return directory


def write_demo_export(directory: Path, dataset_format: str, *, limit: int | None = None,
                      test_rows: int = 8) -> Path:
    """Write the demo export of one format; the last `test_rows` rows are held out as `test`."""
    rows = demo_rows(dataset_format, limit=limit)
    held = min(test_rows, max(0, len(rows) - 1))
    return write_export(directory, dataset_format, rows[: len(rows) - held], rows[len(rows) - held:])
