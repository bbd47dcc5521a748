"""Writing checks: near-duplicate instructions (curation MinHash), PII (block or warn), minimum length, language."""

from __future__ import annotations

import pytest

from annotation.services.assignments import assignment_claim_next, assignment_submit
from annotation.services.checks import writing_checks
from core.errors import ValidationError

BASE = "Write a short poem about the autumn rain falling on the quiet old harbour at night"


def _instruction(text: str) -> dict[str, str]:
    return {"instruction": text, "category": "brainstorm"}


@pytest.mark.django_db
def test_a_near_duplicate_instruction_is_warned_about_with_the_similar_ones(make_project, make_annotators):
    project = make_project("instruction", items=2, overlap=1, pii_policy="off")
    (first,) = make_annotators(1, project)
    lease = assignment_claim_next(first, project)
    assignment_submit(first, lease.pk, _instruction(BASE))

    near = writing_checks(project, _instruction(BASE + "!"))
    other = writing_checks(project, _instruction("Explain how a bicycle gear system trades force for speed uphill"))

    (warning,) = [w for w in near.warnings if w["code"] == "near_duplicate"]
    assert warning["similar"][0]["text"] == BASE
    assert warning["similar"][0]["item_id"] == lease.item.external_id
    assert warning["similar"][0]["similarity"] >= project.duplicate_threshold
    assert not [w for w in other.warnings if w["code"] == "near_duplicate"]


@pytest.mark.django_db
def test_the_duplicate_index_sees_instructions_submitted_after_it_was_built(make_project, make_annotators):
    project = make_project("instruction", items=3, overlap=1, pii_policy="off")
    (user,) = make_annotators(1, project)
    assert not writing_checks(project, _instruction(BASE)).warnings  # builds the (empty) index
    lease = assignment_claim_next(user, project)
    assignment_submit(user, lease.pk, _instruction(BASE))

    again = writing_checks(project, _instruction(BASE))

    assert [w["code"] for w in again.warnings] == ["near_duplicate"]


@pytest.mark.django_db
def test_pii_blocks_or_warns_as_the_project_sets(make_project):
    text = {"response": "Call me on 13812345678 or mail zhang.wei@gmail.com for the details of the trip."}
    blocking = writing_checks(make_project("response", pii_policy="block"), text)
    warning = writing_checks(make_project("response", pii_policy="warn"), text)
    off = writing_checks(make_project("response", pii_policy="off"), text)

    assert [b["code"] for b in blocking.blocking] == ["pii"] and "EMAIL" in blocking.blocking[0]["types"]
    assert [w["code"] for w in warning.warnings] == ["pii"] and not warning.blocking
    assert not off.blocking and not off.warnings


@pytest.mark.django_db
def test_too_short_text_blocks_and_a_foreign_language_warns(make_project):
    project = make_project("response", min_length=20, language="zh", pii_policy="off")

    short = writing_checks(project, {"response": "太短了"})
    english = writing_checks(project, {"response": "This answer is written in English rather than in Chinese."})
    chinese = writing_checks(project, {"response": "潮汐主要是由月球和太阳对地球海水的引力作用造成的周期性涨落现象。"})

    assert [b["code"] for b in short.blocking] == ["too_short"]
    assert [w["code"] for w in english.warnings] == ["language"] and english.warnings[0]["language"] == "en"
    assert not chinese.warnings and not chinese.blocking


@pytest.mark.django_db
def test_a_blocking_check_refuses_the_submit_and_loses_nothing(make_project, make_annotators):
    project = make_project("response", items=1, pii_policy="block")
    (user,) = make_annotators(1, project)
    lease = assignment_claim_next(user, project)

    with pytest.raises(ValidationError) as refused:
        assignment_submit(user, lease.pk, {"response": "My email is li.na@qq.com, write to me any time."})

    assert refused.value.extra["blocking"][0]["code"] == "pii"
    lease.refresh_from_db()
    assert lease.status == "leased"
