"""The Celery app stands apart from the apps: importing it loads none of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APPS = ("core", "accounts", "curation", "annotation", "exports", "training")


def test_importing_the_celery_app_imports_no_app() -> None:
    # A fresh interpreter: this test process has loaded every app already.
    code = (
        "import sys, workers.celery; "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {APPS!r}))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_curation_tasks_are_registered_on_the_app_with_their_beat_entry() -> None:
    # given the app as a worker loads it (autodiscovery of every installed app's tasks module)
    from workers.celery import app

    app.loader.import_default_modules()
    # then curation's tasks are there under their names, and beat reaps leases with the registered task
    assert {"curation.shard_run", "curation.shards_reap", "curation.schedule_fire"} <= set(app.tasks)
    assert app.conf.beat_schedule["curation-reap-expired-shard-leases"]["task"] == "curation.shards_reap"
