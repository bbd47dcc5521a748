"""System checks of the project's own settings."""

from __future__ import annotations

from typing import Any

from django.core.checks import CheckMessage, Warning, register

from core.local import secret_key_is_ephemeral


@register()
def secret_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Warn when the development secret key lasts only as long as this process."""
    if not secret_key_is_ephemeral():
        return []
    return [Warning(
        "No SECRET_KEY and no development key file: logins will not survive a restart.",
        hint="Run `python manage.py local_setup` (make run does), or set SECRET_KEY.",
        id="core.W001",
    )]
