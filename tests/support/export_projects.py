"""Annotated projects for export tests: projects made through the annotation services, annotated by claim + submit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django.contrib.auth.models import AbstractUser

from accounts.roles import ANNOTATOR
from accounts.services import user_ensure
from annotation.models import Assignment, Project
from annotation.services.assignments import assignment_claim_next, assignment_submit
from annotation.services.members import membership_add
from tests.support.annotation_projects import project_with_items

PASSWORD = "export-test-pass-1"
Payload = Callable[[Assignment, int], dict[str, Any]]


def annotators(count: int, prefix: str = "annotator") -> list[AbstractUser]:
    return [user_ensure(f"{prefix}{n}", PASSWORD, role=ANNOTATOR) for n in range(count)]


def annotate(project: Project, people: Sequence[AbstractUser], payload: Payload) -> int:
    """Have each person claim and submit every item they get; `payload(assignment, person index)`. Returns count."""
    submitted = 0
    for index, person in enumerate(people):
        membership_add(project, person)
        while (assignment := assignment_claim_next(person, project)) is not None:
            assignment_submit(person, assignment.pk, payload(assignment, index), active_seconds=12.0)
            submitted += 1
    return submitted


def ranking_project(prompts: Sequence[str], *, overlap: int = 2, name: str = "ranking") -> Project:
    """A ranking project of four responses per prompt, ranked r1 > r2 = r3 > r4 by everyone."""
    items = [{"id": f"p{n}", "prompt": prompt,
              "responses": [{"id": f"r{k}", "text": f"Answer {k} to: {prompt}"} for k in range(1, 5)]}
             for n, prompt in enumerate(prompts)]
    project = project_with_items("ranking", items, name=name, overlap=overlap, max_overlap=overlap)
    annotate(project, annotators(overlap, prefix=f"{name}-ranker"),
             lambda assignment, _: {"ranking": [["r1"], ["r2", "r3"], ["r4"]], "all_bad": False})
    return project


def response_project(prompts: Sequence[str], answer: Callable[[str], str], *, name: str = "responses",
                     system_prompt: str = "") -> Project:
    items = [{"id": f"w{n}", "prompt": prompt} for n, prompt in enumerate(prompts)]
    project = project_with_items("response", items, name=name, system_prompt=system_prompt)
    annotate(project, annotators(1, prefix=f"{name}-writer"),
             lambda assignment, _: {"response": answer(assignment.item.prompt)})
    return project
