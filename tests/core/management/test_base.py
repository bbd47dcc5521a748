"""Project commands as a newcomer meets them: real processes, on the embedded default or an unusable database.

Each case runs `manage.py` in a subprocess with a temporary VAR_DIR and the environment a fresh checkout has (no
DATABASE_URL, no broker, no storage root), so the embedded SQLite default under VAR_DIR is what the command uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.jobs import write_jsonl

REPO = Path(__file__).resolve().parents[3]
# Settings the test run sets that a fresh checkout does not have.
UNSET = ("DATABASE_URL", "CELERY_BROKER_URL", "STORAGE_ROOT", "SECRET_KEY", "DJANGO_ENV")


def manage(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k not in UNSET}
    environment.update({"VAR_DIR": str(var_dir), **env})
    return subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=environment, capture_output=True,
                          text=True, timeout=300)


def stderr_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def embedded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A VAR_DIR that does not exist yet, shared by the cases below (the first command creates it)."""
    return tmp_path_factory.mktemp("fresh") / "var"


def test_first_local_run_on_the_embedded_default_needs_no_migrate(embedded: Path, tmp_path: Path) -> None:
    # given a fresh checkout: no database yet, and one input file
    assert not embedded.exists()
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": f"document {i}"} for i in range(3)])
    # when the newcomer's first command runs a recipe locally
    result = manage(embedded, "curate", "--recipe", "extract-only", "--input", str(tmp_path / "a.jsonl"),
                    "--output", str(tmp_path / "out"), "--local")
    # then the embedded database was set up on the way, and the job ran
    assert result.returncode == 0, result.stderr
    assert "3 read, 3 kept, 0 removed" in result.stdout
    assert "setting up the embedded database" in result.stderr
    assert (embedded / "db.sqlite3").is_file()
    assert (embedded / "secret_key").is_file()
    assert (tmp_path / "out" / "stats.json").is_file()
    # and the next command finds it ready and says nothing about it
    again = manage(embedded, "curate", "--recipe", "extract-only", "--input", str(tmp_path / "a.jsonl"),
                   "--output", str(tmp_path / "out2"), "--local")
    assert again.returncode == 0, again.stderr
    assert "setting up" not in again.stderr


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--recipe", "no-such-recipe", "--input", "{tmp}/a.jsonl"], "unknown recipe 'no-such-recipe'"),
        (["--recipe", "extract-only", "--input", "{tmp}/nope.jsonl"], "nope.jsonl"),
        (["--recipe", "extract-only", "--input", "{tmp}/a.jsonl", "--dedup-index", "Not A Slug"], "must be a slug"),
    ],
)
def test_a_users_error_ends_in_one_line_and_a_non_zero_status(embedded: Path, tmp_path: Path, args: list[str],
                                                               reason: str) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    argv = [a.format(tmp=tmp_path) for a in args]
    result = manage(embedded, "curate", *argv, "--output", str(tmp_path / "out"), "--local")
    assert result.returncode == 1
    lines = stderr_lines(result)
    assert lines[-1].startswith("CommandError: ") and reason in lines[-1]
    assert not any("Traceback" in line for line in lines)


def test_an_unreachable_database_is_one_line_saying_what_to_do(tmp_path: Path) -> None:
    # Port 9 (discard) has no PostgreSQL behind it.
    result = manage(tmp_path / "var", "dedup_index", "list", DATABASE_URL="postgres://nobody@127.0.0.1:9/nowhere")
    assert result.returncode == 1
    lines = stderr_lines(result)
    assert len(lines) == 1
    assert lines[0].startswith("CommandError: cannot reach the database nowhere on 127.0.0.1:9")
    assert "DATABASE_URL" in lines[0]


def test_a_configured_database_is_never_migrated_behind_the_operators_back(tmp_path: Path) -> None:
    # A database named by DATABASE_URL (here an empty SQLite file) is the operator's: the command only says what to do.
    database = tmp_path / "operator.sqlite3"
    result = manage(tmp_path / "var", "dedup_index", "list", DATABASE_URL=f"sqlite:///{database}")
    assert result.returncode == 1
    lines = stderr_lines(result)
    assert len(lines) == 1 and "unapplied migration(s): run `python manage.py migrate` first" in lines[0]
