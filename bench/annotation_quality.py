"""Speed of the quality dashboard and leaderboard endpoints on a project of 100,000 annotations.

    .venv/bin/python bench/annotation_quality.py [--annotations 100000] [--rounds 30] [--write-results]

What it does:
- PostgreSQL: a fresh database (`annotation_quality_bench` on the server of BENCH_POSTGRES, default
  postgres://postgres@127.0.0.1:5432), migrated.
- One pairwise project: items with two responses written by 8 models of planted strengths, overlap 3, 200
  annotators (a few fast, position-biased or length-biased), 2% gold items, annotations spread over 14 days;
  written with bulk inserts exactly as submits leave them (assignment, annotation, item counters).
- `project_quality_refresh` once (the Celery task's work: read every annotation, agreement, gold, flags, trust,
  consensus per item, Bradley-Terry with 200 bootstrap rounds, store): its wall time is reported.
- Then, interleaved round after round, each measured on the whole request through Django's handler (URL routing,
  token authentication, middleware, DRF, JSON rendering; no network):
  `GET /api/v1/projects/{id}/quality/` and `GET /api/v1/projects/{id}/leaderboard/`, and, as the baseline, the
  same figures computed on request instead of read from the stored snapshot (`project_judgements` +
  `analyse_project` without the per-item consensus): what a dashboard without stored figures would cost.
- Reported: p50 / p95 wall milliseconds of each, the ratio of the baseline's median to the endpoints', and the
  issue's target (under 300 ms for 100,000 annotations).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, machine, replace_section

DATABASE = "annotation_quality_bench"
SERVER_URL = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
MODELS = {f"model-{i}": strength for i, strength in enumerate([1.0, 0.7, 0.4, 0.2, 0.0, -0.3, -0.6, -1.0])}
ANNOTATORS = 200
OVERLAP = 3
TARGET_MS = 300.0


def _database_prepare() -> str:
    import psycopg

    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")
    return f"{SERVER_URL}/{DATABASE}"


def _django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("VAR_DIR", str(ROOT / "var" / "bench"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed(annotations: int, seed: int = 0) -> Any:
    """The project, its annotators and `annotations` annotations (bulk inserts). Returns the project."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from annotation.models import Annotation, Assignment, Item, Membership, Project

    rng = random.Random(seed)
    User = get_user_model()
    project = Project.objects.create(name="quality bench", kind="pairwise", overlap=OVERLAP, max_overlap=OVERLAP,
                                     gold_rate=0.02, agreement_threshold=0.5)
    users = User.objects.bulk_create([User(username=f"bench{i}", password="!") for i in range(ANNOTATORS)])
    Membership.objects.bulk_create([Membership(project=project, user=user) for user in users])
    behaviour = {user.pk: "careful" for user in users}
    for user in users[:6]:
        behaviour[user.pk] = "fast"
    for user in users[6:10]:
        behaviour[user.pk] = "first"
    for user in users[10:14]:
        behaviour[user.pk] = "longer"

    n_items = math.ceil(annotations / OVERLAP)
    names = list(MODELS)
    items = []
    for i in range(n_items):
        gold = i % 50 == 0
        first, second = rng.sample(names, 2)
        while gold and abs(MODELS[first] - MODELS[second]) < 1.2:  # gold answers are clear-cut
            first, second = rng.sample(names, 2)
        responses = [{"id": "r1", "text": "x" * rng.randint(40, 900), "model": first},
                     {"id": "r2", "text": "y" * rng.randint(40, 900), "model": second}]
        winner = "r1" if MODELS[first] >= MODELS[second] else "r2"
        items.append(Item(project=project, external_id=f"b{i}", prompt=f"Prompt {i}", responses=responses,
                          is_gold=gold, expected={"winner": winner} if gold else None, target_overlap=OVERLAP,
                          assigned_count=OVERLAP, submitted_count=OVERLAP))
    items = Item.objects.bulk_create(items, batch_size=5000)

    start = timezone.now() - timedelta(days=14)
    span = 14 * 24 * 3600
    assignments, payloads = [], []
    created = 0
    for index, item in enumerate(items):
        for slot, user in enumerate(rng.sample(users, OVERLAP)):
            if created >= annotations:
                break
            order = ["r1", "r2"] if rng.random() < 0.5 else ["r2", "r1"]
            kind = behaviour[user.pk]
            lengths = {r["id"]: len(r["text"]) for r in item.responses}
            models = {r["id"]: r["model"] for r in item.responses}
            if kind == "first":
                choice = "a"
            elif kind == "longer":
                choice = "a" if lengths[order[0]] > lengths[order[1]] else "b"
            else:
                gap = MODELS[models[order[0]]] - MODELS[models[order[1]]]
                draw = rng.random()
                tie = 0.1
                p_first = (1 - tie) / (1 + math.exp(-gap))
                choice = "a" if draw < p_first else ("tie" if draw < p_first + tie else "b")
            seconds = rng.uniform(1.0, 3.0) if kind == "fast" else rng.lognormvariate(3.4, 0.5)
            when = start + timedelta(seconds=span * index / len(items) + rng.uniform(0, 600))
            assignments.append(Assignment(item=item, project=project, annotator=user, status="submitted", slot=slot,
                                          leased_at=when, expires_at=when + timedelta(minutes=10),
                                          display_order=order, active_seconds=seconds, submitted_at=when))
            payloads.append(({"choice": choice, "strength": None if choice == "tie" else 2}, when))
            created += 1
    assignments = Assignment.objects.bulk_create(assignments, batch_size=5000)
    Annotation.objects.bulk_create(
        [Annotation(assignment=a, item_id=a.item_id, project=project, annotator_id=a.annotator_id, payload=payload,
                    active_seconds=a.active_seconds, display_order=a.display_order, created_at=when)
         for a, (payload, when) in zip(assignments, payloads, strict=True)],
        batch_size=5000,
    )
    # auto_now_add overrides created_at on insert: spread them over the 14 days as submits would have.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE annotation_annotation AS an SET created_at = a.submitted_at FROM annotation_assignment AS a "
            "WHERE an.assignment_id = a.id AND an.project_id = %s", [project.pk])
        cursor.execute("ANALYZE")
    return project


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--annotations", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--baseline-rounds", type=int, default=3,
                        help="rounds of the on-request baseline (each takes seconds)")
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args()

    _django(_database_prepare())
    from django.test import Client
    from django.urls import get_resolver

    from accounts.services import token_issue, user_ensure
    from annotation.quality.analysis import analyse_project
    from annotation.services.quality import (
        params_of,
        project_judgements,
        project_quality_refresh,
        quality_settings_get,
        scheme_of,
    )

    assert get_resolver().url_patterns  # import every URLconf now: fail before the long seeding, not after
    started = time.perf_counter()
    project = _seed(args.annotations)
    seed_seconds = time.perf_counter() - started
    print(f"seeded {args.annotations} annotations in {seed_seconds:.0f} s", file=sys.stderr, flush=True)
    manager = user_ensure("bench-manager", "bench-password", role="manager")
    token = token_issue(manager)
    client = Client(HTTP_AUTHORIZATION=f"Token {token}")

    started = time.perf_counter()
    snapshot = project_quality_refresh(project.pk)
    refresh_seconds = time.perf_counter() - started
    assert snapshot is not None
    print(f"refresh took {refresh_seconds:.1f} s", file=sys.stderr, flush=True)

    def request(path: str) -> float:
        began = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.status_code
        return elapsed

    def on_request() -> float:
        began = time.perf_counter()
        settings = quality_settings_get(project)
        judgements, items, _ = project_judgements(project)
        analyse_project(scheme_of(project, settings), judgements, items, params_of(settings), with_items=False)
        return (time.perf_counter() - began) * 1000

    quality_url = f"/api/v1/projects/{project.pk}/quality/"
    board_url = f"/api/v1/projects/{project.pk}/leaderboard/"
    request(quality_url), request(board_url)  # warm up: imports, connection, caches
    times: dict[str, list[float]] = {"quality": [], "leaderboard": [], "baseline": []}
    for round_number in range(args.rounds):
        times["quality"].append(request(quality_url))
        times["leaderboard"].append(request(board_url))
        if round_number < args.baseline_rounds:
            times["baseline"].append(on_request())

    body = client.get(quality_url).json()
    board = client.get(board_url).json()
    flagged = sum(1 for row in body["annotators"] if row["flags"])
    by_flag: dict[str, int] = {}
    for row in body["annotators"]:
        for flag in row["flags"]:
            by_flag[flag] = by_flag.get(flag, 0) + 1
    p50 = {name: statistics.median(values) for name, values in times.items()}
    p95 = {name: _percentile(values, 0.95) for name, values in times.items()}
    lines = [
        "## Annotation quality dashboard",
        "",
        f"Measured on {machine()}, PostgreSQL 15, by `bench/annotation_quality.py` "
        f"({args.rounds} interleaved rounds; the baseline {args.baseline_rounds}).",
        "",
        f"Project: pairwise, {snapshot.annotations_count:,} annotations by {ANNOTATORS} annotators on "
        f"{body['counts']['items']:,} items (overlap {OVERLAP}, {body['counts']['gold']:,} gold), 8 models. "
        f"Seeding took {seed_seconds:.0f} s; one `project_quality_refresh` (the Celery task: read, analyse, store "
        f"consensus for every item, 200 bootstrap rounds) took {refresh_seconds:.1f} s wall.",
        "",
        "| request | p50 ms | p95 ms | target |",
        "| --- | ---: | ---: | --- |",
        f"| `GET /api/v1/projects/{{id}}/quality/` | {p50['quality']:.1f} | {p95['quality']:.1f} "
        f"| < {TARGET_MS:.0f} ms |",
        f"| `GET /api/v1/projects/{{id}}/leaderboard/` | {p50['leaderboard']:.1f} | {p95['leaderboard']:.1f} "
        f"| < {TARGET_MS:.0f} ms |",
        f"| baseline: the same figures computed on request | {p50['baseline']:.0f} | {p95['baseline']:.0f} | |",
        "",
        f"Ratio, baseline median / endpoint median: {p50['baseline'] / p50['quality']:.0f}x (quality), "
        f"{p50['baseline'] / p50['leaderboard']:.0f}x (leaderboard). The endpoints read the stored snapshot and "
        "per-annotator rows; live, they count only the annotations that arrived since the last refresh.",
        "",
        f"Sanity: headline {body['headline']['metric']} = {body['headline']['value']:.3f} on "
        f"{body['headline']['n_items']:,} items; {flagged} of {ANNOTATORS} annotators flagged "
        f"({', '.join(f'{flag} {count}' for flag, count in sorted(by_flag.items()))}; simulated: 6 fast, 4 always "
        f"first, 4 always longer; careful annotators err on gold at random); "
        f"leaderboard order {', '.join(m['model'] for m in board['models'])} (planted: "
        f"{', '.join(MODELS)}).",
    ]
    section = "\n".join(lines)
    print(section)
    if args.write_results:
        replace_section(section)


if __name__ == "__main__":
    main()
