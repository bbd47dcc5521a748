"""`python manage.py local_setup`: write the development secret key of the embedded default (VAR_DIR)."""

from __future__ import annotations

from typing import Any

from core.local import secret_key_ensure
from core.management.base import ProjectCommand


class Command(ProjectCommand):
    help = "Write a development secret key to VAR_DIR/secret_key, unless SECRET_KEY is set. Safe to re-run."
    needs_database = False

    def handle(self, *args: Any, **options: Any) -> None:
        if secret_key_ensure():
            self.stderr.write("wrote a development secret key to VAR_DIR/secret_key")
