"""Translate the one-line messages the pure engine (`curation.steps`) raises, for the people who read them.

`curation.steps` imports nothing of Django, so its RecipeError and InputError messages are English. The services
that turn them into application errors pass them through `localise`, which matches each known form and returns the
same message from the catalogue (Simplified Chinese under a zh-hans request); an unknown form is returned as is.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.utils.translation import gettext as _

# (pattern of the engine's English message, the same message for the catalogue). Each pattern's groups are the
# message's variable parts; the templates use them by name.
_FORMS: list[tuple[re.Pattern[str], Callable[[], str]]] = [
    (re.compile(r"^recipe (?P<name>'.*') is not valid YAML at line (?P<line>\d+), column (?P<column>\d+): "
                r"(?P<problem>.*)$"),
     lambda: _("recipe %(name)s is not valid YAML at line %(line)s, column %(column)s: %(problem)s")),
    (re.compile(r"^recipe (?P<name>'.*') is not valid YAML: (?P<problem>.*)$"),
     lambda: _("recipe %(name)s is not valid YAML: %(problem)s")),
    (re.compile(r"^unknown step (?P<step>'[^']*') \(known steps: (?P<known>.*)\)$"),
     lambda: _("unknown step %(step)s (known steps: %(known)s)")),
    (re.compile(r"^step (?P<step>'[^']*') takes no parameter (?P<param>'[^']*') \(it takes: (?P<known>.*)\)$"),
     lambda: _("step %(step)s takes no parameter %(param)s (it takes: %(known)s)")),
    (re.compile(r"^unknown recipe (?P<name>'[^']*') \(built-in recipes: (?P<known>.*); or give the recipe's "
                r"YAML text\)$"),
     lambda: _("unknown recipe %(name)s (built-in recipes: %(known)s; or give the recipe's YAML text)")),
    (re.compile(r"^recipe (?P<name>'.*') must be a mapping with a non-empty 'steps' list$"),
     lambda: _("recipe %(name)s must be a mapping with a non-empty 'steps' list")),
    (re.compile(r"^input not found: (?P<path>.*)$"), lambda: _("input not found: %(path)s")),
    (re.compile(r"^input not readable: (?P<path>.*)$"), lambda: _("input not readable: %(path)s")),
    (re.compile(r"^no input paths given$"), lambda: _("no input paths given")),
]


def localise(message: str) -> str:
    """The engine's message in the active language when its form is known; otherwise the message unchanged."""
    for pattern, template in _FORMS:
        found = pattern.match(message)
        if found:
            return template() % found.groupdict()
    return message
