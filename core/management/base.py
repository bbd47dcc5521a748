"""The base of the project's management commands: a usable database first, and one line for a user's error.

`ProjectCommand.execute` makes sure the database can be used before the command runs: on the embedded default
(SQLite under VAR_DIR, no DATABASE_URL) it applies pending migrations by itself, so a newcomer's first command
just works; on any other database it says in one line to run `python manage.py migrate`, and when the database
cannot be reached, it says so in one line. An ApplicationError raised by a service becomes a CommandError: one
line on stderr and exit status 1, never a traceback.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import Error as DatabaseError

from core.errors import ApplicationError
from core.local import secret_key_ensure


def _database_label() -> str:
    database = settings.DATABASES[DEFAULT_DB_ALIAS]
    if "sqlite" in database["ENGINE"]:
        return str(database["NAME"])
    host = database.get("HOST") or "localhost"
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"{database.get('NAME')} on {host}{port}"


def database_prepare(stderr: Any) -> None:
    """Make sure the default database is reachable and migrated; raise CommandError with what to do if not.

    Applies pending migrations only on the embedded default (and writes its development secret key). Safe to
    re-run: with nothing pending it only connects.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        connection.ensure_connection()
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
        raise CommandError(
            f"cannot reach the database {_database_label()} ({reason}): start it, or set DATABASE_URL"
        ) from error
    if settings.EMBEDDED_DATABASE:
        secret_key_ensure()
    if not plan:
        return
    if not settings.EMBEDDED_DATABASE:
        raise CommandError(
            f"the database {_database_label()} has {len(plan)} unapplied migration(s): "
            "run `python manage.py migrate` first"
        )
    stderr.write(f"setting up the embedded database {_database_label()} ({len(plan)} migrations, first use)")
    call_command("migrate", interactive=False, verbosity=0)


class ProjectCommand(BaseCommand):
    """A command of the project. Subclasses implement `handle` and let services' errors propagate."""

    # False for a command that never touches the database (it is then not checked or migrated).
    needs_database = True

    def execute(self, *args: Any, **options: Any) -> Any:
        if self.needs_database:
            database_prepare(self.stderr)
        try:
            return super().execute(*args, **options)
        except ApplicationError as error:
            raise CommandError(str(error.message)) from error
