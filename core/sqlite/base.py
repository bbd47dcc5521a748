"""Django's SQLite backend, creating the folder of the database file when it first connects.

The embedded default keeps its database under VAR_DIR, which may not exist yet on a fresh checkout; creating it
here (not when settings are imported) means only a process that really uses the database makes the folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.db.backends.sqlite3 import base


class DatabaseWrapper(base.DatabaseWrapper):
    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        database = str(conn_params.get("database", ""))
        # In-memory and URI databases (the test database of pytest-django on SQLite) have no folder.
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        return super().get_new_connection(conn_params)
