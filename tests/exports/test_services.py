"""Exports from the database: create checks everything first, run streams projects into versioned datasets."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import datasets
import pytest
from django.db import connection

from accounts.roles import ANNOTATOR, TRAINER
from accounts.services import user_ensure
from annotation.models import Annotation
from annotation.models_quality import AnnotatorQuality, ItemConsensus, Review
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from exports.formats import ExportSpec
from exports.models import Export
from exports.services import export_claim, export_create, export_run
from exports.sources import item_parts, project_items
from tests.support.annotation_projects import project_with_items
from tests.support.export_projects import PASSWORD, ranking_project, response_project

pytestmark = pytest.mark.django_db

PROMPTS = ["Explain how tides work.", "请解释潮汐是怎么形成的。", "Name three rivers in Europe.",
           "Write a haiku about rain.", "What is a prime number?", "How do I boil rice?"]


@pytest.fixture
def trainer() -> Any:
    return user_ensure("trainer", PASSWORD, role=TRAINER)


def _rows(export: Export, split: str = "train") -> list[dict[str, Any]]:
    rows = []
    for name in export.card["splits"][split]["files"]["jsonl"]:
        rows += [json.loads(line) for line in (Path(export.path) / name).read_text(encoding="utf-8").splitlines()]
    return rows


def test_a_trainer_exports_a_ranking_project_to_reward_pairs_in_storage(trainer: Any, tmp_path: Path) -> None:
    # given a ranking project of six prompts, two annotators each ranking r1 > r2 = r3 > r4
    project = ranking_project(PROMPTS)
    # when a trainer exports it
    export = export_create(trainer, format="reward", projects=[project.pk], options={"test_fraction": 0.3},
                           enqueue=False)
    export = export_run(export.pk)
    # then it is completed, versioned under STORAGE_ROOT, with 5 pairs a prompt (one tie) split by prompt
    assert export.status == Export.Status.COMPLETED, export.error
    assert export.version == 1 and export.path.endswith(f"exports/reward-projects-{project.pk}/v1")
    train, test = _rows(export, "train"), _rows(export, "test")
    assert len(train) + len(test) == 6 * 5
    assert {r["prompt"][-1]["content"] for r in train}.isdisjoint({r["prompt"][-1]["content"] for r in test})
    assert export.card["sources"]["annotators"] == 2 and export.card["sources"]["annotations"] == 12
    assert export.card["agreement"]["items"] == 6 and export.card["agreement"]["mean"] == 1.0
    assert export.content_hash == export.card["content_hash"] and len(export.content_hash) == 64
    assert "export_dataset --format reward --project" in export.card["command"]
    loaded = datasets.load_dataset("parquet", data_files=str(Path(export.path) / "data" / "train-*.parquet"),
                                   cache_dir=str(tmp_path / "cache"))["train"]
    assert loaded.num_rows == len(train)


def test_the_same_project_exported_twice_gives_two_versions_with_one_content_hash(trainer: Any) -> None:
    project = ranking_project(PROMPTS[:3])
    first = export_run(export_create(trainer, format="dpo", projects=[project.pk], enqueue=False).pk)
    second = export_run(export_create(trainer, format="dpo", projects=[project.pk], enqueue=False).pk)
    assert (first.version, second.version) == (1, 2)
    assert first.path != second.path
    assert first.content_hash == second.content_hash


def test_a_pii_string_typed_into_a_response_never_reaches_the_export(trainer: Any) -> None:
    # given a writer who typed an e-mail address and a mobile number into an answer (the project only warns)
    project = response_project(PROMPTS[:2], lambda prompt: f"Mail zhang.wei@corp-mail.cn or call 13912345678 about "
                                                           f"{prompt}")
    export = export_run(export_create(trainer, format="sft", projects=[project.pk],
                                      options={"test_fraction": 0.0}, enqueue=False).pk)
    # then no file of the export holds either value
    for path in Path(export.path).rglob("*"):
        if path.is_file() and path.suffix in (".jsonl", ".json", ".md"):
            text = path.read_text(encoding="utf-8")
            assert "zhang.wei@corp-mail.cn" not in text and "13912345678" not in text
    assert all("<EMAIL>" in row["messages"][-1]["content"] for row in _rows(export))
    assert export.card["pii"]["rows_redacted"] == 2


def test_rejected_annotations_are_left_out_and_a_reviewers_edit_replaces_the_original(trainer: Any) -> None:
    project = response_project(PROMPTS[:3], lambda prompt: f"Original answer to {prompt}")
    first, second, third = Annotation.objects.filter(project=project).order_by("item_id")
    Annotation.objects.filter(pk=first.pk).update(status=Annotation.STATUS_REJECTED)
    Review.objects.create(annotation=second, action=Review.ACTION_EDIT, payload={"response": "The reviewer's answer"})
    Annotation.objects.filter(pk=second.pk).update(status=Annotation.STATUS_EDITED)
    export = export_run(export_create(trainer, format="sft", projects=[project.pk],
                                      options={"test_fraction": 0.0}, enqueue=False).pk)
    answers = sorted(row["messages"][-1]["content"] for row in _rows(export))
    assert answers == sorted(["The reviewer's answer", f"Original answer to {third.item.prompt}"])
    assert export.card["removed"] == {"rejected_annotations": 1}


def test_stored_consensus_and_trust_from_quality_control_are_used(trainer: Any) -> None:
    # given a ranking project whose stored consensus reverses what the annotators said on one item
    project = ranking_project(PROMPTS[:2])
    item = project.items.order_by("id").first()
    ItemConsensus.objects.create(item=item, project=project, value={"scores": {"r1": 0.0, "r2": 0.0, "r3": 0.0,
                                                                               "r4": 2.0}},
                                 agreement=0.9, n_annotations=2, computed_at="2026-01-01T00:00:00Z")
    export = export_run(export_create(trainer, format="reward", projects=[project.pk],
                                      options={"test_fraction": 0.0}, enqueue=False).pk)
    pairs = [(r["chosen"][0]["content"][:8], r["rejected"][0]["content"][:8]) for r in _rows(export)
             if r["prompt"][-1]["content"] == item.prompt]
    assert sorted(pairs) == [("Answer 4", "Answer 1"), ("Answer 4", "Answer 2"), ("Answer 4", "Answer 3")]
    # and with a trust bar nobody's trust reaches, everything is left out and counted
    people = Annotation.objects.filter(project=project).values_list("annotator_id", flat=True).distinct()
    for person in people:
        AnnotatorQuality.objects.update_or_create(project=project, annotator_id=person,
                                                  defaults={"trust": 0.2, "computed_at": "2026-01-01T00:00:00Z"})
    strict = export_run(export_create(trainer, format="reward", projects=[project.pk],
                                      options={"test_fraction": 0.0, "min_trust": 0.5}, enqueue=False).pk)
    assert strict.card["splits"]["train"]["rows"] == 0
    assert strict.card["removed"]["low_trust_annotations"] == 4


def test_bad_requests_are_refused_before_anything_is_stored(trainer: Any, tmp_path: Path) -> None:
    labels = project_with_items("label", [{"id": "d", "prompt": "a document"}])
    ranking = project_with_items("ranking", [{"id": "x", "prompt": "p", "responses": [
        {"id": "a", "text": "A"}, {"id": "b", "text": "B"}]}])
    with pytest.raises(ValidationError, match="label project"):
        export_create(trainer, format="reward", projects=[labels.pk], enqueue=False)
    with pytest.raises(ValidationError, match="sft exports come from"):
        export_create(trainer, format="sft", projects=[ranking.pk], enqueue=False)
    with pytest.raises(NotFound, match="no such project: 999"):
        export_create(trainer, format="reward", projects=[999], enqueue=False)
    with pytest.raises(ValidationError, match="min_agreement"):
        export_create(trainer, format="reward", projects=[ranking.pk], options={"min_agreement": 2}, enqueue=False)
    with pytest.raises(ValidationError, match="unknown export option"):
        export_create(trainer, format="reward", projects=[ranking.pk], options={"colour": "red"}, enqueue=False)
    with pytest.raises(ValidationError, match="evaluation file not found"):
        export_create(trainer, format="reward", projects=[ranking.pk],
                      options={"eval_paths": [str(tmp_path / "missing.jsonl")]}, enqueue=False)
    with pytest.raises(ValidationError, match="exactly one source"):
        export_create(trainer, format="reward", enqueue=False)
    with pytest.raises(PermissionDenied):
        export_create(user_ensure("someone", PASSWORD, role=ANNOTATOR), format="reward", projects=[ranking.pk])
    assert Export.objects.count() == 0


def test_an_output_folder_holding_an_export_is_refused(trainer: Any, tmp_path: Path) -> None:
    project = ranking_project(PROMPTS[:1])
    out = str(tmp_path / "out")
    export_run(export_create(trainer, format="reward", projects=[project.pk], output=out, enqueue=False).pk)
    with pytest.raises(Conflict):
        export_create(trainer, format="reward", projects=[project.pk], output=out, enqueue=False)


def test_running_a_finished_export_again_changes_nothing(trainer: Any) -> None:
    project = ranking_project(PROMPTS[:2])
    export = export_run(export_create(trainer, format="reward", projects=[project.pk], enqueue=False).pk)
    mtimes = {p: p.stat().st_mtime_ns for p in Path(export.path).rglob("*")}
    again = export_run(export.pk)
    assert again.status == Export.Status.COMPLETED and again.attempts == 1
    assert {p: p.stat().st_mtime_ns for p in Path(export.path).rglob("*")} == mtimes


@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_one_export_at_once_get_it_once() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (make test sets DATABASE_URL)")
    trainer = user_ensure("trainer", PASSWORD, role=TRAINER)
    project = ranking_project(PROMPTS[:1])
    export = export_create(trainer, format="reward", projects=[project.pk], enqueue=False)
    barrier = threading.Barrier(8)
    claimed: list[bool] = []

    def claim(n: int) -> None:
        barrier.wait()
        try:
            claimed.append(export_claim(export.pk, f"worker-{n}") is not None)
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert claimed.count(True) == 1


def test_likert_items_rating_answers_to_one_prompt_pair_up_even_when_imported_apart(trainer: Any) -> None:
    # given Likert items imported as A, B, A, B (answers to two prompts, interleaved), rated 5, 4, 2, 1
    from tests.support.export_projects import annotate, annotators

    prompts = ["Explain tides.", "Explain rain.", "Explain tides.", "Explain rain."]
    items = [{"id": f"l{n}", "prompt": p, "responses": [{"id": "r", "text": f"answer {n}"}]}
             for n, p in enumerate(prompts)]
    project = project_with_items("likert", items)
    rating = {"l0": 5, "l1": 4, "l2": 2, "l3": 1}
    annotate(project, annotators(1, prefix="rater"),
             lambda assignment, _: {"ratings": {c: rating[assignment.item.external_id] for c in project.criteria}})
    export = export_run(export_create(trainer, format="reward", projects=[project.pk],
                                      options={"test_fraction": 0.0}, enqueue=False).pk)
    # then each prompt's two answers make one pair, the better one chosen, margin = the rating difference
    pairs = sorted((r["prompt"][-1]["content"], r["chosen"][0]["content"], r["rejected"][0]["content"], r["margin"])
                   for r in _rows(export))
    assert pairs == [("Explain rain.", "answer 1", "answer 3", 3.0), ("Explain tides.", "answer 0", "answer 2", 3.0)]


def test_an_evaluation_file_outside_the_allowed_roots_is_refused(trainer: Any, tmp_path: Path, settings: Any) -> None:
    # given allowed roots that hold one evaluation file, and a file of the server elsewhere
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    inside = allowed / "eval.jsonl"
    inside.write_text('{"text": "Explain how tides work."}\n', encoding="utf-8")
    outside = tmp_path / "elsewhere" / "secrets.jsonl"
    outside.parent.mkdir()
    outside.write_text('{"text": "SECRET_KEY=abc"}\n', encoding="utf-8")
    settings.CURATION_ALLOWED_ROOTS = [str(allowed)]
    project = ranking_project(PROMPTS[:2])
    # when a trainer names the outside file, or a link inside the allowed root that leads to it
    link = allowed / "link.jsonl"
    link.symlink_to(outside)
    for path in (outside, link, allowed / ".." / "elsewhere" / "secrets.jsonl"):
        with pytest.raises(PermissionDenied, match="outside the allowed roots") as refused:
            export_create(trainer, format="reward", projects=[project.pk], options={"eval_paths": [str(path)]},
                          enqueue=False)
        assert refused.value.field == "eval_paths"
    assert Export.objects.count() == 0
    # then the file inside is accepted, and checked again when the export runs: roots narrowed since fail it
    export = export_create(trainer, format="reward", projects=[project.pk], options={"eval_paths": [str(inside)]},
                           enqueue=False)
    settings.CURATION_ALLOWED_ROOTS = [str(tmp_path / "other")]
    failed = export_run(export.pk)
    assert failed.status == Export.Status.FAILED and "outside the allowed roots" in failed.error


@pytest.mark.django_db(transaction=True)
def test_an_export_built_by_several_processes_equals_the_one_built_by_one(settings: Any) -> None:
    # given two ranking projects (items of both land in several parts)
    trainer = user_ensure("trainer", PASSWORD, role=TRAINER)
    first = ranking_project([f"{prompt} ({n})" for n in range(4) for prompt in PROMPTS], name="first")
    second = ranking_project(PROMPTS, name="second")
    settings.EXPORT_PARALLEL_MIN_ITEMS = 1
    exports = {}
    for processes in (1, 3):
        settings.EXPORT_PROCESSES = processes
        export = export_create(trainer, format="reward", projects=[first.pk, second.pk], enqueue=False,
                               options={"test_fraction": 0.2})
        # when it is exported in one process and in three
        exports[processes] = export_run(export.pk)
    # then both are complete with the same rows, hash and counts
    one, three = exports[1], exports[3]
    assert one.status == three.status == Export.Status.COMPLETED, (one.error, three.error)
    assert one.content_hash == three.content_hash
    assert _rows(one) == _rows(three) and _rows(one, "test") == _rows(three, "test")
    assert one.card["sources"] == three.card["sources"] and one.card["agreement"] == three.card["agreement"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("block", [2, 3, 2000])
def test_item_parts_cover_every_item_once_in_export_order(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # given two projects of 7 and 5 items, read `block` items at a time
    first = project_with_items("ranking", [{"id": f"a{n}", "prompt": f"a{n}", "responses": [
        {"id": "r1", "text": "x"}, {"id": "r2", "text": "y"}]} for n in range(7)], name="a")
    second = project_with_items("ranking", [{"id": f"b{n}", "prompt": f"b{n}", "responses": [
        {"id": "r1", "text": "x"}, {"id": "r2", "text": "y"}]} for n in range(5)], name="b")
    monkeypatch.setattr("exports.sources.ITEM_BLOCK", block)
    spec = ExportSpec(format="reward")
    whole = [item.item for item in project_items([first, second], spec)]
    assert whole == [f"a{n}" for n in range(7)] + [f"b{n}" for n in range(5)]
    for parts in (1, 2, 3, 4, 12, 20):
        # when the items are cut into runs
        runs = item_parts([first, second], parts)
        # then the runs, read one after the other, give every item once, in order, and are about equal in size
        read = [[item.item for item in project_items([first, second], spec, run)] for run in runs]
        assert [item for run in read for item in run] == whole
        assert len(runs) == min(parts, 12)
        assert max(map(len, read)) - min(map(len, read)) <= 1


def test_an_export_inside_an_open_transaction_is_built_in_this_process(trainer: Any, settings: Any) -> None:
    # given a project whose rows are not committed yet (this test runs inside a transaction) and parts allowed
    project = ranking_project(PROMPTS)
    settings.EXPORT_PARALLEL_MIN_ITEMS, settings.EXPORT_PROCESSES = 1, 3
    # when it is exported, then it is built here (parts in other processes would not see the rows): all of them
    export = export_run(export_create(trainer, format="reward", projects=[project.pk], enqueue=False).pk)
    assert export.status == Export.Status.COMPLETED, export.error
    assert export.card["sources"]["items"] == len(PROMPTS)
    assert sum(split["rows"] for split in export.card["splits"].values()) == len(PROMPTS) * 5
