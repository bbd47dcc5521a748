"""Check a submitted payload against its project's kind and the assignment it answers; return its stored form.

Payloads (issue 9, item 7):
- likert      {"ratings": {"<criterion>": 1..scale}}  every criterion of the project, integers only; an item with
              several responses is rated per response: {"ratings": {"<response id>": {"<criterion>": 1..scale}}}
- pairwise    {"choice": "a"|"b"|"tie", "strength": 1..3}  "a" is the first response of the display order;
              strength is required for "a" and "b" and optional for "tie"
- ranking     {"ranking": [["r1"], ["r3", "r2"], ["r4"]], "all_bad"?: bool}  groups best first, every response once;
              an assignment served in rounds answers {"rounds": [<ranking of round 1>, ...], "all_bad"?: bool}
              and the stored payload gains the merged "ranking" (see `ordering.merge_rounds`)
- instruction {"instruction": str, "category": str, "examples"?: [{"input", "output"}], "reasoning"?: str,
              "turns"?: [{"role": "user"|"assistant", "content"}]}  few_shot needs examples, chain_of_thought
              reasoning, multi_turn turns (earlier turns, alternating, starting with the user)
- response    {"response": str}
- label       {"labels": [str]}  labels of the project; exactly one unless the project is multi-label
Nothing here touches the database; a re-run gives the same answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from django.utils.translation import gettext as _

from annotation.services import ordering
from core.errors import ValidationError

PAIRWISE_CHOICES = ("a", "b", "tie")
STRENGTHS = (1, 2, 3)
TURN_ROLES = ("user", "assistant")


class ProjectSettings(Protocol):
    kind: str
    scale: int
    criteria: Any
    labels: Any
    multi_label: bool
    categories: Any
    instruction_format: str


def _fields(payload: Any, required: Sequence[str], optional: Sequence[str] = ()) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ValidationError(_("payload must be a JSON object"), field="payload")
    missing = [key for key in required if key not in payload]
    if missing:
        raise ValidationError(_("payload is missing %(fields)s") % {"fields": ", ".join(missing)}, field="payload")
    unknown = sorted(set(payload) - set(required) - set(optional))
    if unknown:
        raise ValidationError(_("payload has unexpected fields: %(fields)s") % {"fields": ", ".join(unknown)},
                              field="payload")
    return payload


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(payload: dict[str, Any], key: str, *, required: bool = True) -> str:
    value = payload.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise ValidationError(_("%(field)s must be text") % {"field": key}, field=key)
    if required and not value.strip():
        raise ValidationError(_("%(field)s cannot be empty") % {"field": key}, field=key)
    return value


def _ratings(project: ProjectSettings, ratings: Any, field: str) -> dict[str, int]:
    if not isinstance(ratings, dict):
        raise ValidationError(_("%(field)s must be an object of criterion: score") % {"field": field}, field="ratings")
    missing = [c for c in project.criteria if c not in ratings]
    unknown = sorted(set(ratings) - set(project.criteria))
    if missing:
        raise ValidationError(_("%(field)s are missing criteria: %(criteria)s")
                              % {"field": field, "criteria": ", ".join(missing)}, field="ratings")
    if unknown:
        raise ValidationError(_("%(field)s have unknown criteria: %(criteria)s")
                              % {"field": field, "criteria": ", ".join(unknown)}, field="ratings")
    for criterion, score in ratings.items():
        if not _is_int(score) or not 1 <= score <= project.scale:
            raise ValidationError(_("rating of %(criterion)s must be an integer from 1 to %(scale)s")
                                  % {"criterion": criterion, "scale": project.scale}, field="ratings")
    return {c: ratings[c] for c in project.criteria}


def _likert(project: ProjectSettings, payload: Any, response_ids: Sequence[str]) -> dict[str, Any]:
    _fields(payload, ["ratings"])
    ratings = payload["ratings"]
    if len(response_ids) <= 1:
        return {"ratings": _ratings(project, ratings, "ratings")}
    # Several responses: one set of ratings per response, keyed by response id.
    if not isinstance(ratings, dict) or set(ratings) != set(response_ids):
        raise ValidationError(_("ratings must rate each response: an object keyed by %(responses)s")
                              % {"responses": ", ".join(response_ids)}, field="ratings")
    return {"ratings": {r: _ratings(project, ratings[r], _("ratings of %(response)s") % {"response": r})
                        for r in response_ids}}


def _pairwise(payload: Any) -> dict[str, Any]:
    _fields(payload, ["choice"], ["strength"])
    choice = payload["choice"]
    if choice not in PAIRWISE_CHOICES:
        raise ValidationError(_('choice must be "a", "b" or "tie"'), field="choice")
    strength = payload.get("strength")
    if strength is None and choice != "tie":
        raise ValidationError(_("strength (1 to 3) is required when choosing a or b"), field="strength")
    if strength is not None and (not _is_int(strength) or strength not in STRENGTHS):
        raise ValidationError(_("strength must be 1, 2 or 3"), field="strength")
    return {"choice": choice, "strength": strength}


def _groups(value: Any, ids: Sequence[str], field: str) -> list[list[str]]:
    """Check a ranking (groups best first) covers each of `ids` exactly once."""
    if not isinstance(value, list) or not value:
        raise ValidationError(_("%(field)s must be a non-empty list of groups of response ids") % {"field": field},
                              field=field)
    seen: list[str] = []
    for group in value:
        if not isinstance(group, list) or not group or not all(isinstance(r, str) for r in group):
            raise ValidationError(_("each group of %(field)s must be a non-empty list of response ids")
                                  % {"field": field}, field=field)
        seen.extend(group)
    duplicates = sorted({r for r in seen if seen.count(r) > 1})
    unknown = sorted(set(seen) - set(ids))
    missing = [r for r in ids if r not in seen]
    if duplicates:
        raise ValidationError(_("%(field)s names responses more than once: %(responses)s")
                              % {"field": field, "responses": ", ".join(duplicates)}, field=field)
    if unknown:
        raise ValidationError(_("%(field)s names unknown responses: %(responses)s")
                              % {"field": field, "responses": ", ".join(unknown)}, field=field)
    if missing:
        raise ValidationError(_("%(field)s leaves out responses: %(responses)s")
                              % {"field": field, "responses": ", ".join(missing)}, field=field)
    return [list(group) for group in value]


def _all_bad(payload: dict[str, Any]) -> bool:
    value = payload.get("all_bad", False)
    if not isinstance(value, bool):
        raise ValidationError(_("all_bad must be true or false"), field="all_bad")
    return value


def _ranking(payload: Any, response_ids: Sequence[str], rounds: Sequence[Sequence[str]] | None) -> dict[str, Any]:
    if rounds:
        _fields(payload, ["rounds"], ["all_bad"])
        answers = payload["rounds"]
        if not isinstance(answers, list) or len(answers) != len(rounds):
            raise ValidationError(_("rounds must be a list of %(count)s rankings, one per round")
                                  % {"count": len(rounds)}, field="rounds")
        ranked = [_groups(answer, ids, f"rounds[{i}]")
                  for i, (answer, ids) in enumerate(zip(answers, rounds, strict=True))]
        merged = ordering.merge_rounds(ranked, list(response_ids))
        return {"ranking": merged, "rounds": ranked, "all_bad": _all_bad(payload)}
    _fields(payload, ["ranking"], ["all_bad"])
    return {"ranking": _groups(payload["ranking"], response_ids, "ranking"), "all_bad": _all_bad(payload)}


def _instruction(project: ProjectSettings, payload: Any) -> dict[str, Any]:
    _fields(payload, ["instruction", "category"], ["examples", "reasoning", "turns"])
    cleaned: dict[str, Any] = {"instruction": _text(payload, "instruction"), "category": _text(payload, "category")}
    if project.categories and cleaned["category"] not in project.categories:
        raise ValidationError(_("category must be one of %(categories)s")
                              % {"categories": ", ".join(project.categories)}, field="category")
    examples = payload.get("examples")
    if examples is not None:
        if not isinstance(examples, list) or not all(
            isinstance(e, dict) and set(e) == {"input", "output"} and all(isinstance(v, str) and v.strip()
                                                                          for v in e.values())
            for e in examples
        ):
            raise ValidationError(_('examples must be a list of {"input": text, "output": text}'), field="examples")
        cleaned["examples"] = examples
    if project.instruction_format == "few_shot" and not examples:
        raise ValidationError(_("a few-shot instruction needs at least one example"), field="examples")
    reasoning = _text(payload, "reasoning", required=project.instruction_format == "chain_of_thought")
    if reasoning:
        cleaned["reasoning"] = reasoning
    turns = payload.get("turns")
    if turns is not None:
        if not isinstance(turns, list) or not all(
            isinstance(t, dict) and set(t) == {"role", "content"} and t["role"] in TURN_ROLES
            and isinstance(t["content"], str) and t["content"].strip() for t in turns
        ):
            raise ValidationError(_('turns must be a list of {"role": "user"|"assistant", "content": text}'),
                                  field="turns")
        if any(turn["role"] != TURN_ROLES[i % 2] for i, turn in enumerate(turns)):
            raise ValidationError(_("turns must alternate user, assistant, starting with the user"), field="turns")
        if turns and turns[-1]["role"] != "assistant":
            raise ValidationError(_("the earlier turns must end with the assistant's answer"), field="turns")
        cleaned["turns"] = turns
    if project.instruction_format == "multi_turn" and not turns:
        raise ValidationError(_("a multi-turn instruction needs the earlier turns"), field="turns")
    return cleaned


def _label(project: ProjectSettings, payload: Any) -> dict[str, Any]:
    _fields(payload, ["labels"])
    labels = payload["labels"]
    if not isinstance(labels, list) or not labels or not all(isinstance(label, str) for label in labels):
        raise ValidationError(_("labels must be a non-empty list of labels"), field="labels")
    unknown = sorted(set(labels) - set(project.labels))
    if unknown:
        raise ValidationError(_("unknown labels: %(labels)s") % {"labels": ", ".join(unknown)}, field="labels")
    if len(set(labels)) != len(labels):
        raise ValidationError(_("labels repeat"), field="labels")
    if not project.multi_label and len(labels) != 1:
        raise ValidationError(_("choose exactly one label"), field="labels")
    return {"labels": labels}


def payload_clean(project: ProjectSettings, payload: Any, *, response_ids: Sequence[str] = (),
                  rounds: Sequence[Sequence[str]] | None = None) -> dict[str, Any]:
    """Return the payload as stored, or raise ValidationError saying what does not fit the project's kind."""
    kind = project.kind
    if kind == "likert":
        return _likert(project, payload, response_ids)
    if kind == "pairwise":
        return _pairwise(payload)
    if kind == "ranking":
        return _ranking(payload, response_ids, rounds)
    if kind == "instruction":
        return _instruction(project, payload)
    if kind == "response":
        _fields(payload, ["response"])
        return {"response": _text(payload, "response")}
    if kind == "label":
        return _label(project, payload)
    raise ValidationError(_("unknown project kind %(kind)s") % {"kind": repr(kind)})


def written_text(kind: str, payload: dict[str, Any]) -> str:
    """The text a person wrote in a payload (instruction or response), for the writing checks; "" otherwise."""
    if kind == "instruction":
        return str(payload.get("instruction", ""))
    if kind == "response":
        return str(payload.get("response", ""))
    return ""
