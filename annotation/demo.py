"""The demo projects of `make run`: one per kind, with English and Chinese items, so a newcomer can annotate at once.

Safe to re-run: a demo project that exists (by name) is left as it is; the demo users' passwords are reset.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import transaction

from accounts.roles import ANNOTATOR, MANAGER
from accounts.services import user_ensure
from annotation.models import Membership, Project
from annotation.services.items import items_import
from annotation.services.members import membership_add
from annotation.services.projects import project_create

DEMO_LOGINS = (
    ("manager", "manager-demo-pass", MANAGER),
    ("annotator1", "annotator-demo-pass", ANNOTATOR),
    ("annotator2", "annotator-demo-pass", ANNOTATOR),
)
GUIDELINE = """# How to annotate

- Read the whole task before answering. **Judge the content, not the style.**
- Use the keyboard: `?` opens these guidelines, `Ctrl+Enter` submits, `S` skips (say why).
- Unsure? Skip with a reason rather than guess.

# 标注说明

- 先读完整个任务再作答，**看内容，不看文风**。
- 键盘操作：`?` 打开说明，`Ctrl+Enter` 提交，`S` 跳过（请写明原因）。
"""


def _r(*texts: str) -> list[dict[str, str]]:
    return [{"id": f"r{i}", "text": text, "model": f"model-{'abcdefghi'[i - 1]}"} for i, text in enumerate(texts, 1)]


TIDES_EN = "Why does the sea have tides?"
TIDES_ZH = "为什么大海会有潮汐？"
RANKING_ANSWERS_EN = (
    "The Moon's gravity pulls the ocean on the near side, and the Earth is pulled away from the far side, "
    "giving two bulges; Earth turns under them, so most coasts see two high tides a day.",
    "Tides are caused by wind pushing water towards the shore.",
    "Mostly the Moon's gravity, helped by the Sun's; springs tides happen when they line up.",
    "Because the Earth spins.",
    "Gravity differences across the Earth (tidal forces) from the Moon and the Sun stretch the oceans.",
    "Nobody knows for sure.",
    "The Moon pulls water; when it is overhead the tide is high, and again 12 hours later on the other side.",
)

DEMO_PROJECTS: list[dict[str, Any]] = [
    {
        "settings": {"name": "Demo: rate answers (Likert) · 评分", "kind": "likert", "overlap": 2, "scale": 7,
                     "criteria": ["helpfulness", "truthfulness", "harmlessness"]},
        "items": [
            {"id": "likert-en-1", "prompt": TIDES_EN, "responses": _r(RANKING_ANSWERS_EN[0])},
            {"id": "likert-en-2", "prompt": "How do I boil an egg?",
             "responses": _r("Put the egg in boiling water for 7 to 9 minutes, then cool it in cold water.")},
            {"id": "likert-zh-1", "prompt": TIDES_ZH,
             "responses": _r("潮汐主要由月球的引力造成，太阳的引力也有一定作用。")},
            {"id": "likert-zh-2", "prompt": "推荐一本适合初学者的编程书。",
             "responses": _r("可以从《Python编程：从入门到实践》开始，它讲解清楚，练习也多。")},
        ],
    },
    {
        "settings": {"name": "Demo: compare two answers (pairwise) · 两两比较", "kind": "pairwise", "overlap": 2},
        "items": [
            {"id": "pair-en-1", "prompt": TIDES_EN, "responses": _r(RANKING_ANSWERS_EN[0], RANKING_ANSWERS_EN[1])},
            {"id": "pair-en-2", "prompt": "Give me a synonym for 'happy'.", "responses": _r("Joyful.", "Sad.")},
            {"id": "pair-zh-1", "prompt": "“画蛇添足”是什么意思？",
             "responses": _r("比喻做了多余的事，反而不恰当。", "指画画的技术很高。")},
        ],
    },
    {
        "settings": {"name": "Demo: rank answers · 排序", "kind": "ranking", "overlap": 2, "round_size": 5},
        "items": [
            {"id": "rank-en-1", "prompt": TIDES_EN, "responses": _r(*RANKING_ANSWERS_EN[:4])},
            {"id": "rank-en-rounds", "prompt": TIDES_EN + " (seven answers, shown in rounds)",
             "responses": _r(*RANKING_ANSWERS_EN)},
            {"id": "rank-zh-1", "prompt": "北京有哪些值得一去的地方？",
             "responses": _r("故宫、长城、颐和园和天坛都值得一去。", "北京没有什么好玩的。",
                             "可以去故宫。", "推荐去长城，尤其是慕田峪段，人比八达岭少。")},
        ],
    },
    {
        "settings": {"name": "Demo: write instructions · 编写指令", "kind": "instruction", "overlap": 2,
                     "categories": ["brainstorm", "open_qa", "rewrite", "classification"], "min_length": 10,
                     "instruction_format": "plain"},
        "items": [
            {"id": "instr-en-1", "prompt": "Write an instruction a user might give a helpful assistant about "
                                           "planning a trip.", "metadata": {"category": "brainstorm"}},
            {"id": "instr-en-2", "prompt": "Write a question whose answer is a fact about science.",
             "metadata": {"category": "open_qa"}},
            {"id": "instr-zh-1", "prompt": "写一条请助手改写一段文字的指令。", "metadata": {"category": "rewrite"}},
        ],
    },
    {
        "settings": {"name": "Demo: write answers · 编写回答", "kind": "response", "overlap": 1, "min_length": 10,
                     "pii_policy": "block"},
        "items": [
            {"id": "resp-en-1", "prompt": "Explain in two sentences why the sky is blue."},
            {"id": "resp-en-multi", "messages": [
                {"role": "user", "content": "I want to learn to cook."},
                {"role": "assistant", "content": "Great! What kind of food do you like?"},
                {"role": "user", "content": "Italian, but I only have 20 minutes on weeknights."}]},
            {"id": "resp-zh-1", "prompt": "用简单的话解释什么是光合作用。"},
        ],
    },
    {
        "settings": {"name": "Demo: label documents · 文档标注", "kind": "label", "overlap": 1,
                     "labels": ["useful", "spam", "adult", "low_quality"], "multi_label": True},
        "items": [
            {"id": "doc-en-1", "prompt": "BUY CHEAP WATCHES!!! Best prices click here click here click here"},
            {"id": "doc-en-2", "prompt": "The mitochondrion is an organelle found in most eukaryotic cells. It "
                                         "produces most of the cell's supply of ATP."},
            {"id": "doc-zh-1", "prompt": "长城是中国古代的军事防御工程，始建于春秋战国时期，全长两万多公里。"},
            {"id": "doc-zh-2", "prompt": "点击这里免费领取大奖！！！限时优惠，快来快来快来"},
        ],
    },
]


def demo_projects_ensure() -> list[tuple[Project, bool]]:
    """Create the demo users and any missing demo project with its items and members; return (project, created)."""
    users = {name: user_ensure(name, password, role=role) for name, password, role in DEMO_LOGINS}
    results = []
    for spec in DEMO_PROJECTS:
        settings = dict(spec["settings"])
        existing = Project.objects.filter(name=settings["name"]).first()
        if existing is not None:
            results.append((existing, False))
            continue
        with transaction.atomic():
            project = project_create(created_by=users["manager"], guideline=GUIDELINE, **settings)
            report = items_import(project, [json.dumps(item, ensure_ascii=False) for item in spec["items"]])
            if report.errors:
                raise RuntimeError(f"demo items of {project.name} are invalid: {report.errors}")
            for name, _, role in DEMO_LOGINS:
                if role == ANNOTATOR:
                    membership_add(project, users[name], Membership.ROLE_ANNOTATOR)
        results.append((project, True))
    return results
