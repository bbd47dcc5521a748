"""Exports from the embedded SQLite default; run as a script in a fresh process.

    VAR_DIR=/tmp/x python tests/support/sqlite_exports.py <items per block>

Migrates the embedded database under VAR_DIR, makes a ranking project (one item with a stored consensus that
reverses its annotators), a response project (one answer edited by a reviewer, one rejected) and a Likert project
(answers to two prompts imported apart), exports them (reward, sft, reward) through the service the task and the
command call, with `ITEM_BLOCK` set to the given size so that items come in several blocks, and prints one JSON
object: the database's vendor and, per export, its status, error, rows and removal counts.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main(block: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    import exports.sources
    from accounts.roles import TRAINER
    from accounts.services import user_ensure
    from annotation.models import Annotation
    from annotation.models_quality import ItemConsensus, Review
    from exports.models import Export
    from exports.services import export_create, export_run
    from tests.support.annotation_projects import project_with_items
    from tests.support.export_projects import PASSWORD, annotate, annotators, ranking_project, response_project

    call_command("migrate", verbosity=0)
    exports.sources.ITEM_BLOCK = block
    trainer = user_ensure("sqlite-trainer", PASSWORD, role=TRAINER)

    ranking = ranking_project([f"Ranking prompt {n}" for n in range(5)])
    reversed_item = ranking.items.order_by("id").first()
    assert reversed_item is not None
    ItemConsensus.objects.create(item=reversed_item, project=ranking, agreement=0.9, n_annotations=2,
                                 computed_at="2026-01-01T00:00:00Z",
                                 value={"scores": {"r1": 0.0, "r2": 0.0, "r3": 0.0, "r4": 2.0}})

    responses = response_project([f"Response prompt {n}" for n in range(4)], lambda prompt: f"Answer to {prompt}")
    first, second = Annotation.objects.filter(project=responses).order_by("item_id")[:2]
    Annotation.objects.filter(pk=first.pk).update(status=Annotation.STATUS_REJECTED)
    Review.objects.create(annotation=second, action=Review.ACTION_EDIT, payload={"response": "The reviewer's answer"})
    Annotation.objects.filter(pk=second.pk).update(status=Annotation.STATUS_EDITED)

    prompts = ["Explain tides.", "Explain rain.", "Explain tides.", "Explain rain."]
    likert = project_with_items("likert", [{"id": f"l{n}", "prompt": prompt, "responses": [
        {"id": "r", "text": f"answer {n}"}]} for n, prompt in enumerate(prompts)])
    rating = {"l0": 5, "l1": 4, "l2": 2, "l3": 1}
    annotate(likert, annotators(1, prefix="rater"),
             lambda assignment, _: {"ratings": {c: rating[assignment.item.external_id] for c in likert.criteria}})

    outcome: dict[str, Any] = {"vendor": connection.vendor, "reversed_prompt": reversed_item.prompt}
    for name, fmt, project in (("ranking", "reward", ranking), ("responses", "sft", responses),
                               ("likert", "reward", likert)):
        export = export_run(export_create(trainer, format=fmt, projects=[project.pk], options={"test_fraction": 0.0},
                                          enqueue=False).pk)
        rows = []
        if export.status == Export.Status.COMPLETED:
            for file in export.card["splits"]["train"]["files"]["jsonl"]:
                rows += [json.loads(line) for line in (Path(export.path) / file).read_text("utf-8").splitlines()]
        outcome[name] = {"status": export.status, "error": export.error, "rows": rows,
                         "removed": export.card.get("removed") if export.card else None}
    return outcome


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1])), ensure_ascii=False))
