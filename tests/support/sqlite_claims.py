"""Annotators claiming and submitting at once on the embedded SQLite default; run as a script in a fresh process.

    VAR_DIR=/tmp/x python tests/support/sqlite_claims.py <annotators> <items> <overlap>

Migrates the embedded database under VAR_DIR, makes a Likert project, then starts one thread per annotator, each
claiming, submitting (and sometimes skipping) through the services until nothing is left for them, then lets each
take, one after the other, what skips gave back meanwhile. Prints one
JSON object: what the threads did, the errors they met, and the database's own counts afterwards (items over
their overlap, (item, annotator) pairs leased twice, items whose counters disagree with their rows).
"""

from __future__ import annotations

import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main(annotators: int, items: int, overlap: int) -> dict[str, Any]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count

    from accounts.roles import ANNOTATOR
    from accounts.services import user_ensure
    from annotation.models import Annotation, Assignment, Item
    from annotation.services.assignments import assignment_claim_next, assignment_skip, assignment_submit
    from tests.support.annotation_projects import project_with_items

    call_command("migrate", verbosity=0)
    people = [user_ensure(f"sq{n}", "sqlite-claims-1", role=ANNOTATOR) for n in range(annotators)]
    project = project_with_items(
        "likert", [{"id": f"i{n}", "prompt": f"Question {n}", "responses": [{"id": "a", "text": f"Answer {n}"}]}
                   for n in range(items)], members=tuple(people), overlap=overlap, max_overlap=overlap)
    barrier = threading.Barrier(annotators)
    done = {"submitted": 0, "skipped": 0}
    errors: list[str] = []
    lock = threading.Lock()

    def drain(index: int) -> None:
        """Claim and answer until nothing is left for this person (skipping some items, by a fixed rule)."""
        person = people[index]
        while (assignment := assignment_claim_next(person, project)) is not None:
            if (assignment.item_id + index) % 7 == 0:
                assignment_skip(person, assignment.pk, reason="not sure")
                key = "skipped"
            else:
                ratings = {"helpfulness": 4, "truthfulness": 5, "harmlessness": 5}
                assignment_submit(person, assignment.pk, {"ratings": ratings}, active_seconds=3.0)
                key = "submitted"
            with lock:
                done[key] += 1

    def work(index: int) -> None:
        barrier.wait()
        try:
            drain(index)
        except Exception as error:  # every error is reported, none should happen
            with lock:
                errors.append(f"{type(error).__name__}: {error}")
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(annotators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # A person who found nothing free stopped while another still held an item they later skipped: one pass each,
    # one after the other, takes what such skips gave back, so every item ends with its overlap.
    for index in range(annotators):
        drain(index)

    live = ("leased", "submitted")
    over = (Item.objects.filter(project=project)
            .annotate(n=Count("assignments", filter=django.db.models.Q(assignments__status__in=live)))
            .filter(n__gt=overlap).count())
    twice = (Assignment.objects.filter(project=project).values("item_id", "annotator_id")
             .annotate(n=Count("id")).filter(n__gt=1).count())
    counters = sum(
        1 for item in Item.objects.filter(project=project).annotate(
            live=Count("assignments", filter=django.db.models.Q(assignments__status__in=live)),
            submitted=Count("assignments", filter=django.db.models.Q(assignments__status="submitted")))
        if item.assigned_count != item.live or item.submitted_count != item.submitted)
    return {**done, "errors": errors, "annotations": Annotation.objects.filter(project=project).count(),
            "over_overlap": over, "leased_twice": twice, "counters_off": counters,
            "vendor": connection.vendor}


if __name__ == "__main__":
    print(json.dumps(main(*(int(arg) for arg in sys.argv[1:4]))))
