"""Importing items: line numbers and reasons for bad lines, the good ones imported, per-kind checks, curation jobs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from annotation.models import Item
from annotation.services.items import items_from_job, items_import
from core.errors import ValidationError
from curation.models import Job
from curation.steps.pipeline import JobLayout
from curation.steps.writers import JsonlZstWriter


def _lines(*records: object) -> list[str]:
    return [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]


@pytest.mark.django_db
def test_bad_lines_get_their_number_and_reason_and_good_lines_are_imported(make_project):
    project = make_project("pairwise")
    two = [{"id": "x", "text": "A"}, {"id": "y", "text": "B"}]
    lines = _lines(
        {"id": "ok-1", "prompt": "Which is better?", "responses": two},
        "{not json",
        {"id": "short", "prompt": "One answer only", "responses": two[:1]},
        "",
        {"prompt": "No id, generated", "responses": two, "metadata": {"source": "web"}},
        {"id": "ok-1", "prompt": "repeat", "responses": two},
        {"id": "bad-field", "prompt": "p", "responses": two, "colour": "red"},
        {"id": "no-prompt", "responses": two},
        ["a list"],
    )

    report = items_import(project, lines)

    assert report.imported == 2
    reasons = dict(report.errors)
    assert sorted(reasons) == [2, 3, 6, 7, 8, 9]
    assert "not valid JSON" in reasons[2]
    assert "exactly 2 responses" in reasons[3]
    assert "repeats line 1" in reasons[6]
    assert "colour" in reasons[7]
    assert "prompt or messages" in reasons[8]
    assert "JSON object" in reasons[9]
    assert set(Item.objects.values_list("external_id", flat=True)) >= {"ok-1"}
    generated = Item.objects.exclude(external_id="ok-1").get()
    assert generated.external_id.startswith("h-") and generated.metadata == {"source": "web"}
    assert generated.target_overlap == project.overlap


@pytest.mark.django_db
def test_importing_the_same_file_twice_adds_nothing_the_second_time(make_project):
    project = make_project("likert")
    lines = _lines({"prompt": "Rate this", "responses": [{"id": "r", "text": "answer"}]},
                   {"id": 7, "prompt": "Numeric id", "responses": [{"id": 1, "text": "answer"}]})

    first = items_import(project, lines)
    second = items_import(project, lines)

    assert (first.imported, second.imported) == (2, 0)
    assert [reason for _, reason in second.errors] == ["id 'h-" + Item.objects.get(prompt="Rate this")
                                                       .external_id[2:] + "' is already in the project",
                                                       "id '7' is already in the project"]
    assert Item.objects.get(external_id="7").responses == [{"id": "1", "text": "answer"}]


@pytest.mark.django_db
@pytest.mark.parametrize(("kind", "responses", "ok"), [
    ("likert", 0, False), ("likert", 1, True), ("likert", 3, True),
    ("pairwise", 1, False), ("pairwise", 2, True), ("pairwise", 3, False),
    ("ranking", 1, False), ("ranking", 2, True), ("ranking", 9, True), ("ranking", 14, True),
    ("response", 0, True), ("response", 1, False), ("label", 0, True), ("instruction", 0, True),
])
def test_each_kind_checks_how_many_responses_an_item_has(make_project, kind, responses, ok):
    project = make_project(kind)
    record = {"id": "i", "prompt": "Prompt", "responses": [{"id": f"r{n}", "text": "t"} for n in range(responses)]}

    report = items_import(project, _lines(record))

    assert report.imported == (1 if ok else 0)
    assert bool(report.errors) is not ok


@pytest.mark.django_db
def test_messages_and_gold_items_are_checked(make_project):
    project = make_project("pairwise")
    two = [{"id": "a1", "text": "A"}, {"id": "b1", "text": "B"}]
    lines = _lines(
        {"id": "chat", "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
         "responses": two},
        {"id": "bad-role", "messages": [{"role": "robot", "content": "hi"}], "responses": two},
        {"id": "gold", "prompt": "p", "responses": two, "is_gold": True, "expected": {"choice": "a", "strength": 3}},
        {"id": "gold-bad", "prompt": "p", "responses": two, "is_gold": True, "expected": {"choice": "c"}},
        {"id": "gold-missing", "prompt": "p", "responses": two, "is_gold": True},
    )

    report = items_import(project, lines)

    assert report.imported == 2
    reasons = dict(report.errors)
    assert "robot" in reasons[2]
    assert reasons[4].startswith("expected:")
    assert "expected answer" in reasons[5]
    assert Item.objects.get(external_id="gold").expected == {"choice": "a", "strength": 3}


@pytest.mark.django_db
def test_a_large_import_goes_in_batches_and_keeps_every_good_line(make_project):
    project = make_project("response")
    lines = [json.dumps({"id": f"i{n}", "prompt": f"Question {n}"}) if n % 500 else "oops" for n in range(1, 2600)]

    report = items_import(project, lines)

    assert report.imported == 2599 - 5
    assert [n for n, _ in report.errors] == [500, 1000, 1500, 2000, 2500]
    assert Item.objects.filter(project=project).count() == 2594


def _completed_job(tmp_path: Path) -> Job:
    output = str(tmp_path / "job-out")
    layout = JobLayout(output)
    for shard, docs in enumerate([[("k1", "Kept one"), ("k2", "Kept two")], [("k3", "保留的第三篇文档")]]):
        writer = JsonlZstWriter(layout.kept(shard))
        for doc_id, text in docs:
            writer.write({"id": doc_id, "text": text, "url": f"https://example.com/{doc_id}", "lang": "en"})
        writer.close()
    removed = JsonlZstWriter(layout.removed(0, 0))
    removed.write({"id": "r1", "text": "Buy now!!!", "removed_by": "gopher_quality", "reason": "symbol_ratio"})
    removed.close()
    return Job.objects.create(recipe_name="web-default", recipe_yaml="name: x\nsteps: []\n", inputs=["in"],
                              output=output, status=Job.Status.COMPLETED, stage_count=1, shard_count=2)


@pytest.mark.django_db
def test_a_label_project_takes_a_jobs_kept_or_removed_documents(make_project, tmp_path):
    project = make_project("label")
    job = _completed_job(tmp_path)

    kept = items_from_job(project, job, kept=True, limit=2)
    more = items_from_job(project, job, kept=True)
    removed = items_from_job(project, job, kept=False)

    assert (kept.imported, more.imported, removed.imported) == (2, 1, 1)
    k3 = Item.objects.get(external_id="k3")
    assert k3.prompt == "保留的第三篇文档" and k3.metadata["job"] == job.pk and k3.metadata["kept"] is True
    r1 = Item.objects.get(external_id="r1")
    assert r1.metadata["removed_by"] == "gopher_quality" and r1.metadata["reason"] == "symbol_ratio"
    project.refresh_from_db()
    assert project.source_job_id == job.pk


@pytest.mark.django_db
def test_only_a_completed_job_feeds_only_a_label_project(make_project, tmp_path):
    job = _completed_job(tmp_path)
    with pytest.raises(ValidationError):
        items_from_job(make_project("likert"), job, kept=True)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    job.refresh_from_db()
    with pytest.raises(ValidationError):
        items_from_job(make_project("label"), job, kept=True)
