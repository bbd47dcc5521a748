"""`manage.py curate`: exit status and one-line reasons, --local runs, job-level bad input."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from curation.models import Job
from tests.fixtures.jobs import write_jsonl

pytestmark = pytest.mark.django_db


def test_local_run_writes_kept_removed_and_stats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"id": str(i), "text": f"document number {i}"} for i in range(25)])
    call_command("curate", "--recipe", "extract-only", "--input", str(tmp_path / "a.jsonl"),
                 "--output", str(tmp_path / "out"), "--local")
    assert "25 read, 25 kept, 0 removed" in capsys.readouterr().out
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["documents"]["kept"] == 25
    # (the hidden marker records which job took the folder; see curation/services/locations.py)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [".curation-job.json", "kept", "removed",
                                                                    "stats.json"]


def test_text_field_option_reads_another_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_jsonl(tmp_path / "a.jsonl", [{"content": "in another field"}])
    call_command("curate", "--recipe", "extract-only", "--input", str(tmp_path / "a.jsonl"),
                 "--output", str(tmp_path / "out"), "--text-field", "content", "--local")
    assert "1 read, 1 kept" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["--recipe", "nope"], "unknown recipe 'nope'"),
        (["--recipe", "{tmp}/bad.yaml"], "unknown step 'not_a_step'"),
        (["--recipe", "extract-only", "--input", "{tmp}/missing.warc.gz"], "missing.warc.gz"),
    ],
)
def test_bad_recipe_or_path_fails_with_a_one_line_reason(tmp_path: Path, args: list[str], reason: str) -> None:
    (tmp_path / "bad.yaml").write_text("name: bad\nsteps:\n  - not_a_step: {}\n")
    write_jsonl(tmp_path / "a.jsonl", [{"text": "x"}])
    argv = ["--input", str(tmp_path / "a.jsonl"), "--output", str(tmp_path / "out"), "--local"]
    argv = [a.format(tmp=tmp_path) for a in args] + argv
    if "--input" in args:  # the case's own input replaces the default one
        argv = [a.format(tmp=tmp_path) for a in args] + ["--output", str(tmp_path / "out"), "--local"]
    with pytest.raises(CommandError) as error:
        call_command("curate", *argv)
    assert reason in str(error.value) and "\n" not in str(error.value)
    assert Job.objects.count() == 0


def test_job_with_corrupt_inputs_completes_counting_errors_per_file_and_kind(tmp_path: Path) -> None:
    # given a good file, a truncated gzip, a file with bad JSON in the middle and an empty file
    write_jsonl(tmp_path / "good.jsonl", [{"id": f"g{i}", "text": f"good {i}"} for i in range(10)])
    payload = gzip.compress("".join(json.dumps({"id": f"t{i}", "text": f"t {i}" * 50}) + "\n"
                                    for i in range(200)).encode())
    (tmp_path / "truncated.jsonl.gz").write_bytes(payload[: len(payload) // 2])
    (tmp_path / "mixed.jsonl").write_bytes(b'{"id": "m1", "text": "fine"}\n{not json\n\xff\xfe\x00binary\n'
                                           b'{"id": "m2", "text": "after the damage"}\n')
    (tmp_path / "empty.jsonl").write_bytes(b"")
    inputs = [str(tmp_path / n) for n in ("good.jsonl", "truncated.jsonl.gz", "mixed.jsonl", "empty.jsonl")]
    # when the job runs
    call_command("curate", "--recipe", "extract-only", "--input", *inputs, "--output", str(tmp_path / "out"),
                 "--local")
    # then it completed, kept every good document (also after the damage) and counted errors per file and kind
    job = Job.objects.get()
    assert job.status == Job.Status.COMPLETED
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    files = stats["read"]["errors"]["files"]
    assert set(files) == {str(tmp_path / "truncated.jsonl.gz"), str(tmp_path / "mixed.jsonl")}
    assert "truncated" in files[str(tmp_path / "truncated.jsonl.gz")]
    assert files[str(tmp_path / "mixed.jsonl")]["bad_json"]["count"] >= 1
    assert stats["documents"]["kept"] >= 10 + 2 + 1  # good, both mixed ones, some of the truncated file
    assert job.stats["errors_by_kind"]["truncated"] == 1
