"""Django's SQLite backend for the embedded default: it creates the database's folder on first connection."""
