"""Payload validation per kind: the right shape is stored, anything else is refused saying what is wrong."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import translation

from annotation.services.payloads import payload_clean
from core.errors import ValidationError


def _project(kind: str, **settings: Any) -> Any:
    defaults = {"scale": 5, "criteria": ["helpfulness", "harmlessness"], "labels": ["spam", "ok", "toxic"],
                "multi_label": False, "categories": ["qa", "brainstorm"], "instruction_format": "plain"}
    return SimpleNamespace(kind=kind, **{**defaults, **settings})


def _ids(kind: str) -> list[str]:
    return ["r1"] if kind == "likert" else ["r1", "r2", "r3"]


@pytest.mark.parametrize(("kind", "payload", "options", "fragment"), [
    ("likert", {"ratings": {"helpfulness": 4}}, {}, "missing criteria: harmlessness"),
    ("likert", {"ratings": {"helpfulness": 6, "harmlessness": 1}}, {}, "from 1 to 5"),
    ("likert", {"ratings": {"helpfulness": 4.5, "harmlessness": 1}}, {}, "integer"),
    ("likert", {"ratings": {"helpfulness": 4, "harmlessness": 1, "style": 2}}, {}, "unknown criteria: style"),
    ("likert", {"ratings": {"helpfulness": True, "harmlessness": 1}}, {}, "integer"),
    ("pairwise", {"choice": "c", "strength": 1}, {}, 'choice must be "a", "b" or "tie"'),
    ("pairwise", {"choice": "a"}, {}, "strength"),
    ("pairwise", {"choice": "b", "strength": 4}, {}, "strength must be 1, 2 or 3"),
    ("ranking", {"ranking": [["r1"], ["r2"]]}, {}, "leaves out responses: r3"),
    ("ranking", {"ranking": [["r1", "r1"], ["r2", "r3"]]}, {}, "more than once: r1"),
    ("ranking", {"ranking": [["r1"], ["r2"], ["r3"], ["r9"]]}, {}, "unknown responses: r9"),
    ("ranking", {"ranking": [["r1"], ["r2"], ["r3"]], "all_bad": "no"}, {}, "all_bad"),
    ("instruction", {"instruction": "  ", "category": "qa"}, {}, "instruction cannot be empty"),
    ("instruction", {"instruction": "Explain tides", "category": "poetry"}, {}, "category must be one of"),
    ("instruction", {"instruction": "Explain tides", "category": "qa"}, {"instruction_format": "few_shot"},
     "at least one example"),
    ("instruction", {"instruction": "Explain tides", "category": "qa"}, {"instruction_format": "chain_of_thought"},
     "reasoning"),
    ("instruction", {"instruction": "And now?", "category": "qa", "turns": [{"role": "assistant", "content": "x"}]},
     {"instruction_format": "multi_turn"}, "alternate"),
    ("response", {"response": ""}, {}, "response cannot be empty"),
    ("response", {"answer": "x"}, {}, "missing response"),
    ("label", {"labels": ["spam", "ok"]}, {}, "exactly one label"),
    ("label", {"labels": ["weird"]}, {"multi_label": True}, "unknown labels: weird"),
    ("label", "spam", {}, "JSON object"),
])
def test_a_payload_that_does_not_fit_its_kind_is_refused_saying_why(kind, payload, options, fragment):
    with pytest.raises(ValidationError) as refused:
        payload_clean(_project(kind, **options), payload, response_ids=_ids(kind))
    assert fragment in str(refused.value.message)


@pytest.mark.parametrize(("kind", "payload", "options"), [
    ("likert", {"ratings": {"harmlessness": 5, "helpfulness": 1}}, {}),
    ("pairwise", {"choice": "tie"}, {}),
    ("pairwise", {"choice": "a", "strength": 3}, {}),
    ("ranking", {"ranking": [["r2"], ["r3", "r1"]], "all_bad": True}, {}),
    ("instruction", {"instruction": "Write a haiku", "category": "brainstorm",
                     "examples": [{"input": "sea", "output": "waves fold..."}]}, {"instruction_format": "few_shot"}),
    ("instruction", {"instruction": "And in French?", "category": "qa",
                     "turns": [{"role": "user", "content": "Say hi"}, {"role": "assistant", "content": "Hi"}]},
     {"instruction_format": "multi_turn"}),
    ("response", {"response": "Tides come from the moon's pull."}, {}),
    ("label", {"labels": ["spam", "toxic"]}, {"multi_label": True}),
])
def test_a_payload_that_fits_is_stored(kind, payload, options):
    cleaned = payload_clean(_project(kind, **options), payload, response_ids=_ids(kind))
    for key, value in payload.items():
        assert cleaned[key] == value


def test_likert_with_several_responses_rates_each():
    project = _project("likert")
    ok = {"ratings": {"r1": {"helpfulness": 2, "harmlessness": 3}, "r2": {"helpfulness": 5, "harmlessness": 5}}}

    assert payload_clean(project, ok, response_ids=["r1", "r2"]) == ok
    with pytest.raises(ValidationError):
        payload_clean(project, {"ratings": {"helpfulness": 2, "harmlessness": 3}}, response_ids=["r1", "r2"])


def test_ranking_in_rounds_is_merged_into_one_order():
    rounds = [["a", "b", "c"], ["c", "d", "e"]]
    payload = {"rounds": [[["a"], ["b"], ["c"]], [["c"], ["d"], ["e"]]]}

    cleaned = payload_clean(_project("ranking"), payload, response_ids=["a", "b", "c", "d", "e"], rounds=rounds)

    assert cleaned["ranking"] == [["a"], ["b"], ["c"], ["d"], ["e"]]
    assert cleaned["rounds"] == payload["rounds"] and cleaned["all_bad"] is False
    with pytest.raises(ValidationError):
        payload_clean(_project("ranking"), {"rounds": payload["rounds"][:1]}, response_ids=list("abcde"),
                      rounds=rounds)


@pytest.mark.parametrize(("kind", "payload", "message"), [
    ("ranking", {"ranking": [["r1"], ["r2"]]}, "ranking 漏掉了回答：r3"),
    ("likert", {"ratings": {"helpfulness": 6, "harmlessness": 1}}, "helpfulness 的评分必须是 1 到 5 之间的整数"),
    ("pairwise", {"choice": "a"}, "选择 a 或 b 时必须给出 strength（1 到 3）"),
    ("label", {"labels": ["spam", "ok"]}, "请只选择一个标签"),
])
def test_a_refusal_is_in_the_active_language(kind, payload, message):
    with translation.override("zh-hans"), pytest.raises(ValidationError) as chinese:
        payload_clean(_project(kind), payload, response_ids=_ids(kind))
    with translation.override(None), pytest.raises(ValidationError) as untranslated:
        payload_clean(_project(kind), payload, response_ids=_ids(kind))

    assert chinese.value.message == message
    assert untranslated.value.message != message and untranslated.value.message.isascii()
