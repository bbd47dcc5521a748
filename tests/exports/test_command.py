"""`manage.py export_dataset`: each source and format from the command line, its exit status and reasons."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.core.management.base import OutputWrapper
from django.utils import timezone

from curation.models import Job
from curation.services.jobs import job_run_local, job_submit
from curation.services.workers import worker_heartbeat
from exports.management.commands import export_dataset
from exports.models import Export
from tests.fixtures.jobs import write_jsonl
from tests.support.export_projects import ranking_project, response_project

pytestmark = pytest.mark.django_db

PROMPTS = ["Explain how tides work.", "请解释潮汐是怎么形成的。", "Name three rivers in Europe."]


def _run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("export_dataset", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_exports_a_project_locally_and_prints_the_folder_and_hash(tmp_path: Path) -> None:
    project = ranking_project(PROMPTS)
    out, err = _run("--project", str(project.pk), "--format", "dpo", "--merge", "majority", "--test-fraction", "0",
                    "--output", str(tmp_path / "dpo"), "--files", "jsonl", "--local")
    export = Export.objects.get()
    assert out.strip() == f"{tmp_path / 'dpo'} {export.content_hash}"
    assert "train: 15 rows" in err and "export 1" in err.replace(str(export.pk), "1")
    assert export.card["command"].startswith("python manage.py export_dataset --format dpo --project")
    assert "--merge majority" in export.card["command"] and "--files jsonl" in export.card["command"]
    assert sorted(p.name for p in (tmp_path / "dpo" / "data").iterdir()) == ["train-00000-of-00001.jsonl"]


def test_the_reproducing_command_in_the_card_gives_the_same_hash(tmp_path: Path) -> None:
    project = response_project(PROMPTS, lambda prompt: f"An answer to {prompt}")
    _run("--project", str(project.pk), "--format", "sft", "--output", str(tmp_path / "one"), "--local")
    first = Export.objects.get()
    argv = first.card["command"].split()[3:]  # after "python manage.py export_dataset"
    argv[argv.index("--output") + 1] = str(tmp_path / "two")
    _run(*argv, "--local")
    second = Export.objects.exclude(pk=first.pk).get()
    assert second.content_hash == first.content_hash


def test_a_curation_jobs_kept_documents_become_a_sharded_pretrain_export(tmp_path: Path) -> None:
    # given a completed job (extract-only keeps every document)
    docs = [{"id": f"d{n}", "text": f"Document {n} 的正文，足够长。", "url": f"https://example.org/{n}", "lang": "zh"}
            for n in range(25)]
    write_jsonl(tmp_path / "in.jsonl", docs)
    job = job_run_local(job_submit(recipe="extract-only", inputs=[str(tmp_path / "in.jsonl")],
                                   output=str(tmp_path / "job")))
    assert job.status == Job.Status.COMPLETED
    # when exported for pretraining in shards of 10
    _run("--job", str(job.pk), "--format", "pretrain", "--shard-rows", "10", "--test-fraction", "0",
         "--output", str(tmp_path / "pre"), "--local")
    export = Export.objects.get()
    # then the documents are there as text with id, url and lang, in three shards
    files = export.card["splits"]["train"]["files"]["jsonl"]
    assert files == [f"data/train-0000{i}-of-00003.jsonl" for i in range(3)]
    rows = [json.loads(line) for name in files for line in (tmp_path / "pre" / name).read_text().splitlines()]
    assert sorted(r["id"] for r in rows) == sorted(d["id"] for d in docs)
    assert rows[0].keys() == {"id", "text", "url", "lang"} and rows[0]["lang"] == "zh"
    assert export.card["sources"]["job"] == job.pk and export.card["sources"]["documents"] == 25


def test_a_ppo_export_from_an_earlier_reward_export_holds_each_prompt_once(tmp_path: Path) -> None:
    project = ranking_project(PROMPTS)
    _run("--project", str(project.pk), "--format", "reward", "--output", str(tmp_path / "rm"), "--local")
    reward = Export.objects.get()
    _run("--from-export", str(reward.pk), "--format", "ppo", "--test-fraction", "0", "--output",
         str(tmp_path / "ppo"), "--local")
    ppo = Export.objects.exclude(pk=reward.pk).get()
    assert ppo.card["splits"]["train"]["rows"] == 3
    assert ppo.card["removed"]["duplicate_prompts"] == 3 * 5 - 3


@pytest.mark.parametrize("args,reason", [
    (["--project", "999", "--format", "reward"], "no such project: 999"),
    (["--format", "reward"], "exactly one source"),
    (["--job", "999", "--format", "pretrain"], "no such job: 999"),
    (["--project", "1", "--format", "reward", "--min-agreement", "3"], "min_agreement"),
])
def test_bad_input_exits_with_one_line_and_stores_nothing(args: list[str], reason: str, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match=reason):
        _run(*args, "--output", str(tmp_path / "x"), "--local")
    assert Export.objects.count() == 0
    assert not (tmp_path / "x").exists()


def test_the_progress_bar_counts_items_read_then_rows_written(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # given a ranking project of three prompts (15 reward pairs)
    project = ranking_project(PROMPTS)
    # when it is exported in this process
    _run("--project", str(project.pk), "--format", "reward", "--test-fraction", "0", "--output", str(tmp_path / "rm"),
         "--files", "jsonl", "--local")
    # then the bar reads the items, then writes the rows, each stage in its own words and units
    bar = capsys.readouterr().err
    assert "3/3" in bar and "items" in bar and "reading and checking" in bar
    assert "15/15" in bar and "rows" in bar and "writing files" in bar


@pytest.mark.parametrize("worker", [False, True])
def test_wait_says_when_no_worker_runs(worker: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # given a finished export, and a worker that has reported or none
    project = ranking_project(PROMPTS[:1])
    _run("--project", str(project.pk), "--format", "reward", "--output", str(tmp_path / "rm"), "--local")
    if worker:
        worker_heartbeat("worker@host", 1, timezone.now())
    monkeypatch.setattr(export_dataset, "WORKER_GRACE_SECONDS", 0.05)
    monkeypatch.setattr(export_dataset, "POLL_SECONDS", 0.01)
    err = io.StringIO()
    command = export_dataset.Command()
    command.stderr = OutputWrapper(err)
    # when the command waits for it, then it says how to start a worker only when none has reported
    assert command._wait(Export.objects.get()).status == Export.Status.COMPLETED
    assert ("no worker has reported" in err.getvalue()) is not worker
    assert worker or "-Q default" in err.getvalue()
