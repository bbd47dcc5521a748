"""Claims on the embedded default: SQLite, whose writers take turns (IMMEDIATE transactions), in a real process.

The rest of the suite runs on PostgreSQL (DATABASE_URL); `make run` and a first `manage.py` command run on SQLite
under VAR_DIR. Here eight annotator threads claim, skip and submit at once in a fresh process on a fresh embedded
database, as the console's annotators would on a laptop.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
UNSET = ("DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_ROOT", "SECRET_KEY", "DJANGO_ENV")


def test_concurrent_claims_on_the_embedded_sqlite_never_over_assign(tmp_path: Path) -> None:
    # given a fresh embedded database and 60 Likert items with overlap 3
    environment = {k: v for k, v in os.environ.items() if k not in UNSET}
    environment["VAR_DIR"] = str(tmp_path / "var")
    # when 8 annotators claim, skip and submit at once until nothing is left
    result = subprocess.run([sys.executable, "tests/support/sqlite_claims.py", "8", "60", "3"], cwd=REPO,
                            env=environment, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    # then it ran on SQLite, nobody met an error, every item got exactly its overlap, and the counts agree
    assert outcome["vendor"] == "sqlite"
    assert outcome["errors"] == []
    assert outcome["annotations"] == outcome["submitted"] == 60 * 3
    assert outcome["over_overlap"] == outcome["leased_twice"] == outcome["counters_off"] == 0
