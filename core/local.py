"""The embedded default's files under VAR_DIR, made when a command first needs them (never at import)."""

from __future__ import annotations

import os
import secrets

from django.conf import settings


def secret_key_is_ephemeral() -> bool:
    """Whether this process runs on a development key that no file keeps (sessions end with the process)."""
    return bool(settings.SECRET_KEY_EPHEMERAL) and not settings.SECRET_KEY_FILE.is_file()


def secret_key_ensure() -> bool:
    """Write a development secret key to VAR_DIR/secret_key unless one is configured or written already.

    Returns whether a key was written. Later processes read it, so sessions survive restarts. Safe to re-run.
    """
    if not settings.SECRET_KEY_EPHEMERAL or settings.SECRET_KEY_FILE.is_file():
        return False
    settings.SECRET_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner only; O_EXCL: two processes starting at once keep the first key.
    try:
        descriptor = os.open(settings.SECRET_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w") as file:
        file.write(secrets.token_urlsafe(50))
    return True
