"""Read a gettext catalogue (.po) and the messages Python code marks for translation, for the catalogue tests."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path

# The gettext functions the project calls, and where their context (pgettext) and message are among the arguments.
GETTEXT_CALLS = {"_", "gettext", "gettext_lazy", "ngettext", "ngettext_lazy"}
PGETTEXT_CALLS = {"pgettext", "pgettext_lazy"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


@dataclass
class PoEntry:
    """One message of a catalogue: its context, id, translations (one per plural form) and flags."""

    msgctxt: str | None
    msgid: str
    msgstr: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str]:
        return self.msgctxt, self.msgid


def _unquote(text: str) -> str:
    """A PO string literal's value (PO strings use C escapes, which Python's string literals share here)."""
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


def po_entries(path: Path) -> list[PoEntry]:
    """Every message of a .po file but the header and obsolete (#~) entries."""
    entries = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        fields: dict[str, str] = {}
        flags: set[str] = set()
        current = ""
        for line in block.splitlines():
            if line.startswith("#,"):
                flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                fields[current] += _unquote(line)
            elif " " in line:
                current, literal = line.split(" ", 1)
                fields[current] = _unquote(literal)
        if fields.get("msgid"):
            translations = [value for name, value in sorted(fields.items()) if name.startswith("msgstr")]
            entries.append(PoEntry(fields.get("msgctxt"), fields["msgid"], translations, flags))
    return entries


def marked_messages(root: Path) -> dict[tuple[str | None, str], str]:
    """The (context, message) of every gettext call with literal arguments under `root`, with where it is."""
    found: dict[tuple[str | None, str], str] = {}
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
                continue
            args = [arg.value for arg in node.args if isinstance(arg, ast.Constant) and isinstance(arg.value, str)]
            where = f"{path.relative_to(root.parent)}:{node.lineno}"
            if node.func.id in GETTEXT_CALLS and len(args) >= 1:
                found[(None, args[0])] = where
            elif node.func.id in PGETTEXT_CALLS and len(args) >= 2:
                found[(args[0], args[1])] = where
    return found


def placeholders(text: str) -> set[str]:
    """The names of the `%(name)s` placeholders of a message."""
    return set(PLACEHOLDER.findall(text))


def gettext_calls_without_literal(root: Path) -> list[str]:
    """Where a gettext call under `root` is given something other than string literals (an f-string, a variable):
    such a message cannot be extracted into the catalogue, so it is never translated."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                wanted = 1 if node.func.id in GETTEXT_CALLS else 2 if node.func.id in PGETTEXT_CALLS else 0
                literal = all(isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                              for arg in node.args[:wanted])
                if wanted and (len(node.args) < wanted or not literal):
                    found.append(f"{path.relative_to(root.parent)}:{node.lineno}")
    return found
