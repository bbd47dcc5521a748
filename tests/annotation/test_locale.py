"""The annotation app's Chinese catalogue (annotation/locale): every message the code marks is translated, with
the same placeholders, and every error a service raises is marked for translation."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.po_files import gettext_calls_without_literal, marked_messages, placeholders, po_entries

APP = Path(__file__).resolve().parents[2] / "annotation"
CATALOGUE = APP / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# The errors whose message reaches the person who made the request (core.errors), and the import's line errors.
USER_FACING_ERRORS = {"ValidationError", "Conflict", "NotFound", "PermissionDenied", "Unavailable", "LineError"}


def _untranslated_raises(path: Path) -> list[str]:
    """`raise SomeError("text")` or `raise SomeError(f"...")` of a user-facing error: a message gettext never sees."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Raise) or not isinstance(node.exc, ast.Call):
            continue
        call = node.exc
        name = call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")
        if name in USER_FACING_ERRORS and call.args and isinstance(call.args[0], (ast.Constant, ast.JoinedStr)):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_every_marked_message_of_the_annotation_app_has_a_chinese_translation() -> None:
    entries = {entry.key: entry for entry in po_entries(CATALOGUE)}

    missing = {key: where for key, where in marked_messages(APP).items() if key not in entries}
    untranslated = [entry.key for entry in entries.values() if not all(entry.msgstr) or "fuzzy" in entry.flags]

    assert missing == {}, "run makemessages in annotation/ and translate the new messages"
    assert untranslated == []


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    # A placeholder missing from a translation is lost; one the message does not have raises KeyError at raise time.
    mismatched = [(entry.msgid, text) for entry in po_entries(CATALOGUE) for text in entry.msgstr
                  if placeholders(text) != placeholders(entry.msgid)]

    assert mismatched == []


def test_messages_are_marked_with_literals_so_they_can_be_extracted() -> None:
    assert gettext_calls_without_literal(APP) == []


@pytest.mark.parametrize("path", sorted(p for p in APP.rglob("*.py") if "migrations" not in p.parts),
                         ids=lambda p: str(p.relative_to(APP)))
def test_no_user_facing_error_of_the_annotation_app_is_raised_with_an_untranslated_message(path: Path) -> None:
    assert _untranslated_raises(path) == []
