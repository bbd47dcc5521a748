"""Exports on the embedded default: SQLite, in a real process (the rest of the suite reads PostgreSQL).

`make run` and a first `manage.py` command keep their data in SQLite under VAR_DIR, so the console's export button
and `export_dataset` read annotation projects from it; the sources' SQL must speak both dialects.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
UNSET = ("DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_ROOT", "SECRET_KEY", "DJANGO_ENV")


def test_ranking_response_and_likert_projects_export_from_the_embedded_sqlite(tmp_path: Path) -> None:
    # given a fresh embedded database with annotated projects, read in blocks of two items
    environment = {k: v for k, v in os.environ.items() if k not in UNSET}
    environment["VAR_DIR"] = str(tmp_path / "var")
    # when each is exported
    result = subprocess.run([sys.executable, "tests/support/sqlite_exports.py", "2"], cwd=REPO, env=environment,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["vendor"] == "sqlite"
    # then the ranking gives five pairs a prompt, but the three of the stored consensus on its reversed item
    ranking = outcome["ranking"]
    assert ranking["status"] == "completed", ranking["error"]
    by_prompt: dict[str, list[tuple[str, str]]] = {}
    for row in ranking["rows"]:
        by_prompt.setdefault(row["prompt"][-1]["content"], []).append(
            (row["chosen"][0]["content"][:8], row["rejected"][0]["content"][:8]))
    assert len(by_prompt) == 5
    assert sorted(by_prompt.pop(outcome["reversed_prompt"])) == [
        ("Answer 4", "Answer 1"), ("Answer 4", "Answer 2"), ("Answer 4", "Answer 3")]
    assert all(len(pairs) == 5 for pairs in by_prompt.values())
    # and the sft export leaves the rejected answer out and takes the reviewer's edit
    responses = outcome["responses"]
    assert responses["status"] == "completed", responses["error"]
    answers = sorted(row["messages"][-1]["content"] for row in responses["rows"])
    assert answers == ["Answer to Response prompt 2", "Answer to Response prompt 3", "The reviewer's answer"]
    assert responses["removed"] == {"rejected_annotations": 1}
    # and Likert answers to one prompt pair up across blocks, the better one chosen
    likert = outcome["likert"]
    assert likert["status"] == "completed", likert["error"]
    pairs = sorted((r["prompt"][-1]["content"], r["chosen"][0]["content"], r["rejected"][0]["content"], r["margin"])
                   for r in likert["rows"])
    assert pairs == [("Explain rain.", "answer 1", "answer 3", 3.0), ("Explain tides.", "answer 0", "answer 2", 3.0)]
