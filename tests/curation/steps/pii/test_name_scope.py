"""Whose names are redacted: near identifiers (the step's default), everywhere (find_pii's default, and on request)."""

from __future__ import annotations

import pytest

from curation.steps.base import RecipeError, build_step
from curation.steps.document import Document, PiiSpan
from curation.steps.pii import names as name_finders
from curation.steps.pii.redact import find_pii, name_windows
from curation.steps.pii.step import PiiRedactor

NEWS = (
    "Prime Minister Tony Blair said on Tuesday that Gordon Brown would present the budget in March. "
    "Michael Howard, the Conservative leader, called the plan reckless."
)
CONTACT = "For bookings call Sarah Whitfield on 07700 900123 or write to sarah.whitfield@example.org today."
ZH_CONTACT = "如需报名请联系王小明，电话13812345678，或发邮件至wxm@example.cn。"


def run_step(docs: list[Document], **params: object) -> list[Document]:
    step = build_step("pii", params)
    assert isinstance(step, PiiRedactor)
    return list(step.run(iter(docs)))


def persons(text: str, spans: list[PiiSpan]) -> list[str]:
    return [text[span["start"] : span["end"]] for span in spans if span["type"] == "PERSON"]


def test_a_name_next_to_a_phone_number_and_email_is_redacted_by_default() -> None:
    (doc,) = run_step([{"id": "1", "text": CONTACT, "lang": "en"}])

    assert persons(CONTACT, doc["pii"]) == ["Sarah Whitfield"]
    assert "Sarah Whitfield" not in doc["text"] and "<PERSON>" in doc["text"]


def test_a_chinese_name_next_to_a_mobile_number_is_redacted_by_default() -> None:
    (doc,) = run_step([{"id": "1", "text": ZH_CONTACT, "lang": "zh"}])

    assert "王小明" in persons(ZH_CONTACT, doc["pii"])
    assert "王小明" not in doc["text"]


def test_public_names_in_news_without_identifiers_are_kept_and_cost_no_ner(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given news text that names public figures and holds no contact detail or ID number
    calls: list[list[str]] = []
    real = name_finders.find_names

    def recording(texts: list[str], *args: object, **kwargs: object) -> list[name_finders.NameResult]:
        calls.append(list(texts))
        return real(texts, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(name_finders, "find_names", recording)
    # When the pii step runs with its defaults
    (doc,) = run_step([{"id": "1", "text": NEWS, "lang": "en"}])
    # Then every name stays, and the name finder never ran
    assert doc["text"] == NEWS
    assert doc["pii"] == []
    assert calls == []


def test_names_scope_everywhere_redacts_every_name() -> None:
    (doc,) = run_step([{"id": "1", "text": NEWS, "lang": "en"}], names_scope="everywhere")

    assert {"Tony Blair", "Gordon Brown", "Michael Howard"} <= set(persons(NEWS, doc["pii"]))
    assert "Tony Blair" not in doc["text"]


def test_ner_reads_only_the_windows_around_identifiers(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a long article with one contact line in the middle
    text = NEWS * 20 + " " + CONTACT + " " + NEWS * 20
    seen: list[str] = []
    real = name_finders.find_names

    def recording(texts: list[str], *args: object, **kwargs: object) -> list[name_finders.NameResult]:
        seen.extend(texts)
        return real(texts, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(name_finders, "find_names", recording)
    (doc,) = run_step([{"id": "1", "text": text, "lang": "en"}], name_window_chars=60)

    # Then NER saw one window of about the contact line, not the article
    assert len(seen) == 1 and CONTACT.split(" on ")[1][:20] in seen[0]
    assert len(seen[0]) < len(CONTACT) + 2 * (60 + 40)
    # And offsets of the name found in the window point into the whole text
    assert persons(text, doc["pii"]) == ["Sarah Whitfield"]
    assert "Tony Blair" in doc["text"]


def test_find_pii_redacts_every_name_by_default_for_text_people_type() -> None:
    # Annotation checks call find_pii on what annotators write: any name there is about someone.
    assert "Gordon Brown" in persons(NEWS, find_pii(NEWS, lang="en"))
    assert persons(NEWS, find_pii(NEWS, lang="en", names_scope="near_identifiers")) == []
    assert persons(CONTACT, find_pii(CONTACT, lang="en", names_scope="near_identifiers")) == ["Sarah Whitfield"]


def test_name_windows_surround_identifiers_merge_and_stop_at_spaces() -> None:
    text = "aaaa bbbb cccc dddd +44 7700 900123 eeee ffff x@y.org gggg hhhh iiii jjjj"
    spans = find_pii(text, names=False)
    assert [span["type"] for span in spans] == ["PHONE", "EMAIL"]
    # IP addresses and secrets do not identify a person: no window for them
    assert name_windows("host 10.1.2.3 up", find_pii("host 10.1.2.3 up", names=False), 5) == []

    windows = name_windows(text, spans, window=7)

    assert len(windows) == 1  # the two identifiers' windows overlap and merge
    start, end = windows[0]
    assert text[start:end] == "cccc dddd +44 7700 900123 eeee ffff x@y.org gggg hhhh"  # 7 chars, then whole words
    # Near the ends of the text a window takes the rest of the word
    assert name_windows("ab x@y.org", find_pii("ab x@y.org", names=False), 1) == [(0, 10)]


@pytest.mark.parametrize(
    ("params", "message"),
    [({"names_scope": "famous_only"}, "names_scope must be one of"), ({"name_window_chars": -1}, ">= 0")],
)
def test_bad_name_scope_parameters_fail_when_the_recipe_is_built(params: dict[str, object], message: str) -> None:
    with pytest.raises(RecipeError, match=message):
        build_step("pii", params)
